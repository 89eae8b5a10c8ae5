/**
 * The MQTT event queue: a bounded FIFO that, given a file, is also an append-only journal, so queued events
 * survive SIGTERM, a crash or SIGKILL and are replayed in order at the next start. Each line of the file is
 * one JSON record: {"s":seq,"v":item} queued, {"a":seq} acknowledged by the broker, {"d":seq} dropped because
 * the bound was reached. Lines go to the kernel at once (a killed process loses nothing) and are fsync'd
 * within `syncMs` (a power cut loses at most that much). When dead records outnumber live ones the file is
 * rewritten with the live entries only (compaction). At open the file is checked (store/json-lines.ts): a torn
 * last line (a crash mid-write) is cut off; bad lines are counted, reported once and the file kept aside.
 *
 * A write that fails (disk full, EIO) never reaches the caller (it runs on the broker's ack path): it is reported
 * to the storage state (store/storage-health.ts), the queue goes on in memory, and when the storage probe says
 * space is back the file is rewritten with every live entry, so nothing queued meanwhile is lost to a later crash.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FacegateError } from '../util/errors.js';
import { loadJsonLines } from '../store/json-lines.js';
import { writeAllSync } from '../store/journal.js';
import { StorageHealth, type StorageReporter } from '../store/storage-health.js';

export interface QueueEntry<T> {
  seq: number;
  item: T;
}

export interface QueueOptions {
  /** Journal file; without it the queue lives in memory only. */
  file?: string;
  /** Longest time an appended record waits for fsync, ms. */
  syncMs?: number;
  /** Called for every item dropped because the bound was reached (oldest first). */
  onDrop?: (seq: number) => void;
  /** Where write failures, recoveries and repairs are reported (default: a StorageHealth of its own, silent). */
  storage?: StorageReporter;
}

type Record = { s: number; v: unknown } | { a: number } | { d: number };
const seqSchema = z.number().int().positive();
const recordSchema = z.union([z.object({ s: seqSchema, v: z.unknown() }), z.object({ a: seqSchema }), z.object({ d: seqSchema })]) as z.ZodType<Record>;

/** Dead records kept before a compaction is considered. */
const COMPACT_MIN_DEAD = 1000;

export class DurableQueue<T> {
  private readonly items = new Map<number, T>();
  private nextSeq = 1;
  private fd: number | null = null;
  private dead = 0;
  private dirty = false;
  private syncTimer: NodeJS.Timeout | null = null;
  /** The file lacks records (a write failed): appends stop until a rewrite of the live entries succeeds. */
  private broken = false;
  private offRetry: (() => void) | null = null;
  /** Items dropped because the queue was full (this run). */
  dropped = 0;
  /** Items found in the file at open(). */
  replayed = 0;

  constructor(
    readonly limit: number,
    private readonly opts: QueueOptions = {},
  ) {}

  get length(): number {
    return this.items.size;
  }

  private get storage(): StorageReporter {
    return (this.opts.storage ??= new StorageHealth());
  }

  /** Replays the journal (if any) and opens it for appending. Call once before use. A full disk is no error here. */
  open(): void {
    const file = this.opts.file;
    if (!file || this.fd !== null) return;
    mkdirSync(path.dirname(file), { recursive: true });
    let records: Record[];
    try {
      records = loadJsonLines(file, recordSchema, this.storage, 'The MQTT event queue').records;
    } catch (e) {
      throw new FacegateError('mqtt_queue', `The event queue ${file} cannot be read: ${(e as Error).message}`, { cause: e });
    }
    this.offRetry ??= this.storage.onRetry(file, () => this.broken && this.rewrite());
    for (const r of records) {
      if ('s' in r) {
        this.items.set(r.s, r.v as T);
        this.nextSeq = Math.max(this.nextSeq, r.s + 1);
      } else if ('a' in r) this.items.delete(r.a);
      else if ('d' in r) this.items.delete(r.d);
    }
    this.replayed = this.items.size;
    // A lowered limit: the oldest beyond it go now.
    while (this.items.size > this.limit) this.dropOldest(false);
    this.rewrite();
  }

  push(item: T): QueueEntry<T> {
    const seq = this.nextSeq++;
    this.items.set(seq, item);
    this.append({ s: seq, v: item });
    while (this.items.size > this.limit) this.dropOldest(true);
    return { seq, item };
  }

  /** The first n entries, oldest first, without removing them. */
  peek(n: number): QueueEntry<T>[] {
    const out: QueueEntry<T>[] = [];
    for (const [seq, item] of this.items) {
      if (out.length >= n) break;
      out.push({ seq, item });
    }
    return out;
  }

  /** The broker has it: removes the entry (false when it was dropped meanwhile). */
  ack(seq: number): boolean {
    if (!this.items.delete(seq)) return false;
    this.append({ a: seq });
    this.dead += 2;
    this.maybeCompact();
    return true;
  }

  /** fsyncs, compacts and closes the journal; the entries stay in it for the next open() (if the disk let them). */
  close(): void {
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    this.offRetry?.();
    this.offRetry = null;
    if (this.fd === null && !this.broken) return;
    this.rewrite();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private dropOldest(journal: boolean): void {
    const seq = this.items.keys().next().value as number;
    this.items.delete(seq);
    this.dropped++;
    if (journal) {
      this.append({ d: seq });
      this.dead += 2;
    }
    this.opts.onDrop?.(seq);
  }

  private append(r: Record): void {
    if (this.fd === null || this.broken) return;
    try {
      writeAllSync(this.fd, JSON.stringify(r) + '\n');
    } catch (e) {
      this.fail(e);
      return;
    }
    this.dirty = true;
    if (!this.syncTimer) {
      this.syncTimer = setTimeout(() => this.sync(), this.opts.syncMs ?? 1000);
      this.syncTimer.unref();
    }
  }

  private sync(): void {
    this.syncTimer = null;
    if (this.fd === null || !this.dirty || this.broken) return;
    this.dirty = false;
    try {
      fsyncSync(this.fd);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.broken = true;
    this.storage.reportWriteFailure(this.opts.file!, e);
  }

  /** While broken, the storage probe's retry does the rewrite (not every ack on a full disk). */
  private maybeCompact(): void {
    if (!this.broken && this.dead >= COMPACT_MIN_DEAD && this.dead > this.items.size) this.rewrite();
  }

  /**
   * Replaces the journal with the live entries only: temp file, fsync, rename, fsync the folder. False when the
   * disk refused (reported; the old file stays as it was, the queue goes on in memory).
   */
  private rewrite(): boolean {
    const file = this.opts.file;
    if (!file) return true;
    const tmp = `${file}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        const lines: string[] = [];
        for (const [s, v] of this.items) lines.push(JSON.stringify({ s, v }) + '\n');
        if (lines.length) writeAllSync(fd, lines.join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
      const dir = openSync(path.dirname(file), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
      this.fd = openSync(file, 'a', 0o600);
    } catch (e) {
      rmSync(tmp, { force: true });
      this.fail(e);
      return false;
    }
    this.dead = 0;
    this.dirty = false;
    if (this.broken) {
      this.broken = false;
      this.storage.reportWriteOk(file);
    }
    return true;
  }
}
