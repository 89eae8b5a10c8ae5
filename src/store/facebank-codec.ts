/**
 * The facebank journal's binary format (<dataDir>/facebank.journal).
 *
 * File: the 8 bytes "FGFBJ\0\0\x02", then frames. Frame: u32 LE payload length, u32 LE CRC-32 of the payload, the
 * payload. Payload: u32 LE length of a UTF-8 JSON header, the header, zero padding to a multiple of 4, then the
 * float32 LE values the header's ops announce (`dim` each), in op order. The first frame is `{ meta }`; every
 * other frame is one committed change `{ seq, ops }`, applied whole or not at all.
 */
import { crc32 } from 'node:zlib';
import type { Person, SampleRecord } from './types.js';

export const JOURNAL_MAGIC = Buffer.from('FGFBJ\0\0\x02', 'latin1');
export const FRAME_HEAD = 8;
/** Largest payload a frame may declare (a re-embedding of 200,000 samples of 512 values fits). */
export const MAX_FRAME = 512 * 1024 * 1024;

/** A sample op's record without its embedding (that is binary, `dim` float32 values). */
export type SampleMeta = Omit<SampleRecord, 'embedding'>;

/** One change to the facebank's records as the journal keeps it. */
export type JournalOp =
  | { t: 'person'; person: Person }
  | { t: 'person.delete'; id: string }
  | { t: 'sample'; sample: SampleMeta; embedding: Float32Array }
  | { t: 'sample.delete'; id: string }
  | { t: 'embedding'; id: string; modelId: string; embedding: Float32Array };

export interface JournalMeta {
  format: 'facegate-facebank';
  version: 2;
  /** The seq of the last change the file's records include (a compacted file has no change frames yet). */
  seq: number;
  /** sha256 of the facebank.json this journal was imported from. */
  imported?: string;
}

export type Frame = { meta: JournalMeta } | { seq: number; ops: JournalOp[] };

type HeaderOp =
  | { t: 'person'; person: Person }
  | { t: 'person.delete'; id: string }
  | { t: 'sample'; sample: SampleMeta; dim: number }
  | { t: 'sample.delete'; id: string }
  | { t: 'embedding'; id: string; modelId: string; dim: number };

/** The frame as bytes, ready to append. */
export function encodeFrame(frame: Frame): Buffer {
  let floats = 0;
  const header: unknown =
    'meta' in frame
      ? frame
      : {
          seq: frame.seq,
          ops: frame.ops.map((o): HeaderOp => {
            if (o.t === 'sample') {
              floats += o.embedding.length;
              return { t: o.t, sample: o.sample, dim: o.embedding.length };
            }
            if (o.t === 'embedding') {
              floats += o.embedding.length;
              return { t: o.t, id: o.id, modelId: o.modelId, dim: o.embedding.length };
            }
            return o;
          }),
        };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const jsonEnd = 4 + json.length;
  const floatsAt = (jsonEnd + 3) & ~3;
  const payload = Buffer.alloc(floatsAt + floats * 4);
  payload.writeUInt32LE(json.length, 0);
  json.copy(payload, 4);
  if (floats) {
    const out = new Float32Array(payload.buffer, payload.byteOffset + floatsAt, floats);
    let k = 0;
    if (!('meta' in frame))
      for (const o of frame.ops)
        if (o.t === 'sample' || o.t === 'embedding') {
          out.set(o.embedding, k);
          k += o.embedding.length;
        }
  }
  const head = Buffer.alloc(FRAME_HEAD);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

/** Where reading stopped short of the end of the file. */
export interface ScanEnd {
  /** Bytes of whole, checked frames (the magic included). */
  good: number;
  /** The file ends in an incomplete or unchecked frame (a write cut by a crash): cut it off at `good`. */
  torn: boolean;
  /** A frame that fails its check is followed by more data: damage, not a torn write. */
  damaged: boolean;
}

/** A frame's payload as raw parts: the JSON header (unchecked) and its float32 values. */
export interface RawFrame {
  offset: number;
  header: unknown;
  floats: Float32Array;
}

/**
 * Scans whole frames from `bytes`, the part of a journal file of `fileSize` bytes that starts at byte `base` (0: the
 * magic first), handing each checked frame to `onFrame`. Returns how many bytes it consumed and, once it can tell,
 * where the file's checked part ends: a frame whose length runs past the end of the file, or whose CRC fails as the
 * last thing in it, is a torn tail; a bad frame with data after it is damage. `end` is null when it needs more bytes.
 */
export function scanFrames(
  bytes: Buffer,
  onFrame: (raw: RawFrame) => void,
  base = 0,
  fileSize = base + bytes.length,
): { consumed: number; end: ScanEnd | null; badMagic: boolean } {
  let at = 0;
  if (base === 0) {
    if (bytes.length < JOURNAL_MAGIC.length && fileSize > bytes.length) return { consumed: 0, end: null, badMagic: false };
    if (bytes.length < JOURNAL_MAGIC.length || !bytes.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC))
      return { consumed: 0, end: { good: 0, torn: false, damaged: false }, badMagic: true };
    at = JOURNAL_MAGIC.length;
  }
  const stop = (end: ScanEnd) => ({ consumed: at, end, badMagic: false });
  const more = () => ({ consumed: at, end: null, badMagic: false });
  const haveAll = base + bytes.length >= fileSize;
  while (at < bytes.length) {
    const rest = bytes.length - at;
    if (rest < FRAME_HEAD) return haveAll ? stop({ good: base + at, torn: true, damaged: false }) : more();
    const len = bytes.readUInt32LE(at);
    const ends = at + FRAME_HEAD + len;
    if (len < 4 || len > MAX_FRAME || base + ends > fileSize) {
      // Incomplete, or a length no writer wrote: torn when nothing but that frame (or zeros) follows.
      if (!haveAll) return more();
      const tail = bytes.subarray(at);
      return stop({ good: base + at, torn: base + ends > fileSize || tail.every((b) => b === 0), damaged: false });
    }
    if (ends > bytes.length) return more();
    const payload = bytes.subarray(at + FRAME_HEAD, ends);
    if (crc32(payload) !== bytes.readUInt32LE(at + 4)) {
      const last = base + ends === fileSize;
      return stop({ good: base + at, torn: last, damaged: !last });
    }
    const jsonLen = payload.readUInt32LE(0);
    let header: unknown;
    try {
      if (4 + jsonLen > payload.length) throw new Error('header longer than its frame');
      header = JSON.parse(payload.toString('utf8', 4, 4 + jsonLen));
    } catch {
      return stop({ good: base + at, torn: false, damaged: true });
    }
    const floatsAt = (4 + jsonLen + 3) & ~3;
    const count = Math.max(0, (payload.length - floatsAt) >> 2);
    // Copied out (aligned, and the file's bytes are not kept); the frame's samples share this one block.
    const start = payload.byteOffset + floatsAt;
    const floats = new Float32Array(payload.buffer.slice(start, start + count * 4));
    onFrame({ offset: base + at, header, floats });
    at = ends;
  }
  return haveAll ? stop({ good: base + at, torn: false, damaged: false }) : more();
}
