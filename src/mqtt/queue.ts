/**
 * The MQTT event queue: a bounded FIFO that, given a file, is also an append-only journal, so queued events
 * survive SIGTERM, a crash or SIGKILL and are replayed in order at the next start. Each line of the file is
 * one JSON record: {"s":seq,"v":item} queued, {"a":seq} acknowledged by the broker, {"d":seq} dropped because
 * the bound was reached. Lines go to the kernel at once (a killed process loses nothing) and are fsync'd
 * within `syncMs` (a power cut loses at most that much). When dead records outnumber live ones the file is
 * rewritten with the live entries only (compaction). A torn last line (crash mid-write) is ignored.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { FacegateError } from '../util/errors.js';
import { parseJsonLines } from '../store/journal.js';

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
}

type Record = { s: number; v: unknown } | { a: number } | { d: number };

/** Dead records kept before a compaction is considered. */
const COMPACT_MIN_DEAD = 1000;

export class DurableQueue<T> {
  private readonly items = new Map<number, T>();
  private nextSeq = 1;
  private fd: number | null = null;
  private dead = 0;
  private dirty = false;
  private syncTimer: NodeJS.Timeout | null = null;
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

  /** Replays the journal (if any) and opens it for appending. Call once before use. */
  open(): void {
    const file = this.opts.file;
    if (!file || this.fd !== null) return;
    mkdirSync(path.dirname(file), { recursive: true });
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new FacegateError('mqtt_queue', `The event queue ${file} cannot be read: ${(e as Error).message}`, { cause: e });
    }
    for (const r of parseJsonLines<Record>(text)) {
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

  /** fsyncs, compacts and closes the journal; the entries stay in it for the next open(). */
  close(): void {
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    if (this.fd === null) return;
    this.rewrite();
    closeSync(this.fd);
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
    if (this.fd === null) return;
    writeSync(this.fd, JSON.stringify(r) + '\n');
    this.dirty = true;
    if (!this.syncTimer) {
      this.syncTimer = setTimeout(() => this.sync(), this.opts.syncMs ?? 1000);
      this.syncTimer.unref();
    }
  }

  private sync(): void {
    this.syncTimer = null;
    if (this.fd !== null && this.dirty) fsyncSync(this.fd);
    this.dirty = false;
  }

  private maybeCompact(): void {
    if (this.dead >= COMPACT_MIN_DEAD && this.dead > this.items.size) this.rewrite();
  }

  /** Replaces the journal with the live entries only: temp file, fsync, rename, fsync the folder. */
  private rewrite(): void {
    const file = this.opts.file;
    if (!file) return;
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      const lines: string[] = [];
      for (const [s, v] of this.items) lines.push(JSON.stringify({ s, v }) + '\n');
      if (lines.length) writeSync(fd, lines.join(''));
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
    this.fd = openSync(file, 'a', 0o600);
    this.dead = 0;
    this.dirty = false;
  }
}
