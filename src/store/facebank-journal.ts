/**
 * The facebank journal on disk (format in facebank-codec.ts): read and checked frame by frame at open, appended one frame
 * per change (write + fdatasync; a failed append is cut off again, so the file never keeps half a change), and
 * rewritten as a fresh file of the current records (temp file, fsync, rename) when it has grown past its bound.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, tempBeside } from './atomic.js';
import { encodeFrame, JOURNAL_MAGIC, scanFrames, type JournalMeta, type JournalOp, type RawFrame, type ScanEnd } from './facebank-codec.js';
import { checkFrame, FacebankState, refused } from './facebank-state.js';
import type { Person, Sample } from './types.js';

export const JOURNAL_FILE = 'facebank.journal';
/** Records per frame in a compacted file. */
const CHUNK = 256;

export interface LoadedJournal {
  state: FacebankState;
  meta: JournalMeta;
  seq: number;
  /** Bytes of whole frames; a torn tail after them was `cut` bytes long. */
  size: number;
  cut: number;
}

/** Applies checked frames as they are scanned (no frame is kept once applied). */
class JournalBuilder {
  readonly state = new FacebankState();
  meta: JournalMeta | null = null;
  seq = 0;
  private index = 0;

  constructor(readonly file: string) {}

  readonly onFrame = (raw: RawFrame): void => {
    const f = checkFrame(this.file, raw, this.index++);
    if ('meta' in f) {
      this.meta = f.meta;
      this.seq = f.meta.seq;
      return;
    }
    for (const o of f.ops) this.state.apply(o);
    this.seq = Math.max(this.seq, f.seq);
  };

  finish(end: ScanEnd, badMagic: boolean, fileSize: number): LoadedJournal {
    if (badMagic) throw refused(this.file, 'it does not start like a facegate facebank journal');
    if (end.damaged) throw refused(this.file, `the frame at byte ${end.good} fails its checksum and more data follows (damage, not a cut-off write)`);
    if (!this.meta) throw refused(this.file, 'it has no header frame');
    return { state: this.state, meta: this.meta, seq: this.seq, size: end.good, cut: fileSize - end.good };
  }
}

/** Reads and checks a journal's bytes (a torn tail is left out and reported as `cut`); refuses damage and bad records. */
export function loadJournal(file: string, bytes: Buffer): LoadedJournal {
  const b = new JournalBuilder(file);
  const { end, badMagic } = scanFrames(bytes, b.onFrame);
  return b.finish(end!, badMagic, bytes.length);
}

/** Bytes read at a time at open: the file is never held whole. */
const READ_CHUNK = 4 << 20;

/** The journal file read and checked piece by piece (as loadJournal), or null when there is none. */
export async function loadJournalFile(file: string, chunkBytes = READ_CHUNK): Promise<LoadedJournal | null> {
  let h: FileHandle;
  try {
    h = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const size = (await h.stat()).size;
    const b = new JournalBuilder(file);
    let pending = Buffer.alloc(0);
    let base = 0;
    for (let pos = 0; ;) {
      const chunk = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(0, size - pos)));
      let got = 0;
      while (got < chunk.length) {
        const { bytesRead } = await h.read(chunk, got, chunk.length - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      pos += got;
      // The file ends early only if it shrank meanwhile (a reader without the lock can see a compaction's rename).
      const fileSize = got < chunk.length ? pos : size;
      const data = pending.length ? Buffer.concat([pending, chunk.subarray(0, got)]) : chunk.subarray(0, got);
      const r = scanFrames(data, b.onFrame, base, fileSize);
      if (r.end) return b.finish(r.end, r.badMagic, fileSize);
      base += r.consumed;
      pending = Buffer.from(data.subarray(r.consumed));
    }
  } finally {
    await h.close();
  }
}

/** The frames of a compacted journal holding these records, chunk by chunk (so a caller can yield between them). */
export function* compactedFrames(meta: JournalMeta, people: readonly Person[], samples: readonly Sample[]): Generator<Buffer> {
  yield Buffer.concat([JOURNAL_MAGIC, encodeFrame({ meta })]);
  for (let i = 0; i < people.length; i += CHUNK)
    yield encodeFrame({ seq: meta.seq, ops: people.slice(i, i + CHUNK).map((person): JournalOp => ({ t: 'person', person })) });
  for (let i = 0; i < samples.length; i += CHUNK)
    yield encodeFrame({
      seq: meta.seq,
      ops: samples.slice(i, i + CHUNK).map(({ embedding, ...sample }): JournalOp => ({ t: 'sample', sample, embedding })),
    });
}

/**
 * Writes `frames` to a temp file beside `file`, fsyncs it, then calls `beforeRename` with the open handle (to add
 * what changed meanwhile), renames it over `file` and fsyncs the folder. Returns the new file's size.
 */
export async function writeJournalFile(
  file: string,
  frames: Iterable<Buffer>,
  beforeRename?: (h: FileHandle) => Promise<number>,
  between?: () => Promise<void>,
): Promise<number> {
  const tmp = tempBeside(file);
  const h = await open(tmp, 'w', 0o600);
  let size = 0;
  try {
    for (const b of frames) {
      await h.write(b);
      size += b.length;
      if (between) await between();
    }
    await h.sync();
    if (beforeRename) size += await beforeRename(h);
    await h.close();
    await rename(tmp, file);
  } catch (e) {
    await h.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(path.dirname(file));
  return size;
}

/** Appends whole frames to the journal; a failed append is cut off again (at once, or before the next append). */
export class JournalAppender {
  private h: FileHandle | null = null;
  /** Set when a failed append could not be cut off: the next append does it first. */
  private dirty = false;

  constructor(
    readonly file: string,
    /** Bytes of whole frames in the file. */
    public size: number,
  ) {}

  async append(frame: Buffer): Promise<void> {
    this.h ??= await open(this.file, 'r+', 0o600);
    if (this.dirty) {
      await this.h.truncate(this.size);
      this.dirty = false;
    }
    try {
      let done = 0;
      while (done < frame.length) done += (await this.h.write(frame, done, frame.length - done, this.size + done)).bytesWritten;
      await this.h.datasync();
    } catch (e) {
      try {
        await this.h.truncate(this.size);
        await this.h.datasync();
      } catch {
        this.dirty = true;
      }
      throw e;
    }
    this.size += frame.length;
  }

  /** Cuts a torn tail off (at open). */
  async cut(): Promise<void> {
    this.h ??= await open(this.file, 'r+', 0o600);
    await this.h.truncate(this.size);
    await this.h.datasync();
  }

  /** Follows a compaction: the new file (already renamed over this one) of `size` bytes. */
  async reopen(size: number): Promise<void> {
    await this.close();
    this.size = size;
    this.dirty = false;
  }

  async close(): Promise<void> {
    const h = this.h;
    this.h = null;
    await h?.close();
  }
}
