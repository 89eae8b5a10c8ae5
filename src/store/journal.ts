/**
 * An append-only JSON-lines journal for a store that keeps its state in memory (event history, unknown faces).
 * Each change is one line, handed to the kernel at once (a killed process loses nothing, as with the MQTT queue)
 * and fsync'd at most `flushMs` later (a power cut loses at most that much). When the file holds more than
 * `compactRatio` times the lines the state needs, it is rewritten from the store's state (temp file, fsync, rename).
 *
 * A write that fails (disk full, EIO) is reported to the storage state (store/storage-health.ts) and never thrown
 * at the caller: the store keeps its state in memory, the journal stops writing, and when the storage probe says
 * space is back it rewrites the whole state, so the file again holds everything, with no torn line. At load, lines
 * are checked against the store's schema (store/json-lines.ts): a torn last line is cut off, bad lines are counted
 * and reported once, and the file is kept aside and rewritten.
 */
import { closeSync, fsync, openSync, writeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { readJson, writeFileAtomic } from './atomic.js';
import { loadJsonLines } from './json-lines.js';
import { StorageHealth, type StorageReporter } from './storage-health.js';

export interface JournalOptions {
  /** Longest time a change waits to be fsync'd, ms. */
  flushMs?: number;
  /** The file is rewritten when it holds more than this many times the lines of the snapshot (and at least 256). */
  compactRatio?: number;
  /** Where write failures, recoveries and repairs are reported (default: a StorageHealth of its own, silent). */
  storage?: StorageReporter;
}

/** Writes `text` in full to `fd`, or throws (a short write is retried until the kernel refuses with its error). */
export function writeAllSync(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length;) {
    const n = writeSync(fd, buf, off);
    if (n <= 0) throw Object.assign(new Error('write returned no bytes'), { code: 'EIO' });
    off += n;
  }
}

export class Journal<R> {
  private fd: number | null = null;
  private lines = 0;
  /** The file lacks changes (a write failed): appends stop until a rewrite of the whole state succeeds. */
  private broken = false;
  private dirty = false;
  private syncTimer: NodeJS.Timeout | null = null;
  private rewriting: Promise<boolean> | null = null;
  /** Lines appended while a rewrite runs: they go to the new file after it. */
  private during: string[] = [];
  private offRetry: (() => void) | null = null;
  private readonly flushMs: number;
  private readonly compactRatio: number;
  private readonly storage: StorageReporter;

  /** `state.records()` rebuilds the current state (used to rewrite); `state.size()` is how many records that takes. */
  constructor(
    readonly file: string,
    private readonly state: { records: () => R[]; size: () => number },
    private readonly schema: z.ZodType<R>,
    /** Names the file in reports: "The event history". */
    private readonly what: string,
    opts: JournalOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 1000;
    this.compactRatio = opts.compactRatio ?? 2;
    this.storage = opts.storage ?? new StorageHealth();
  }

  /**
   * Replays the file into `apply` (oldest first), repairs it (torn last line cut off; bad lines counted, the file
   * kept aside and rewritten) and opens it for appending. A full disk here is not an error: the journal starts
   * broken and catches up when space is back. Throws only when the file cannot be read.
   */
  async open(apply: (r: R) => void): Promise<void> {
    this.offRetry ??= this.storage.onRetry(this.file, () => (this.broken ? this.rewrite() : true));
    const loaded = loadJsonLines(this.file, this.schema, this.storage, this.what);
    for (const r of loaded.records) apply(r);
    this.lines = loaded.records.length;
    if (loaded.rewrite) {
      await this.rewrite();
      return;
    }
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      this.fd = openSync(this.file, 'a', 0o600);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Hands one change to the kernel now; fsync'd within flushMs. Never throws: a failure is reported. */
  append(record: R): void {
    const line = JSON.stringify(record) + '\n';
    if (this.rewriting) this.during.push(line);
    if (this.broken || this.fd === null) return;
    if (!this.write(line)) return;
    this.lines++;
    this.scheduleSync();
    if (!this.rewriting && this.lines > this.bound()) void this.rewrite();
  }

  /** fsyncs what was appended (after a rewrite in progress). */
  async flush(): Promise<void> {
    while (this.rewriting) await this.rewriting;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    const fd = this.fd;
    if (fd === null || !this.dirty) return;
    this.dirty = false;
    await new Promise<void>((resolve) =>
      fsync(fd, (e) => {
        if (e && fd === this.fd) this.fail(e);
        resolve();
      }),
    );
  }

  /** Replaces the file with the current state's records (e.g. to import an older format); false when it failed. */
  compact(): Promise<boolean> {
    return this.rewrite();
  }

  /** Writes what is left (the whole state, if the file lacks changes) and closes the file. */
  async close(): Promise<void> {
    if (this.broken) await this.rewrite();
    await this.flush();
    this.offRetry?.();
    this.offRetry = null;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private write(text: string): boolean {
    try {
      writeAllSync(this.fd!, text);
      this.dirty = true;
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  private fail(e: unknown): void {
    this.broken = true;
    this.storage.reportWriteFailure(this.file, e);
  }

  private scheduleSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => void this.flush(), this.flushMs);
    this.syncTimer.unref();
  }

  /** The most lines the file may hold before it is rewritten. */
  private bound(): number {
    return Math.max(256, this.compactRatio * this.state.size());
  }

  /** Replaces the file with the current state (temp file, fsync, rename), then appends what came meanwhile. */
  private rewrite(): Promise<boolean> {
    this.rewriting ??= this.rewriteNow().finally(() => {
      this.rewriting = null;
      this.during = [];
      // Changes that came during the rewrite were appended after the state: compact again if they were many.
      if (!this.broken && this.lines > this.bound()) void this.rewrite();
    });
    return this.rewriting;
  }

  private async rewriteNow(): Promise<boolean> {
    const records = this.state.records();
    this.during = [];
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFileAtomic(this.file, records.map((r) => JSON.stringify(r) + '\n').join(''));
    } catch (e) {
      this.fail(e);
      return false;
    }
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    try {
      this.fd = openSync(this.file, 'a', 0o600);
    } catch (e) {
      this.fail(e);
      return false;
    }
    this.broken = false;
    this.dirty = false;
    this.lines = records.length;
    const more = this.during;
    if (more.length) {
      if (!this.write(more.join(''))) return false;
      this.scheduleSync();
      this.lines += more.length;
    }
    this.storage.reportWriteOk(this.file);
    return true;
  }
}

/** A store's file of the older whole-file format (a JSON array), or null; remove() once the journal holds it. */
export async function readLegacyArray<T>(file: string): Promise<{ items: T[]; remove: () => Promise<void> } | null> {
  const data = await readJson<unknown>(file);
  if (data === null) return null;
  return { items: Array.isArray(data) ? (data as T[]) : [], remove: () => rm(file, { force: true }) };
}
