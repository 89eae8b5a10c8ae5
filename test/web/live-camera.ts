/**
 * A real camera for the web tests: ffmpeg plays the Hamilton clip in a loop (a file camera) into the real pipeline
 * loop, which detects, matches and tracks as in the appliance. The web app reads it the way app.ts wires it.
 */
import { Camera } from '../../src/ingest/camera.js';
import type { Config } from '../../src/config/schema.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { PipelineLoop, type LatestFaces } from '../../src/pipeline/loop.js';
import type { CameraStatus } from '../../src/events/types.js';
import type { Facebank } from '../../src/store/facebank.js';
import type { Bus } from '../../src/events/bus.js';
import { silentLogger } from '../../src/util/log.js';
import type { CamerasPort } from '../../src/web/ports.js';
import { dataPath } from '../helpers/data.js';

export const CLIP = dataPath('video', 'hamilton', 'short_hamilton_clip.mp4');

export class LiveCameras implements CamerasPort {
  private camera: Camera | null = null;
  private loop: PipelineLoop | null = null;
  constructor(readonly name: string) {}

  /** Starts ffmpeg and the loop. */
  start(deps: { engine: FaceEngine; facebank: Facebank; bus: Bus; config: Config }): void {
    this.camera = new Camera({ camera: { name: this.name, url: CLIP, loop: true }, defaultFps: 3, defaultWidth: 640, bus: deps.bus });
    this.camera.start();
    this.loop = new PipelineLoop({
      sources: [this.camera],
      engine: deps.engine,
      facebank: deps.facebank,
      bus: deps.bus,
      config: deps.config,
      log: silentLogger(),
    });
    this.loop.start();
  }

  /** Stops the loop and ffmpeg; the last processed frame stays readable. */
  async stop(): Promise<void> {
    await this.loop?.stop();
    await this.camera?.stop();
  }

  /** The loop's newest processed frame and its faces. */
  latest(): LatestFaces | null {
    return this.loop?.latestFaces(this.name) ?? null;
  }

  /** Waits until a processed frame satisfies `pred`. */
  async waitFor(pred: (l: LatestFaces) => boolean, timeoutMs: number, what: string): Promise<LatestFaces> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const l = this.latest();
      if (l && pred(l)) return l;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  list(): CameraStatus[] {
    return this.camera ? [this.camera.status] : [];
  }
  latestFrame(camera: string) {
    return camera === this.name ? (this.latest()?.image ?? null) : null;
  }
  latestFaces(camera: string) {
    return camera === this.name ? (this.latest()?.boxes ?? []) : [];
  }
}
