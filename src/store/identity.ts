/**
 * The appliance's identity: a random install id kept in `<dataDir>/appliance.json`, made on first start. It is the
 * one id of this box on the broker (MQTT client id default, topics, Home Assistant ids, the sync's appliance id), so
 * it must differ between boxes without anyone configuring it. Beside it we keep a fingerprint of the machine and of
 * the data directory's path; when the fingerprint no longer matches, the data directory was copied (a cloned SD card
 * or eMMC image, or a second appliance on the same host started from a copy), and a new id is made.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isId } from '../util/ids.js';
import type { Logger } from '../util/log.js';
import { writeFileAtomic } from './atomic.js';

export const IDENTITY_FILE = 'appliance.json';

export interface ApplianceIdentity {
  /** `[a-zA-Z0-9_-]`, e.g. "jetson-lab-3f9a2c". */
  id: string;
  /** Why this start has the id it has. */
  origin: 'created' | 'kept' | 'cloned' | 'unreadable';
  /** The id found in the file when it was replaced (cloned or unreadable file), else null. */
  previous: string | null;
}

export interface IdentityOptions {
  dataDir: string;
  log?: Logger;
  /** Files holding the machine's id, first readable one wins (default: /etc/machine-id, /var/lib/dbus/machine-id). */
  machineIdFiles?: readonly string[];
  /** Host name used when no machine-id file is readable, and as the id's readable part (default: os.hostname()). */
  hostname?: string;
}

interface IdentityFile {
  id: string;
  fingerprint: string;
  created: string;
}

const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/** `[a-zA-Z0-9_-]` only: what MQTT topic levels and Home Assistant discovery ids accept. */
export const sanitizeId = (s: string): string => s.replace(/[^a-zA-Z0-9_-]/g, '_');

/** Reads the identity, creating or replacing it when missing, unreadable or copied from elsewhere. */
export async function loadIdentity(opts: IdentityOptions): Promise<ApplianceIdentity> {
  const file = path.join(opts.dataDir, IDENTITY_FILE);
  const fingerprint = await machineFingerprint(opts);
  const stored = await readIdentity(file);
  if (stored.kind === 'ok' && stored.value.fingerprint === fingerprint) return { id: stored.value.id, origin: 'kept', previous: null };
  const id = newId(opts.hostname ?? os.hostname());
  const value: IdentityFile = { id, fingerprint, created: new Date().toISOString() };
  try {
    await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
  } catch (e) {
    opts.log?.warn({ id, file, err: (e as Error).message }, 'the appliance id could not be saved: it holds until the next start, which makes another');
  }
  if (stored.kind === 'ok') {
    opts.log?.warn(
      { previous: stored.value.id, id, file },
      'the data directory looks copied from another machine or folder (its machine fingerprint changed): this appliance takes a new id so it does not fight the original on the broker',
    );
    return { id, origin: 'cloned', previous: stored.value.id };
  }
  if (stored.kind === 'bad') {
    opts.log?.warn({ id, file, problem: stored.problem }, `${IDENTITY_FILE} was unreadable and is replaced: this appliance takes a new id`);
    return { id, origin: 'unreadable', previous: null };
  }
  opts.log?.info({ id, file }, 'appliance id created');
  return { id, origin: 'created', previous: null };
}

type Read = { kind: 'missing' } | { kind: 'bad'; problem: string } | { kind: 'ok'; value: IdentityFile };

async function readIdentity(file: string): Promise<Read> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', problem: (e as Error).message };
  }
  try {
    const v = JSON.parse(text) as Partial<IdentityFile>;
    if (isId(v.id) && typeof v.fingerprint === 'string') return { kind: 'ok', value: { id: v.id, fingerprint: v.fingerprint, created: String(v.created) } };
    return { kind: 'bad', problem: 'no valid "id" or "fingerprint"' };
  } catch (e) {
    return { kind: 'bad', problem: (e as Error).message };
  }
}

/** A hash of the machine id (or host name when there is none) and the data directory's real path. */
async function machineFingerprint(opts: IdentityOptions): Promise<string> {
  let machine: string | null = null;
  for (const f of opts.machineIdFiles ?? MACHINE_ID_FILES) {
    const text = await readFile(f, 'utf8').catch(() => '');
    if (text.trim()) {
      machine = `machine-id:${text.trim()}`;
      break;
    }
  }
  machine ??= `host:${opts.hostname ?? os.hostname()}`;
  const dir = await realpath(opts.dataDir).catch(() => path.resolve(opts.dataDir));
  return createHash('sha256').update(`${machine}\n${dir}`).digest('hex').slice(0, 32);
}

/** "<host name, up to 24 of [a-z0-9-]>-<6 random hex>": readable in topics, unique by its random part. */
function newId(hostname: string): string {
  const host =
    hostname
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 24)
      .replace(/-+$/, '') || 'facegate';
  return `${host}-${randomBytes(3).toString('hex')}`;
}
