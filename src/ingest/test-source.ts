/**
 * "Test" for a camera before it is saved: ffmpeg opens the source with the appliance's own input and output
 * options (src/ingest/ffmpeg.ts) and hands over one decoded frame, with the source's size and frame rate; or the
 * reason it failed, in one sentence with any credentials hidden.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { redactUrl } from '../util/redact.js';
import type { RgbImage } from '../vision/types.js';
import type { CameraSource } from './camera.js';
import { OutputSizeReader, failureReason, ffmpegBinary, inputOptionsFor, inputPath, outputOptionsFor } from './ffmpeg.js';

export interface SourceTestOptions {
  camera: CameraSource;
  /** pipeline.fps and pipeline.frameWidth, used when the camera sets none. */
  defaultFps: number;
  defaultWidth: number;
  ffmpegPath?: string;
  /** Give up when no frame came within this long (ms); default 15 s. */
  timeoutMs?: number;
}

export type SourceTest =
  | {
      ok: true;
      /** The first decoded frame, at the size the appliance analyses. */
      image: RgbImage;
      /** The stream's own size and frame rate as ffmpeg reports them (null when it does not say). */
      source: { width: number | null; height: number | null; fps: number | null; codec: string | null };
      /** Frames per second the appliance will analyse. */
      fps: number;
    }
  | { ok: false; error: string };

/** Reads the input video stream's codec, size and frame rate from ffmpeg's stderr header. */
export class InputStreamReader {
  private inInput = false;
  found: { width: number | null; height: number | null; fps: number | null; codec: string | null } | null = null;

  read(line: string): void {
    if (/^\s*Input #/.test(line)) this.inInput = true;
    else if (/^\s*Output #/.test(line)) this.inInput = false;
    if (!this.inInput || this.found) return;
    const m = /Stream #\d+:\d+.*?Video: ([A-Za-z0-9_]+)(.*)$/.exec(line);
    if (!m) return;
    const size = /,\s*(\d{1,5})x(\d{1,5})/.exec(m[2]!);
    const fps = /(\d+(?:\.\d+)?) fps/.exec(m[2]!) ?? /(\d+(?:\.\d+)?) tbr/.exec(m[2]!);
    this.found = {
      codec: m[1]!,
      width: size ? Number(size[1]) : null,
      height: size ? Number(size[2]) : null,
      fps: fps ? Number(fps[1]) : null,
    };
  }
}

/** Opens the source once and takes its first frame; never throws for a source that fails (that is the answer). */
export function testSource(o: SourceTestOptions): Promise<SourceTest> {
  const bin = ffmpegBinary(o.ffmpegPath);
  if (!existsSync(bin)) return Promise.resolve({ ok: false, error: `ffmpeg was not found at ${bin}; check ffmpeg.path in the config.` });
  const fps = o.camera.fps ?? o.defaultFps;
  const width = o.camera.width ?? o.defaultWidth;
  const timeoutMs = o.timeoutMs ?? 15_000;
  const args = ['-hide_banner', ...inputOptionsFor(o.camera), '-i', inputPath(o.camera.url), ...outputOptionsFor(fps, width), '-frames:v', '1', 'pipe:1'];
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const outSize = new OutputSizeReader();
    const input = new InputStreamReader();
    const tail: string[] = [];
    let size: { width: number; height: number } | null = null;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    let timedOut = false;
    const finish = (r: SourceTest) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let pending = '';
    child.stderr.on('data', (d: Buffer) => {
      const lines = (pending + d.toString('utf8')).split(/\r?\n|\r/);
      pending = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 60) tail.shift();
        input.read(line);
        size ??= outSize.read(line);
      }
    });
    child.stdout.on('data', (d: Buffer) => {
      chunks.push(d);
      bytes += d.length;
      if (size && bytes >= size.width * size.height * 3) {
        const frame = Buffer.concat(chunks).subarray(0, size.width * size.height * 3);
        finish({
          ok: true,
          image: { width: size.width, height: size.height, data: new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength) },
          source: input.found ?? { width: null, height: null, fps: null, codec: null },
          fps,
        });
      }
    });
    child.on('error', (e) => finish({ ok: false, error: `ffmpeg could not be started: ${e.message}.` }));
    child.on('close', () => {
      if (pending) tail.push(pending);
      const reason = failureReason(tail);
      if (timedOut) {
        finish({ ok: false, error: `No frame came within ${Math.round(timeoutMs / 1000)} s${reason ? `: ${reason}` : ''}.` });
        return;
      }
      if (reason) return finish({ ok: false, error: sentence(redactUrl(reason)) });
      const last = tail
        .filter((l) => l.trim())
        .at(-1)
        ?.trim();
      finish({ ok: false, error: last ? sentence(`ffmpeg failed: ${redactUrl(last).slice(0, 200)}`) : 'ffmpeg ended without a frame.' });
    });
  });
}

/** `connection refused: …` → `Connection refused: ….` */
const sentence = (s: string) => {
  const t = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(t) ? t : `${t}.`;
};
