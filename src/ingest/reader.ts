/**
 * Reads every sampled frame of one source, in order, as fast as ffmpeg decodes it (files are not paced):
 * what `facegate scan` needs to run a clip to its end deterministically. Live cameras use camera.ts instead.
 */
import { spawn } from 'node:child_process';
import { FacegateError } from '../util/errors.js';
import type { RgbImage } from '../vision/types.js';
import { failureReason, ffmpegBinary, inputOptionsFor, OutputSizeReader, outputOptionsFor, sourceKind } from './ffmpeg.js';
import { redactUrl } from '../util/redact.js';

export interface ReadOptions {
  fps: number;
  width: number;
  ffmpegPath?: string;
  inputOptions?: string[];
  /** Stop after this many seconds of stream time (live sources). */
  durationSeconds?: number;
}

export interface ReadFrame {
  image: RgbImage;
  /** Position in the stream, ms (frame index / fps). */
  offsetMs: number;
}

export async function* readFrames(url: string, o: ReadOptions): AsyncGenerator<ReadFrame> {
  // Files are read unpaced: drop the -re that live file cameras use.
  const input = inputOptionsFor({ url, inputOptions: o.inputOptions }).filter((a) => !(sourceKind(url) === 'file' && a === '-re'));
  const args = [
    '-hide_banner',
    ...input,
    '-i',
    url.replace(/^file:\/\//i, ''),
    ...(o.durationSeconds ? ['-t', String(o.durationSeconds)] : []),
    ...outputOptionsFor(o.fps, o.width),
    'pipe:1',
  ];
  const child = spawn(ffmpegBinary(o.ffmpegPath), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderrLines: string[] = [];
  const sizeReader = new OutputSizeReader();
  let size: { width: number; height: number } | null = null;
  let sizeKnown!: () => void;
  const sizeReady = new Promise<void>((r) => (sizeKnown = r));
  let carry = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    const lines = (carry + s).split(/\r?\n|\r/);
    carry = lines.pop() ?? '';
    for (const line of lines) {
      stderrLines.push(line);
      if (stderrLines.length > 200) stderrLines.shift();
      const got = !size && sizeReader.read(line);
      if (got) {
        size = got;
        sizeKnown();
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  child.once('error', () => sizeKnown());
  void exited.then(() => sizeKnown());

  try {
    await sizeReady;
    if (!size) {
      const code = await exited;
      const why = failureReason(stderrLines) ?? `ffmpeg exited with code ${code}`;
      throw new FacegateError('source', `Cannot read ${redactUrl(url)}: ${why}.`);
    }
    const { width, height } = size;
    const frameBytes = width * height * 3;
    let cur = new Uint8Array(frameBytes);
    let fill = 0;
    let index = 0;
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frameBytes - fill, chunk.length - off);
        cur.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === frameBytes) {
          yield { image: { width, height, data: cur }, offsetMs: (index++ * 1000) / o.fps };
          cur = new Uint8Array(frameBytes);
          fill = 0;
        }
      }
    }
    const code = await exited;
    if (code !== 0 && index === 0) {
      throw new FacegateError('source', `Cannot read ${redactUrl(url)}: ${failureReason(stderrLines) ?? `ffmpeg exited with code ${code}`}.`);
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
