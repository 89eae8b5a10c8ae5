/**
 * Version 3 archives, written and read as a stream (memory bounded by the largest single file, not the archive).
 *
 * Format (".fgbak"): gzip of
 *   {"format":"facegate-backup","version":3,"created":ISO time}\n
 *   then per file: {"path":…,"size":N,"sha256":hex}\n followed by exactly N raw bytes,
 *   then the trailer {"end":true,"files":count,"manifest":hex}\n, where "manifest" is the sha256 of every file's
 *   header line (with its \n) in order. Nothing may follow the trailer.
 * A cut-off archive fails gzip's end check or lacks its trailer; damage fails gzip's CRC, a file's sha256 or the
 * trailer; either way it is refused.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { FacegateError } from '../util/errors.js';
import { ID_PATTERN } from '../util/ids.js';
import { fsyncDir } from './atomic.js';
import { BACKUP_FORMAT, isJpeg, refuse, refuseGzip, SAMPLES_DIR } from './backup-shared.js';

export const STREAM_VERSION = 3;

/**
 * One file of an archive: its bytes, or (for a file too big to hold twice) its size and sha256 and a way to make
 * its bytes, chunk by chunk.
 */
export type ArchiveFile = { path: string; bytes: Buffer } | { path: string; size: number; sha256: string; chunks: () => Iterable<Buffer> };

/** The paths a version 3 archive may hold (its facebank is always a journal). */
const STREAM_PATH = new RegExp(`^(facebank\\.journal|auth\\.json|${SAMPLES_DIR}/${ID_PATTERN}\\.jpg)$`);
/** Files whose fsyncs run together while a restore is staged. */
const SYNC_BATCH = 32;
/** Longest header line read; a real one is under 200 bytes. */
const MAX_LINE = 64 * 1024;

const headerSchema = z.object({ format: z.literal(BACKUP_FORMAT), version: z.literal(STREAM_VERSION), created: z.string() }).strict();
const entrySchema = z
  .object({
    path: z.string().regex(STREAM_PATH, 'not a file a backup may contain'),
    size: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
const trailerSchema = z.object({ end: z.literal(true), files: z.number().int().min(0), manifest: z.string().regex(/^[0-9a-f]{64}$/) }).strict();

const line = (v: unknown) => Buffer.from(`${JSON.stringify(v)}\n`, 'utf8');

/** The archive's bytes before gzip: header, each file as header line and bytes, trailer. */
async function* archiveChunks(files: AsyncIterable<ArchiveFile>): AsyncGenerator<Buffer> {
  yield line({ format: BACKUP_FORMAT, version: STREAM_VERSION, created: new Date().toISOString() });
  const manifest = createHash('sha256');
  let count = 0;
  for await (const f of files) {
    const head =
      'bytes' in f
        ? line({ path: f.path, size: f.bytes.length, sha256: createHash('sha256').update(f.bytes).digest('hex') })
        : line({ path: f.path, size: f.size, sha256: f.sha256 });
    manifest.update(head);
    count++;
    yield head;
    if ('bytes' in f) yield f.bytes;
    else {
      let made = 0;
      for (const chunk of f.chunks()) {
        made += chunk.length;
        yield chunk;
      }
      if (made !== f.size) throw new Error(`${f.path} came out as ${made} bytes, not the ${f.size} announced`);
    }
  }
  yield line({ end: true, files: count, manifest: manifest.digest('hex') });
}

/**
 * Writes the archive of `files` to `file`: to a temp file beside it, fsynced, then renamed into place (the folder
 * fsynced too), so a failed backup never leaves a half archive under the final name. Returns its size in bytes.
 */
export async function writeStreamArchive(file: string, files: AsyncIterable<ArchiveFile>): Promise<number> {
  const tmp = `${file}.tmp`;
  try {
    await pipeline(Readable.from(archiveChunks(files)), createGzip(), createWriteStream(tmp, { mode: 0o600 }));
    const h = await open(tmp, 'r+');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, file);
    await fsyncDir(path.dirname(path.resolve(file)));
    return (await stat(file)).size;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * The archive's version when it is a line-framed (version 3 or later) archive, else null (an older archive, or not
 * an archive at all: the in-memory reader then says which). Reads only the file's first bytes.
 */
export async function streamVersionOf(file: string): Promise<number | null> {
  const h = await open(file, 'r');
  try {
    const head = Buffer.alloc(16 * 1024);
    const { bytesRead } = await h.read(head, 0, head.length, 0);
    const text = gunzipSync(head.subarray(0, bytesRead), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: 1 << 20 }).toString('utf8');
    const nl = text.indexOf('\n');
    if (nl < 0) return null;
    const first = JSON.parse(text.slice(0, nl)) as { format?: unknown; version?: unknown };
    return first.format === BACKUP_FORMAT && typeof first.version === 'number' ? first.version : null;
  } catch {
    return null;
  } finally {
    await h.close();
  }
}

/** What a version 3 archive staged. */
export interface StagedArchive {
  created: string;
  /** Paths written under the staging directory, in archive order. */
  files: string[];
}

/** The file being written out of the archive. */
interface Body {
  path: string;
  sha256: string;
  left: number;
  hash: Hash;
  h: FileHandle;
  /** Its first bytes (a crop must start like a JPEG). */
  head: Buffer;
}

/** Reads a version 3 archive as it streams, writing each file under `staging` and checking it as it ends. */
class StreamReader {
  private phase: 'header' | 'entries' | 'done' = 'header';
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private body: Body | null = null;
  private readonly manifest = createHash('sha256');
  private readonly seen = new Set<string>();
  private syncing: Array<Promise<void>> = [];
  created = '';

  constructor(
    private readonly staging: string,
    private readonly onFile: (path: string) => Promise<void>,
  ) {}

  get files(): string[] {
    return [...this.seen];
  }

  /** The refusal that stopped the read (the pipeline may report it as its own abort instead). */
  failure: FacegateError | null = null;

  private reading: Promise<void> = Promise.resolve();

  readonly consume = (source: AsyncIterable<Buffer>): Promise<void> => {
    this.reading = this.read(source).catch((e: unknown) => {
      if (e instanceof FacegateError) this.failure ??= e;
      throw e;
    });
    return this.reading;
  };

  private async read(source: AsyncIterable<Buffer>): Promise<void> {
    for await (const chunk of source) {
      let at = 0;
      while (at < chunk.length) {
        if (this.body) at = await this.write(chunk, at);
        else if (this.phase === 'done') throw refuse('the archive is damaged: data follows its trailer');
        else {
          const nl = chunk.indexOf(10, at);
          const end = nl < 0 ? chunk.length : nl;
          this.partial.push(chunk.subarray(at, end));
          this.partialBytes += end - at;
          if (this.partialBytes > MAX_LINE) throw refuse('the archive is damaged: a header line is too long');
          at = end;
          if (nl >= 0) {
            at++;
            const text = Buffer.concat(this.partial);
            this.partial = [];
            this.partialBytes = 0;
            await this.onLine(text);
          }
        }
      }
    }
    if (this.phase !== 'done') throw refuse('the file is truncated: it ends before its trailer');
    await this.synced();
  }

  /** After a failure: waits for the read to stop (a pipeline rejects before it does), then closes its file. */
  async abort(): Promise<void> {
    await this.reading.catch(() => {});
    await this.synced().catch(() => {});
    await this.body?.h.close().catch(() => {});
    this.body = null;
  }

  private parse<T>(text: Buffer, schema: z.ZodType<T>, what: string): T {
    let json: unknown;
    try {
      json = JSON.parse(text.toString('utf8'));
    } catch {
      throw refuse(`the archive is damaged: ${what} is not JSON`);
    }
    const r = schema.safeParse(json);
    if (!r.success) throw refuse(`the archive is damaged: ${what} is not valid (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
    return r.data;
  }

  private async onLine(text: Buffer): Promise<void> {
    if (this.phase === 'header') {
      this.created = this.parse(text, headerSchema, 'its header').created;
      this.phase = 'entries';
      return;
    }
    const json = text.includes('"end":') ? this.parse(text, trailerSchema, 'its trailer') : this.parse(text, entrySchema, 'a file header');
    if ('end' in json) {
      if (json.files !== this.seen.size) throw refuse(`the archive is damaged: its trailer counts ${json.files} files, it holds ${this.seen.size}`);
      if (json.manifest !== this.manifest.digest('hex')) throw refuse('the archive is damaged: its list of files fails its sha256 check');
      this.phase = 'done';
      return;
    }
    if (this.seen.has(json.path)) throw refuse(`${json.path} is listed twice`);
    this.seen.add(json.path);
    this.manifest.update(text).update('\n');
    const h = await open(path.join(this.staging, json.path), 'wx', 0o640);
    this.body = { path: json.path, sha256: json.sha256, left: json.size, hash: createHash('sha256'), h, head: Buffer.alloc(0) };
    if (json.size === 0) await this.finish();
  }

  /** Writes the current file's bytes from `chunk` at `at`; returns where its bytes end. */
  private async write(chunk: Buffer, at: number): Promise<number> {
    const b = this.body!;
    const piece = chunk.subarray(at, at + Math.min(b.left, chunk.length - at));
    b.hash.update(piece);
    if (b.head.length < 4) b.head = Buffer.concat([b.head, piece.subarray(0, 4 - b.head.length)]);
    for (let done = 0; done < piece.length;) done += (await b.h.write(piece, done, piece.length - done)).bytesWritten;
    b.left -= piece.length;
    if (b.left === 0) await this.finish();
    return at + piece.length;
  }

  private async finish(): Promise<void> {
    const b = this.body!;
    if (b.hash.digest('hex') !== b.sha256) throw refuse(`${b.path} is damaged: it fails its sha256 check`);
    if (b.path.startsWith(`${SAMPLES_DIR}/`) && !isJpeg(b.head)) throw refuse(`${b.path} is not a JPEG`);
    this.body = null;
    // fsync'd a batch at a time (the file system commits them together), every one before the read ends.
    this.syncing.push(
      b.h.sync().then(
        () => b.h.close(),
        async (e: unknown) => {
          await b.h.close().catch(() => {});
          throw e;
        },
      ),
    );
    if (this.syncing.length >= SYNC_BATCH) await this.synced();
    await this.onFile(b.path);
  }

  /** Waits for every pending fsync; throws the first that failed. */
  private async synced(): Promise<void> {
    const pending = this.syncing;
    this.syncing = [];
    const failed = (await Promise.allSettled(pending)).find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}

/**
 * Reads the version 3 archive `file` into `staging` (which has a samples/ folder), checking every file's size and
 * sha256, the paths, the trailer and that nothing follows it; `onFile` is called as each file is written whole (and
 * may refuse it). Throws 'backup_invalid' on any problem; the caller removes the staging directory.
 */
export async function stageStreamArchive(file: string, staging: string, onFile: (path: string) => Promise<void>): Promise<StagedArchive> {
  const reader = new StreamReader(staging, onFile);
  try {
    await pipeline(createReadStream(file), createGunzip(), reader.consume);
  } catch (e) {
    await reader.abort();
    if (reader.failure) throw reader.failure;
    if (e instanceof FacegateError) throw e;
    if ((e as NodeJS.ErrnoException).code?.startsWith('Z_')) throw refuseGzip(e);
    throw new FacegateError('backup', `cannot stage the restore: ${(e as Error).message}; the data directory was not changed`, { cause: e });
  }
  return { created: reader.created, files: reader.files };
}
