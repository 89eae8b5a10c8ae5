/**
 * Admin access prepared from the shell (install-service, passwd --reset): auth.json in the data folder, owned
 * by the folder's owner (the service user) when run as root, so the service can read it.
 */
import { chown, stat } from 'node:fs/promises';
import path from 'node:path';
import { AuthStore } from '../store/auth.js';

async function handToOwner(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = await stat(dataDir);
  await chown(path.join(dataDir, 'auth.json'), uid, gid);
}

/** With a password: sets it (when none is set yet). Without: makes sure a claim code exists. Returns what to tell the user. */
export async function prepareAdmin(dataDir: string, password?: string): Promise<{ claimCode: string | null; passwordSet: boolean; message: string }> {
  const auth = await AuthStore.open({ dataDir, sessionHours: 1 });
  if (password !== undefined && !auth.hasPassword()) await auth.setInitialPassword(password);
  await auth.flush();
  await handToOwner(dataDir);
  const claimCode = auth.pendingClaimCode();
  if (claimCode)
    return {
      claimCode,
      passwordSet: false,
      message: `Admin page claim code: ${claimCode} (open the page and enter it to choose the admin password; it is also in the service log until used)`,
    };
  return {
    claimCode: null,
    passwordSet: true,
    message: password !== undefined ? 'Admin password set from standard input.' : 'The admin password is already set.',
  };
}

/** Forgets the password, sessions and tokens; returns the new claim code. */
export async function resetAdmin(dataDir: string, fixedPasswordHash?: string): Promise<string> {
  // Never reads the old file, so a broken one (kept aside) cannot stand in the way of the recovery.
  const { claimCode } = await AuthStore.reset({ dataDir, sessionHours: 1, fixedPasswordHash });
  await handToOwner(dataDir);
  return claimCode;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
