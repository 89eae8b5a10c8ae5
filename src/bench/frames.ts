/** Benchmark inputs decoded into memory: frames of the Hamilton clip (ffmpeg) and WIDER val images (sharp). */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import sharp from 'sharp';
import { FacegateError } from '../util/errors.js';
import type { RgbImage } from '../vision/types.js';

/** Repo root: src/bench or dist/bench are both two levels down. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Root of the shared face data: FACEGATE_TEST_DATA, else ../shared/data beside the checkout. */
export function dataRoot(): string {
  return process.env.FACEGATE_TEST_DATA ?? path.resolve(repoRoot, '../shared/data');
}

/** Absolute path inside the data root; throws a clear error when it is missing. */
export function requireData(...parts: string[]): string {
  const p = path.join(dataRoot(), ...parts);
  if (!existsSync(p)) {
    throw new FacegateError('bench_data_missing', `Benchmark data not found: ${p}. Set FACEGATE_TEST_DATA to the folder that holds video/ and detection/.`);
  }
  return p;
}

export const HAMILTON_CLIP = ['video', 'hamilton', 'short_hamilton_clip.mp4'];
export const WIDER_VAL = ['detection', 'wider-val-200'];

export interface VideoFrameOptions {
  /** Resample to this frame rate (ffmpeg fps filter); default: the file's own rate. */
  fps?: number;
  /** Scale to this width, keeping the aspect ratio (height rounded to even); default: native size. */
  width?: number;
  /** Stop after this many frames. */
  maxFrames?: number;
  /** ffmpeg binary; default: @ffmpeg-installer/ffmpeg. */
  ffmpegPath?: string;
}

/** Reads the video's frame size with ffmpeg itself (no ffprobe in the installer package). */
async function probeSize(ffmpeg: string, file: string): Promise<{ width: number; height: number }> {
  const { stderr } = await runFfmpeg(ffmpeg, ['-hide_banner', '-i', file], true);
  const m = /Video:.*?\b(\d{2,5})x(\d{2,5})\b/.exec(stderr);
  if (!m) throw new FacegateError('bench_video_unreadable', `ffmpeg found no video stream in ${file}.`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function runFfmpeg(ffmpeg: string, args: string[], allowFail = false, onData?: (b: Buffer) => boolean) {
  return new Promise<{ stderr: string }>((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stopped = false;
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
    });
    child.stdout.on('data', (b: Buffer) => {
      if (!stopped && onData && !onData(b)) {
        stopped = true;
        child.kill('SIGTERM');
      }
    });
    child.on('error', (e) => reject(new FacegateError('ffmpeg_start', `Could not start ffmpeg (${ffmpeg}): ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      if (code === 0 || allowFail || stopped) resolve({ stderr });
      else reject(new FacegateError('ffmpeg_failed', `ffmpeg exited with code ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** Decodes a video file into RGB frames held in memory. */
export async function decodeVideo(file: string, opts: VideoFrameOptions = {}): Promise<RgbImage[]> {
  if (!existsSync(file)) throw new FacegateError('bench_data_missing', `Video not found: ${file}.`);
  const ffmpeg = opts.ffmpegPath ?? ffmpegInstaller.path;
  let { width, height } = await probeSize(ffmpeg, file);
  const filters: string[] = [];
  if (opts.fps) filters.push(`fps=${opts.fps}`);
  if (opts.width && opts.width !== width) {
    height = Math.max(2, Math.round((height * opts.width) / width / 2) * 2);
    width = opts.width;
    filters.push(`scale=${width}:${height}`);
  }
  const frameBytes = width * height * 3;
  const max = opts.maxFrames ?? Infinity;
  const frames: RgbImage[] = [];
  // Chunks arrive at arbitrary sizes: gather into one frame buffer and cut exactly at frameBytes.
  let cur = new Uint8Array(frameBytes);
  let fill = 0;
  const onData = (b: Buffer): boolean => {
    let off = 0;
    while (off < b.length && frames.length < max) {
      const n = Math.min(frameBytes - fill, b.length - off);
      cur.set(b.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === frameBytes) {
        frames.push({ width, height, data: cur });
        cur = new Uint8Array(frameBytes);
        fill = 0;
      }
    }
    return frames.length < max;
  };
  // -vsync passthrough: the bundled ffmpeg (2018 build) otherwise pads rawvideo output to constant rate,
  // repeating the Hamilton clip's first frame 26 times.
  const args = ['-hide_banner', '-loglevel', 'error', '-i', file, '-an', '-vsync', 'passthrough'];
  if (filters.length) args.push('-vf', filters.join(','));
  if (Number.isFinite(max)) args.push('-frames:v', String(max));
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  await runFfmpeg(ffmpeg, args, false, onData);
  if (frames.length === 0) throw new FacegateError('bench_video_unreadable', `ffmpeg decoded no frames from ${file}.`);
  return frames;
}

/** Frames of the shared Hamilton clip (640x360, 29.97 fps, 10 s). */
export function hamiltonFrames(opts: VideoFrameOptions = {}): Promise<RgbImage[]> {
  return decodeVideo(requireData(...HAMILTON_CLIP), opts);
}

/** Image paths listed in the WIDER val subset's labels.txt, in file order. */
export function widerImagePaths(): string[] {
  const dir = requireData(...WIDER_VAL);
  const labels = requireData(...WIDER_VAL, 'labels.txt');
  const paths: string[] = [];
  for (const line of readFileSync(labels, 'utf8').split('\n')) {
    // Image lines: "# <path> <width> <height>"; the header comment has no such shape.
    const m = /^#\s+(\S+)\s+\d+\s+\d+\s*$/.exec(line);
    if (m) paths.push(path.join(dir, 'images', m[1]!));
  }
  if (paths.length === 0) throw new FacegateError('bench_data_missing', `No image entries in ${labels}.`);
  return paths;
}

/** Decodes one image file to RGB (alpha dropped; EXIF orientation ignored so pixels match WIDER labels). */
export async function decodeImage(file: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new FacegateError('bench_image_unreadable', `Could not decode image ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** The first `count` images of the WIDER val subset (all 200 when omitted). */
export async function widerImages(count?: number): Promise<RgbImage[]> {
  const paths = widerImagePaths().slice(0, count);
  const out: RgbImage[] = [];
  for (const p of paths) out.push(await decodeImage(p));
  return out;
}
