/**
 * One camera: an ffmpeg child (fluent-ffmpeg) decoding to raw rgb24 on stdout, supervised.
 * Newest-frame semantics: only the newest complete frame is kept; older untaken frames count as dropped.
 * A failed camera is restarted with exponential backoff, but while it waits the source is probed once a second
 * (TCP connect for network sources, existence for files and devices): when a source that did not answer answers
 * again, the camera restarts at once instead of waiting out a backoff grown during a long outage.
 * The status is announced on every state change and every `statusIntervalSeconds` with live figures.
 */
import { existsSync } from 'node:fs';
import ffmpeg from 'fluent-ffmpeg';
import { FacegateError } from '../util/errors.js';
import type { Bus } from '../events/bus.js';
import type { Logger } from '../util/log.js';
import { silentLogger } from '../util/log.js';
import type { CameraStatus } from '../events/types.js';
import type { RgbImage } from '../vision/types.js';
import { LatestFrame } from './framer.js';
import { answers, probeTarget } from './probe.js';
import { OutputSizeReader, failureReason, ffmpegBinary, inputOptionsFor, inputPath, outputOptionsFor, sourceKind } from './ffmpeg.js';

/** ffmpeg's progress and summary lines, never the reason it stopped. */
const FFMPEG_STATS = /^(frame=|size=|video:\d|\[out#\d|Exiting normally)/;
import { redactUrl } from '../util/redact.js';

export interface CameraSource {
  name: string;
  url: string;
  loop?: boolean;
  fps?: number;
  width?: number;
  inputOptions?: string[];
}

export interface CameraOptions {
  camera: CameraSource;
  /** Used when the camera sets no fps / width (pipeline.fps, pipeline.frameWidth). */
  defaultFps?: number;
  defaultWidth?: number;
  staleAfterSeconds?: number;
  maxBackoffSeconds?: number;
  /** ffmpeg binary (config ffmpeg.path); default: @ffmpeg-installer/ffmpeg. */
  ffmpegPath?: string;
  bus?: Bus;
  log?: Logger;
  /** Ms between SIGTERM and SIGKILL when stopping ffmpeg. */
  killGraceMs?: number;
  /** Seconds between status announcements while nothing changes (live fps, last frame time); default 10. */
  statusIntervalSeconds?: number;
}

export interface CameraFrame {
  image: RgbImage;
  seq: number;
  /** Epoch ms at decode. */
  time: number;
}

const FPS_WINDOW_MS = 5000;
const HEALTHY_MS = 60_000;
const MAX_PRE_SIZE_BYTES = 64 << 20;
/** Failure reasons that mean nobody answered at the source's address (failureReason's wording). */
const UNREACHABLE = /connection refused|no such file|cannot be reached|timed out|cannot be resolved/i;
/** While waiting to restart, the source is probed this often. */
const PROBE_MS = 1000;

export class Camera {
  readonly name: string;
  private readonly fps: number;
  private readonly width: number;
  private readonly staleMs: number;
  private readonly maxBackoffMs: number;
  private readonly log: Logger;
  private readonly kind;

  private cmd: ffmpeg.FfmpegCommand | null = null;
  private exited: Promise<void> | null = null;
  /** Resolves once the child process exists (fluent-ffmpeg spawns asynchronously). */
  private spawned: Promise<void> | null = null;
  private frames: LatestFrame | null = null;
  private size: { width: number; height: number } | null = null;
  private droppedBefore = 0;
  private seqBase = 0;
  private stderrTail: string[] = [];
  private frameTimes: number[] = [];
  private spawnedAt = 0;
  private onlineSince = 0;
  private attempt = 0;
  private running = false;
  private staleKill = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private readonly loggedReasons = new Set<string>();
  private endedResolve!: () => void;
  private readonly ended: Promise<void>;
  private st: CameraStatus;

  constructor(private readonly opts: CameraOptions) {
    const c = opts.camera;
    this.name = c.name;
    this.fps = c.fps ?? opts.defaultFps ?? 5;
    this.width = c.width ?? opts.defaultWidth ?? 640;
    this.staleMs = (opts.staleAfterSeconds ?? 10) * 1000;
    this.maxBackoffMs = (opts.maxBackoffSeconds ?? 30) * 1000;
    this.log = (opts.log ?? silentLogger()).child({ camera: c.name });
    this.kind = sourceKind(c.url);
    this.ended = new Promise((r) => (this.endedResolve = r));
    this.st = { camera: c.name, state: 'offline', fps: 0, lastFrameTime: null, restarts: 0, framesDropped: 0, lastError: null };
  }

  /** Current status, fps measured over the last few seconds. */
  get status(): CameraStatus {
    return { ...this.st, fps: this.measuredFps(), framesDropped: this.dropped() };
  }

  /** Output frame size once ffmpeg has announced it. */
  get frameSize(): { width: number; height: number } | null {
    return this.size;
  }

  /** Bytes of frame data held right now (at most two frames). */
  get heldBytes(): number {
    return this.frames?.heldBytes ?? 0;
  }

  start(): void {
    if (this.running) return;
    const bin = ffmpegBinary(this.opts.ffmpegPath);
    if (!existsSync(bin)) throw new FacegateError('ffmpeg_not_found', `ffmpeg not found at ${bin}: check ffmpeg.path in the config`);
    this.running = true;
    this.spawn();
    const tick = Math.max(100, Math.min(1000, this.staleMs / 4));
    this.watchdog = setInterval(() => this.checkStale(), tick);
    this.watchdog.unref();
    this.statusTimer = setInterval(() => this.announce(), (this.opts.statusIntervalSeconds ?? 10) * 1000);
    this.statusTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.cancelRestart();
    this.watchdog = this.statusTimer = null;
    await this.kill();
    if (this.st.state !== 'offline') this.setState({ state: 'offline' });
  }

  /** Newest frame not yet taken, else null. */
  takeLatest(): CameraFrame | null {
    const f = this.frames?.take();
    if (!f || !this.size) return null;
    return { image: { width: this.size.width, height: this.size.height, data: f.data }, seq: f.seq, time: f.time };
  }

  /** Resolves when a non-looped file source has played to its end. */
  waitEnded(): Promise<void> {
    return this.ended;
  }

  private spawn() {
    const c = this.opts.camera;
    if (this.frames) {
      // The previous run's untaken frame is stale now.
      this.droppedBefore += this.frames.dropped + (this.frames.take() ? 1 : 0);
      this.seqBase = this.frames.lastSeq;
    }
    this.frames = null;
    this.size = null;
    this.stderrTail = [];
    this.staleKill = false;
    this.spawnedAt = Date.now();
    this.setState({ state: 'starting' });

    const pending: Buffer[] = [];
    let pendingBytes = 0;
    const sizeReader = new OutputSizeReader();
    const cmd = ffmpeg()
      .setFfmpegPath(ffmpegBinary(this.opts.ffmpegPath))
      .input(inputPath(c.url))
      .inputOptions(inputOptionsFor(c))
      .outputOptions(outputOptionsFor(this.fps, this.width));
    this.cmd = cmd;

    const onFrames = (n: number) => {
      if (n === 0) return;
      const now = Date.now();
      for (let i = 0; i < n; i++) this.frameTimes.push(now);
      this.pruneFrameTimes(now);
      this.st.lastFrameTime = new Date(now).toISOString();
      if (this.st.state !== 'online') {
        this.onlineSince = now;
        this.loggedReasons.clear();
        this.log.info({ width: this.size?.width, height: this.size?.height }, 'camera online');
        this.setState({ state: 'online', lastError: null });
      }
    };

    cmd.on('stderr', (line: string) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
      if (this.size) return;
      const size = sizeReader.read(line);
      if (!size) return;
      this.size = size;
      this.frames = new LatestFrame(size.width * size.height * 3, this.seqBase);
      for (const b of pending) onFrames(this.frames.push(b));
      pending.length = 0;
    });

    this.spawned = new Promise<void>((resolve) => cmd.once('start', () => resolve()));
    this.exited = new Promise<void>((resolve) => {
      cmd.on('error', (err: Error) => {
        this.onExit(cmd, err);
        resolve();
      });
      cmd.on('end', () => {
        this.onExit(cmd, null);
        resolve();
      });
    });

    const out = cmd.pipe();
    out.on('data', (chunk: Buffer) => {
      if (this.cmd !== cmd) return;
      if (this.frames) return onFrames(this.frames.push(chunk));
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes > MAX_PRE_SIZE_BYTES) {
        this.stderrTail.push('frame size unknown: no output stream line from ffmpeg');
        void this.kill();
      }
    });
    out.on('error', () => {});
  }

  private onExit(cmd: ffmpeg.FfmpegCommand, err: Error | null) {
    if (this.cmd !== cmd) return;
    this.cmd = null;
    this.frameTimes = [];
    if (!this.running) return;

    if (!err && this.kind === 'file' && !this.opts.camera.loop) {
      this.log.info('end of file');
      this.running = false;
      if (this.watchdog) clearInterval(this.watchdog);
      if (this.statusTimer) clearInterval(this.statusTimer);
      this.setState({ state: 'offline', lastError: 'end of file' });
      this.endedResolve();
      return;
    }

    let reason = failureReason(this.stderrTail);
    if (!reason && this.staleKill) reason = `no frame for ${this.staleMs / 1000} s`;
    if (!reason && !err) reason = 'the stream ended';
    if (!reason) {
      // A stream that gave frames and stopped without a known error ended; else ffmpeg's last line that is not its
      // progress or end-of-run summary ("frame=…", "video:2531kB audio:0kB …") says why.
      const last = this.stderrTail.filter((l) => l.trim() && !FFMPEG_STATS.test(l.trim())).at(-1);
      const said = last?.trim().slice(0, 200);
      if (this.onlineSince) reason = said ? `the stream ended (ffmpeg: ${said})` : 'the stream ended';
      else reason = `ffmpeg failed: ${said ?? err!.message}`;
    }
    reason = redactUrl(reason);
    if (!this.loggedReasons.has(reason)) {
      this.loggedReasons.add(reason);
      this.log.warn({ url: redactUrl(this.opts.camera.url), reason }, `camera offline: ${reason}`);
    }

    if (this.onlineSince && Date.now() - this.onlineSince >= HEALTHY_MS) this.attempt = 0;
    this.onlineSince = 0;
    const delay = Math.min(1000 * 2 ** this.attempt, this.maxBackoffMs);
    this.attempt++;
    this.setState({ state: 'offline', lastError: reason });
    this.restartTimer = setTimeout(() => this.restartNow(), delay);
    if (delay > PROBE_MS) this.probeUntilBack(UNREACHABLE.test(reason));
  }

  private restartNow() {
    this.cancelRestart();
    if (!this.running) return;
    this.st.restarts++;
    this.spawn();
  }

  private cancelRestart() {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.restartTimer = this.probeTimer = null;
  }

  /**
   * Probes the source once a second while a restart waits. When the source did not answer (the last attempt found
   * nobody there, or a probe failed), the first probe that succeeds restarts the camera at once: it came back.
   * A source that answers all along (it accepts connections but its stream fails) keeps the normal backoff, so a
   * broken camera is not hammered.
   */
  private probeUntilBack(unreachable: boolean) {
    const url = inputPath(this.opts.camera.url);
    const target = this.kind === 'rtsp' || this.kind === 'http' ? probeTarget(url) : null;
    if (!target && this.kind !== 'file' && this.kind !== 'v4l2') return;
    let wasDown = unreachable;
    let busy = false;
    this.probeTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (target ? answers(target) : Promise.resolve(existsSync(url))).then((up) => {
        busy = false;
        if (!this.probeTimer || !this.running) return;
        if (!up) wasDown = true;
        else if (wasDown) {
          this.log.info('camera source answers again; restarting now');
          this.attempt = 0; // the outage is over: a failure now starts the backoff afresh
          this.restartNow();
        }
      });
    }, PROBE_MS);
    this.probeTimer.unref();
  }

  /** Re-announces the current status (live fps and last frame time) while the camera runs. */
  private announce() {
    if (this.running) this.opts.bus?.emit('cameraStatus', this.status);
  }

  private checkStale() {
    if (!this.cmd) return;
    const last = this.st.lastFrameTime && this.st.state === 'online' ? Date.parse(this.st.lastFrameTime) : this.spawnedAt;
    if (Date.now() - last < this.staleMs) return;
    this.staleKill = true;
    void this.kill();
  }

  /** SIGTERM, then SIGKILL after the grace; resolves when the child has exited. */
  private async kill(): Promise<void> {
    const cmd = this.cmd;
    const exited = this.exited;
    if (!cmd || !exited) return;
    if ((await Promise.race([this.spawned, exited.then(() => 'exited')])) === 'exited') return;
    cmd.kill('SIGTERM');
    const t = setTimeout(() => cmd.kill('SIGKILL'), this.opts.killGraceMs ?? 2000);
    await exited;
    clearTimeout(t);
  }

  private dropped(): number {
    return this.droppedBefore + (this.frames?.dropped ?? 0);
  }

  private pruneFrameTimes(now: number) {
    while (this.frameTimes.length && now - this.frameTimes[0]! > FPS_WINDOW_MS) this.frameTimes.shift();
  }

  private measuredFps(): number {
    const now = Date.now();
    this.pruneFrameTimes(now);
    const t = this.frameTimes;
    if (t.length < 2) return 0;
    const span = Math.max(now - t[0]!, 1);
    return Math.round(((t.length - 1) / span) * 1000 * 10) / 10;
  }

  private setState(patch: Partial<CameraStatus>) {
    Object.assign(this.st, patch);
    this.opts.bus?.emit('cameraStatus', this.status);
  }
}
