import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { createLogger, type Logger } from '../../src/util/log.js';
import { ffmpegBinary } from '../../src/ingest/ffmpeg.js';

/** Polls until the predicate holds; throws with `what` after timeoutMs. */
export async function waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A real pino logger whose JSON lines are kept in `lines`. */
export function captureLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger('info', sink), lines };
}

/** Cuts the first `seconds` of a clip (video only, stream copy) into `out`. */
export function cutClip(src: string, seconds: number, out: string): void {
  const r = spawnSync(ffmpegBinary(), ['-v', 'error', '-i', src, '-t', String(seconds), '-an', '-c', 'copy', '-y', out]);
  if (r.status !== 0) throw new Error(`ffmpeg could not cut the clip: ${r.stderr.toString()}`);
}
