/** Cuts a raw byte stream into fixed-size frames and keeps only the newest complete one. */

export interface Frame {
  data: Uint8Array;
  seq: number;
  /** Epoch ms when the frame was complete. */
  time: number;
}

export class LatestFrame {
  private partial: Uint8Array | null = null;
  private filled = 0;
  private latest: Frame | null = null;
  private seq: number;
  /** Complete frames replaced before anyone took them. */
  dropped = 0;
  /** Complete frames seen. */
  frames = 0;

  /** @param startSeq sequence number before the first frame (continues numbering across restarts). */
  constructor(
    readonly frameSize: number,
    startSeq = 0,
  ) {
    this.seq = startSeq;
  }

  /** Sequence number of the newest complete frame. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Feeds a chunk; returns how many frames completed. Copies only bytes of frames that can still be taken. */
  push(chunk: Uint8Array): number {
    let off = 0;
    let completed = 0;
    const size = this.frameSize;
    while (off < chunk.length) {
      const need = size - this.filled;
      const rest = chunk.length - off;
      if (this.filled === 0 && rest >= size) {
        // Whole frame(s) inside this chunk: skip all but the last, which is kept without copying.
        const whole = Math.floor(rest / size);
        if (whole > 1) {
          this.skip(whole - 1);
          completed += whole - 1;
          off += (whole - 1) * size;
        }
        this.complete(chunk.subarray(off, off + size));
        completed++;
        off += size;
        continue;
      }
      if (!this.partial) this.partial = new Uint8Array(size);
      const n = Math.min(need, rest);
      this.partial.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === size) {
        const data = this.partial;
        this.partial = null;
        this.filled = 0;
        this.complete(data);
        completed++;
      }
    }
    return completed;
  }

  /** The newest frame not yet taken, or null. */
  take(): Frame | null {
    const f = this.latest;
    this.latest = null;
    return f;
  }

  /** Bytes held: the untaken frame plus the one being filled. */
  get heldBytes(): number {
    return (this.latest ? this.frameSize : 0) + (this.partial ? this.frameSize : 0);
  }

  private skip(n: number) {
    if (this.latest) this.dropped++;
    this.dropped += n;
    this.latest = null;
    this.seq += n;
    this.frames += n;
  }

  private complete(data: Uint8Array) {
    if (this.latest) this.dropped++;
    this.seq++;
    this.frames++;
    this.latest = { data, seq: this.seq, time: Date.now() };
  }
}
