/**
 * The running cameras, changed one at a time while the appliance runs. `cameras` is one array, changed in place,
 * so whoever holds it (the pipeline loop's sources, the status readers) sees a camera come and go at once.
 */
import { Camera, type CameraOptions, type CameraSource } from './camera.js';

/** Everything a Camera needs besides its own source. */
export type CameraDefaults = Omit<CameraOptions, 'camera'>;

export class CameraSet {
  /** The cameras running now (enabled cameras whose ffmpeg could start). */
  readonly cameras: Camera[] = [];

  constructor(private readonly defaults: CameraDefaults) {}

  /** Starts a camera; throws (and runs nothing) when its ffmpeg cannot start. */
  start(source: CameraSource): Camera {
    const camera = new Camera({ ...this.defaults, camera: source });
    camera.start();
    this.cameras.push(camera);
    return camera;
  }

  /** Stops and drops the camera called `name`; false when none runs under that name. */
  async stop(name: string): Promise<boolean> {
    const i = this.cameras.findIndex((c) => c.name === name);
    if (i < 0) return false;
    const [camera] = this.cameras.splice(i, 1);
    await camera!.stop();
    return true;
  }

  /** Stops every camera. */
  async stopAll(): Promise<void> {
    const all = this.cameras.splice(0);
    await Promise.all(all.map((c) => c.stop()));
  }
}
