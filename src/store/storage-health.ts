/**
 * The one owner of "can the appliance keep what it writes". A full disk (ENOSPC, EDQUOT) or a failing one (EIO,
 * EROFS...) is a state, not a crash: the write paths (journals, the MQTT queue, snapshots, certificates) report
 * each failure and success here and keep running on what they hold in memory. The state changes are logged once,
 * emitted on the bus ('storage': /metrics, /readyz and the page read it), and while a path fails a small probe write
 * runs every few seconds; once it succeeds, each failing path is asked to retry (a journal rewrites its whole state,
 * so nothing it missed is lost for good).
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Bus, StorageState } from '../events/bus.js';
import { silentLogger, type Logger } from '../util/log.js';

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);
const FAULTS = new Set([...NO_SPACE, 'EIO', 'EROFS', 'ENXIO', 'EFBIG']);

/** The error says the disk (or the user's quota) is full. */
export function isNoSpace(err: unknown): boolean {
  return NO_SPACE.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

/** The error is the disk's, not the program's: full, read-only or failing. */
export function isStorageFault(err: unknown): boolean {
  return FAULTS.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

/** What a write path needs from the storage state (StorageHealth; tests may pass their own). */
export interface StorageReporter {
  reportWriteFailure(file: string, err: unknown): void;
  reportWriteOk(file: string): void;
  /** A file was found damaged at load and repaired; `what` is one sentence (logged once). */
  reportRepair(file: string, what: string): void;
  /** `retry` runs when a probe write succeeds while `file` fails; returns the way to stop. */
  onRetry(file: string, retry: () => unknown): () => void;
}

export interface StorageHealthOptions {
  log?: Logger;
  bus?: Bus;
  /** Between probe writes while a path fails, ms. */
  probeMs?: number;
  /** Bytes the probe writes: space for at least this much must be back before the paths retry. */
  probeBytes?: number;
}

interface Failure {
  code: string;
  since: string;
}

export class StorageHealth implements StorageReporter {
  private readonly failing = new Map<string, Failure>();
  private readonly retries = new Map<string, Set<() => unknown>>();
  private probe: NodeJS.Timeout | null = null;
  private probing = false;
  private stopped = false;

  constructor(private readonly opts: StorageHealthOptions = {}) {}

  private get log(): Logger {
    return this.opts.log ?? silentLogger();
  }

  /** ok, or why not: the first failing path's error and a sentence for the log, /readyz and the page. */
  get state(): StorageState {
    const first = this.failing.entries().next().value as [string, Failure] | undefined;
    if (!first) return { ok: true };
    const [file, f] = first;
    return { ok: false, code: f.code, since: f.since, files: [...this.failing.keys()], reason: describe(file, f.code) };
  }

  reportWriteFailure(file: string, err: unknown): void {
    if (this.failing.has(file)) return;
    const wasOk = this.failing.size === 0;
    const code = (err as NodeJS.ErrnoException | null)?.code ?? 'EUNKNOWN';
    this.failing.set(file, { code, since: new Date().toISOString() });
    if (wasOk) {
      const s = this.state;
      this.log.error({ file, code, err: err instanceof Error ? err.message : String(err) }, s.ok ? '' : s.reason);
      this.opts.bus?.emit('storage', s);
    } else this.log.debug({ file, code }, 'another write path cannot write');
    this.startProbe();
  }

  reportWriteOk(file: string): void {
    if (!this.failing.delete(file) || this.failing.size > 0) return;
    this.stopProbe();
    this.log.info({ file }, 'storage writable again: event history, unknown faces, snapshots and the event queue are kept again');
    this.opts.bus?.emit('storage', this.state);
  }

  reportRepair(file: string, what: string): void {
    this.log.warn({ file }, what);
  }

  onRetry(file: string, retry: () => unknown): () => void {
    let set = this.retries.get(file);
    if (!set) this.retries.set(file, (set = new Set()));
    set.add(retry);
    return () => {
      set.delete(retry);
      if (!set.size) this.retries.delete(file);
    };
  }

  /** Ends the probe (shutdown); reports still change the state. */
  stop(): void {
    this.stopped = true;
    this.stopProbe();
  }

  private startProbe(): void {
    if (this.probe || this.stopped) return;
    this.probe = setInterval(() => void this.runProbe(), this.opts.probeMs ?? 5000);
    this.probe.unref();
  }

  private stopProbe(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
  }

  /** One probe write beside the first failing path; when it succeeds every failing path retries (or, with no way
   * to retry, is taken as writable until its next write says otherwise). */
  private async runProbe(): Promise<void> {
    const first = this.failing.keys().next().value as string | undefined;
    if (this.probing || first === undefined) return;
    this.probing = true;
    const probe = path.join(path.dirname(first), `.storage-probe.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(probe, Buffer.alloc(this.opts.probeBytes ?? 64 * 1024));
    } catch {
      await rm(probe, { force: true }).catch(() => {});
      this.probing = false;
      return;
    }
    await rm(probe, { force: true }).catch(() => {});
    try {
      for (const file of [...this.failing.keys()]) {
        const hooks = this.retries.get(file);
        if (!hooks?.size) this.reportWriteOk(file);
        else for (const retry of [...hooks]) await Promise.resolve(retry()).catch(() => {});
      }
    } finally {
      this.probing = false;
    }
  }
}

/** One sentence: what is lost, and what to do. */
function describe(file: string, code: string): string {
  const what = NO_SPACE.has(code) ? `is full (${code})` : `cannot be written (${code})`;
  return (
    `The disk holding ${path.dirname(file)} ${what}: recognition and live MQTT events go on, but event history, ` +
    `unknown faces, snapshots and the offline event queue are not kept until it can be written again; free space ` +
    `(or fix the disk) and facegate resumes by itself.`
  );
}
