/**
 * The data directory's writer lock: one process at a time may change the facebank. The lock is a Linux
 * abstract unix socket named after the directory's device and inode; the kernel releases it when the holder
 * exits in any way (SIGKILL, power cut), so a lock is never stale and nothing has to guess whether it is.
 * Whoever connects to it is told the holder (pid, role, since), which the CLI uses to decide whether to hand
 * its work to a running appliance or wait for another CLI to finish.
 */
import { stat } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FacegateError } from '../util/errors.js';

/** Who holds the lock: `run` is the appliance, anything else a short CLI job. */
export interface LockHolder {
  pid: number;
  role: string;
  since: string;
}

export interface AcquireOptions {
  /** What the holder is, shown to whoever waits (e.g. "run", "enroll"). */
  role: string;
  /** How long to wait while a CLI job holds the lock; a running appliance is never waited for. */
  waitMs?: number;
  /** Ends the wait early (FacegateError 'aborted'). */
  signal?: AbortSignal;
}

async function lockName(dataDir: string): Promise<string> {
  const s = await stat(dataDir);
  return `\0facegate-lock:${s.dev}:${s.ino}`;
}

/** The current holder, or null when the lock is free (or the directory does not exist). */
export async function lockHolder(dataDir: string): Promise<LockHolder | null> {
  let name: string;
  try {
    name = await lockName(dataDir);
  } catch {
    return null;
  }
  return new Promise((resolve) => {
    let text = '';
    let connected = false;
    const sock = net.connect(name, () => (connected = true));
    sock.setEncoding('utf8');
    sock.setTimeout(2000, () => sock.destroy());
    sock.on('data', (d: string) => (text += d));
    sock.on('error', () => {});
    sock.on('close', () => {
      if (!connected) return resolve(null);
      try {
        const h = JSON.parse(text) as LockHolder;
        if (typeof h.pid === 'number' && typeof h.role === 'string') return resolve(h);
      } catch {
        // fall through: held by something that did not say what it is
      }
      resolve({ pid: 0, role: 'unknown', since: '' });
    });
  });
}

export function describeHolder(h: LockHolder): string {
  return h.role === 'run' ? `the running appliance (facegate run, pid ${h.pid})` : `another facegate ${h.role} (pid ${h.pid})`;
}

/** The lock is held by someone else (`holder`). */
export class LockedError extends FacegateError {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super('locked', `The facebank in ${dataDir} is in use by ${describeHolder(holder)}.`);
  }
}

/** An acquired lock; release() (or process exit) frees it. */
export class DataDirLock {
  private constructor(
    private server: net.Server | null,
    readonly holder: LockHolder,
  ) {}

  /**
   * Takes the lock for `dataDir`. While a CLI job holds it, waits up to `waitMs`; refuses at once when the
   * appliance holds it (LockedError).
   */
  static async acquire(dataDir: string, opts: AcquireOptions): Promise<DataDirLock> {
    const name = await lockName(dataDir);
    const holder: LockHolder = { pid: process.pid, role: opts.role, since: new Date().toISOString() };
    const deadline = Date.now() + (opts.waitMs ?? 0);
    for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
      const server = net.createServer((sock) => sock.end(JSON.stringify(holder)));
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        server.once('error', resolve);
        server.listen(name, () => resolve(null));
      });
      if (!err) {
        server.unref();
        return new DataDirLock(server, holder);
      }
      server.close();
      if (err.code !== 'EADDRINUSE') throw new FacegateError('lock', `The data directory ${dataDir} cannot be locked: ${err.message}`, { cause: err });
      const other = await lockHolder(dataDir);
      if (other && (other.role === 'run' || Date.now() >= deadline)) {
        throw new LockedError(dataDir, other);
      }
      if (opts.signal?.aborted) throw new FacegateError('aborted', `Stopped while waiting for the facebank in ${dataDir}.`);
      await sleep(delay);
    }
  }

  /** Calls fn each time another process asks who holds the lock (i.e. wants it). */
  onAsked(fn: () => void): void {
    this.server?.on('connection', fn);
  }

  release(): Promise<void> {
    const s = this.server;
    this.server = null;
    return new Promise((r) => (s ? s.close(() => r()) : r()));
  }
}
