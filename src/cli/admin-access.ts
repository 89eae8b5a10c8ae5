/**
 * Admin access changed from the shell (install-service, passwd --reset). While `facegate run` uses the data
 * directory, the change is handed to it over its local socket, so it takes effect at once (sessions and tokens
 * end, the page asks for the new claim code); otherwise this process makes it under the data-dir lock, in
 * auth.json owned by the folder's owner (the service user) when run as root, so the service can read it.
 */
import { chown, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AuthStore } from '../store/auth.js';
import { DataDirLock, LockedError, lockHolder } from '../store/lock.js';
import { applianceCall, LOCK_WAIT_MS } from '../local/session.js';
import type { AdminPort } from '../local/api.js';

/** Where the change was made: by the running appliance, or here under the lock. */
export type Via = 'appliance' | 'local';

async function handToOwner(dataDir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = await stat(dataDir);
  await chown(path.join(dataDir, 'auth.json'), uid, gid);
}

/** Runs `job` against the admin account: in the running appliance when there is one, else here under the lock. */
async function withAdmin<T>(dataDir: string, role: string, job: (admin: AdminPort) => Promise<T>, fixedPasswordHash?: string): Promise<{ out: T; via: Via }> {
  const remote = async (holder: NonNullable<Awaited<ReturnType<typeof lockHolder>>>) => {
    const call = applianceCall({ dataDir }, holder);
    const admin: AdminPort = {
      reset: async () => (await call<{ claimCode: string }>('POST', '/v1/admin/reset')).claimCode,
      prepare: (password) => call('POST', '/v1/admin/prepare', Buffer.from(JSON.stringify(password === undefined ? {} : { password }))),
    };
    return { out: await job(admin), via: 'appliance' as const };
  };
  const holder = await lockHolder(dataDir);
  if (holder?.role === 'run') return remote(holder);
  await mkdir(dataDir, { recursive: true });
  let lock: DataDirLock;
  try {
    lock = await DataDirLock.acquire(dataDir, { role, waitMs: LOCK_WAIT_MS });
  } catch (e) {
    if (e instanceof LockedError && e.holder.role === 'run') return remote(e.holder);
    throw e;
  }
  try {
    const auth = await AuthStore.open({ dataDir, sessionHours: 1, fixedPasswordHash });
    const admin: AdminPort = {
      reset: () => auth.resetPassword(),
      async prepare(password) {
        const setNow = password !== undefined && !auth.hasPassword();
        if (setNow) await auth.setInitialPassword(password);
        return { claimCode: auth.pendingClaimCode(), passwordSet: auth.hasPassword(), setNow };
      },
    };
    const out = await job(admin);
    await auth.flush();
    await handToOwner(dataDir);
    return { out, via: 'local' };
  } finally {
    await lock.release();
  }
}

/** With a password: sets it (when none is set yet). Without: makes sure a claim code exists. Returns what to tell the user. */
export async function prepareAdmin(dataDir: string, password?: string): Promise<{ claimCode: string | null; passwordSet: boolean; via: Via; message: string }> {
  const { out, via } = await withAdmin(dataDir, 'install-service', (admin) => admin.prepare(password));
  const where = via === 'appliance' ? 'the running appliance printed it too' : 'the service prints it when it starts';
  if (out.claimCode)
    return {
      claimCode: out.claimCode,
      passwordSet: out.passwordSet,
      via,
      message: `Admin page claim code: ${out.claimCode} (open the page and enter it to choose the admin password; ${where}, and \`sudo facegate status\` shows it until used)`,
    };
  const message = out.setNow
    ? 'Admin password set from standard input.'
    : `The admin password is already set${password === undefined ? '' : '; the one from standard input was not used (change it on the page, or reset it with facegate passwd --reset)'}.`;
  return { claimCode: null, passwordSet: out.passwordSet, via, message };
}

/** Forgets the password, sessions and tokens; returns the new claim code and who made the change. */
export async function resetAdmin(dataDir: string, fixedPasswordHash?: string): Promise<{ claimCode: string; via: Via }> {
  const { out, via } = await withAdmin(dataDir, 'passwd', (admin) => admin.reset(), fixedPasswordHash);
  return { claimCode: out, via };
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
