/** The cameras: one ffmpeg each. A camera that cannot start is logged and the others run. */
import type { Config } from '../../config/schema.js';
import { resolveRef } from '../../config/secrets.js';
import type { Bus } from '../../events/bus.js';
import type { Camera } from '../../ingest/camera.js';
import { CameraSet } from '../../ingest/camera-set.js';
import type { Metrics } from '../../metrics/metrics.js';
import { CameraSecrets } from '../../store/camera-secrets.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

/** What the cameras unit hands on: the running cameras (one array, changed in place) and the set that changes them. */
export interface CamerasProvided {
  cameras: Slot<Camera[]>;
  set: Slot<{ set: CameraSet; secrets: CameraSecrets }>;
}

export function camerasUnit(
  config: Pick<Config, 'cameras' | 'pipeline' | 'ffmpeg' | 'dataDir'>,
  services: { bus: Bus; log: Logger; metrics: Metrics },
  provides: CamerasProvided,
): Unit {
  let running: CameraSet | null = null;
  return {
    name: 'cameras',
    async start() {
      const { bus, log, metrics } = services;
      const { pipeline } = config;
      const secrets = new CameraSecrets(config.dataDir);
      try {
        await secrets.open();
      } catch (e) {
        log.error({ err: (e as Error).message }, 'camera credentials not readable; cameras start without them');
      }
      const set = new CameraSet({
        defaultFps: pipeline.fps,
        defaultWidth: pipeline.frameWidth,
        staleAfterSeconds: pipeline.staleAfterSeconds,
        maxBackoffSeconds: pipeline.maxBackoffSeconds,
        statusIntervalSeconds: pipeline.statusIntervalSeconds,
        ffmpegPath: config.ffmpeg.path,
        bus,
        log,
      });
      for (const cam of config.cameras.filter((c) => c.enabled)) {
        try {
          set.start({ ...cam, url: resolveRef(cam.url, secrets.all()) });
        } catch (e) {
          log.error({ camera: cam.name, err: (e as Error).message }, 'camera not started');
        }
      }
      running = set;
      provides.cameras.set(set.cameras);
      provides.set.set({ set, secrets });
      metrics.setSources({ cameras: () => set.cameras.map((c) => c.status) });
    },
    async stop() {
      const stopping = running;
      running = null;
      provides.set.clear();
      await stopping?.stopAll();
    },
  };
}
