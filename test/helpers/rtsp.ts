/** A real RTSP server (GStreamer, test/helpers/rtsp_server.py) serving a looped clip, for camera tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ffmpegBinary } from '../../src/ingest/ffmpeg.js';
import { killAndWait } from '../../src/util/child.js';
import { freePort, waitForPort } from './ports.js';
import { locate, need } from './prereqs.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rtsp_server.py');
/** A python3 that imports GstRtspServer (found by prereqs.mjs). */
const PYTHON = locate('rtsp');

/** True when python3-gi with GstRtspServer is installed. Missing: strict mode throws here, otherwise the skip is announced. */
export const hasRtspServer = need('the tests that use the RTSP server', 'rtsp');

export class RtspServer {
  private child: ChildProcess | null = null;
  private tmp: string | null = null;
  private file = '';
  port = 0;

  /** @param clip an H.264 mp4; it is repeated `loops` times (video only) so a stream lasts long enough. */
  constructor(
    private readonly clip: string,
    private readonly loops = 6,
  ) {}

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}/stream`;
  }

  async start(): Promise<void> {
    if (!this.tmp) {
      this.tmp = mkdtempSync(path.join(os.tmpdir(), 'facegate-rtsp-'));
      this.file = path.join(this.tmp, 'looped.mp4');
      const r = spawnSync(ffmpegBinary(), ['-v', 'error', '-stream_loop', String(this.loops - 1), '-i', this.clip, '-an', '-c', 'copy', '-y', this.file]);
      if (r.status !== 0) throw new Error(`could not prepare the RTSP clip: ${r.stderr.toString()}`);
    }
    if (!this.port) this.port = await freePort();
    await this.spawn();
  }

  /** Kills the server abruptly (SIGKILL) and waits for it to exit. */
  async stop(): Promise<void> {
    const c = this.child;
    this.child = null;
    await killAndWait(c);
  }

  /** Brings the server back on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = null;
  }

  private async spawn(): Promise<void> {
    let stderr = '';
    const child = spawn(PYTHON!, [script, '--port', String(this.port), '--file', this.file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('READY') && resolve());
      child.once('exit', (code) => reject(new Error(`rtsp_server.py exited (${code}): ${stderr}`)));
    });
    await waitForPort(this.port);
  }
}
