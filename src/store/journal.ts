/**
 * An append-only JSON-lines journal for a store that keeps its state in memory (event history, unknown faces).
 * Each change is one line; lines are written and fsync'd together at most `flushMs` after the first change (a power
 * cut loses at most that much, as with a debounced whole-file save). A store writes what changed, not its whole
 * state, so a history of thousands of entries costs a few kB a second instead of megabytes (flash wear, and the
 * big strings a whole-file save builds every second). When the file holds more than `compactRatio` times the lines
 * the state needs, it is rewritten from the store's snapshot (temp file, fsync, rename). A torn last line (a crash
 * mid-write) is skipped at replay.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { FacegateError } from '../util/errors.js';
import { readJson, writeFileAtomic } from './atomic.js';

export interface JournalOptions {
  /** Longest time a change waits to be written and fsync'd, ms. */
  flushMs?: number;
  /** The file is rewritten when it holds more than this many times the lines of the snapshot (and at least 256). */
  compactRatio?: number;
  /** A background write failed (e.g. disk full); the next flush rewrites the whole state, so nothing is lost. */
  onError?: (e: Error) => void;
}

/** The JSON objects of a JSON-lines text, in order; a line that does not parse (torn by a crash mid-write) is skipped. */
export function parseJsonLines<R>(text: string): R[] {
  const out: R[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    if (r !== null && typeof r === 'object') out.push(r as R);
  }
  return out;
}

export class Journal<R> {
  private pending: string[] = [];
  private lines = 0;
  /** The file ends in a torn line: the next write starts on a new line. */
  private torn = false;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly flushMs: number;
  private readonly compactRatio: number;
  private readonly onError: (e: Error) => void;

  /** `state.records()` rebuilds the current state (used to compact); `state.size()` is how many records that takes. */
  constructor(
    readonly file: string,
    private readonly state: { records: () => R[]; size: () => number },
    opts: JournalOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 1000;
    this.compactRatio = opts.compactRatio ?? 2;
    this.onError = opts.onError ?? (() => {});
  }

  /** The records in the file, oldest first ([] when there is none); a torn line is skipped. */
  async read(): Promise<R[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new FacegateError('store_corrupt', `${this.file} could not be read: ${(e as Error).message}`, { cause: e });
    }
    this.torn = text.length > 0 && !text.endsWith('\n');
    const out = parseJsonLines<R>(text);
    this.lines = out.length;
    return out;
  }

  /** Queues one change; it reaches the disk within flushMs. */
  append(record: R): void {
    this.pending.push(JSON.stringify(record) + '\n');
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.flush().catch((e: unknown) => this.onError(e instanceof Error ? e : new Error(String(e))));
    }, this.flushMs);
    this.timer.unref();
  }

  /** Writes and fsyncs the queued changes now, compacting when the file has grown past its bound. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.writing = this.writing.catch(() => {}).then(() => this.writePending());
    return this.writing;
  }

  /** One write at a time (the `writing` chain); what is queued is taken when the write starts, not before, so a
   * compaction that ran meanwhile (and already holds those changes) cannot be followed by the same lines again. */
  private async writePending(): Promise<void> {
    const text = this.pending.join('');
    const n = this.pending.length;
    this.pending = [];
    if (n) {
      try {
        await mkdir(path.dirname(this.file), { recursive: true });
        const h = await open(this.file, 'a', 0o600);
        try {
          await h.writeFile(this.torn ? '\n' + text : text);
          await h.sync();
          this.torn = false;
        } finally {
          await h.close();
        }
        this.lines += n;
      } catch (e) {
        this.lines = Number.POSITIVE_INFINITY; // the next flush rewrites the whole state
        throw e;
      }
    }
    if (this.lines > Math.max(256, this.compactRatio * this.state.size())) await this.rewrite();
  }

  /** Replaces the file with the current state's records (e.g. to import an older format). */
  compact(): Promise<void> {
    this.writing = this.writing.catch(() => {}).then(() => this.rewrite());
    return this.writing;
  }

  /** Flushes what is queued. */
  close(): Promise<void> {
    return this.flush();
  }

  /** Replaces the file with the current state; changes still queued are part of it, so they are not appended again. */
  private async rewrite(): Promise<void> {
    const records = this.state.records();
    this.pending = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, records.map((r) => JSON.stringify(r) + '\n').join(''));
      this.torn = false;
    } catch (e) {
      this.lines = Number.POSITIVE_INFINITY;
      throw e;
    }
    this.lines = records.length;
  }
}

/** A store's file of the older whole-file format (a JSON array), or null; remove() once the journal holds it. */
export async function readLegacyArray<T>(file: string): Promise<{ items: T[]; remove: () => Promise<void> } | null> {
  const data = await readJson<unknown>(file);
  if (data === null) return null;
  return { items: Array.isArray(data) ? (data as T[]) : [], remove: () => rm(file, { force: true }) };
}
