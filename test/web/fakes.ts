/** A still-image camera for the web tests (the real cameras need ffmpeg and a stream). */
import type { CameraStatus } from '../../src/events/types.js';
import type { RgbImage } from '../../src/vision/types.js';
import type { AnnotatedFace, CamerasPort } from '../../src/web/ports.js';

/** One camera showing a still image; its annotated faces are whatever the test sets. */
export class StillCameras implements CamerasPort {
  faces: AnnotatedFace[] = [];
  constructor(
    readonly name: string,
    readonly frame: RgbImage,
  ) {}
  list(): CameraStatus[] {
    return [{ camera: this.name, state: 'online', fps: 5, lastFrameTime: new Date().toISOString(), restarts: 1, framesDropped: 0, lastError: null }];
  }
  latestFrame(camera: string) {
    return camera === this.name ? this.frame : null;
  }
  latestFaces(camera: string) {
    return camera === this.name ? this.faces : [];
  }
}
