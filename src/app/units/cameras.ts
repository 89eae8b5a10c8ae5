/** The cameras: one ffmpeg each. A camera that cannot start is logged and the others run. */
import type { Config } from '../../config/schema.js';
import type { Bus } from '../../events/bus.js';
import { Camera } from '../../ingest/camera.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

export function camerasUnit(
  config: Pick<Config, 'cameras' | 'pipeline' | 'ffmpeg'>,
  services: { bus: Bus; log: Logger; metrics: Metrics },
  provides: Slot<Camera[]>,
): Unit {
  let cameras: Camera[] = [];
  return {
    name: 'cameras',
    start() {
      const { bus, log, metrics } = services;
      const { pipeline } = config;
      const started: Camera[] = [];
      for (const cam of config.cameras.filter((c) => c.enabled)) {
        const camera = new Camera({
          camera: cam,
          defaultFps: pipeline.fps,
          defaultWidth: pipeline.frameWidth,
          staleAfterSeconds: pipeline.staleAfterSeconds,
          maxBackoffSeconds: pipeline.maxBackoffSeconds,
          statusIntervalSeconds: pipeline.statusIntervalSeconds,
          ffmpegPath: config.ffmpeg.path,
          bus,
          log,
        });
        try {
          camera.start();
          started.push(camera);
        } catch (e) {
          log.error({ camera: cam.name, err: (e as Error).message }, 'camera not started');
        }
      }
      cameras = started;
      provides.set(started);
      metrics.setSources({ cameras: () => started.map((c) => c.status) });
    },
    async stop() {
      const stopping = cameras;
      cameras = [];
      await Promise.all(stopping.map((c) => c.stop()));
    },
  };
}
