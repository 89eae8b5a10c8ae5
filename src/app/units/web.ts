/**
 * The admin page, its API and the probes on one server, started by the same `startWebServer` the tests use.
 * The auth store is opened here and flushed when the page stops.
 */
import type { Config } from '../../config/schema.js';
import type { Admission } from '../../engine/admission.js';
import type { FaceEngine } from '../../engine/types.js';
import type { Bus } from '../../events/bus.js';
import type { Camera } from '../../ingest/camera.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { MqttPublisher } from '../../mqtt/publisher.js';
import type { PipelineLoop } from '../../pipeline/loop.js';
import type { Facebank } from '../../store/facebank.js';
import type { Enrolment } from '../../enrol/service.js';
import type { Snapshots } from '../../store/snapshots.js';
import type { FacebankSync } from '../../sync/service.js';
import { FacegateError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { healthRoutes } from '../../web/health.js';
import type { AppDeps } from '../../web/ports.js';
import { openAuth, startWebServer, type WebServer } from '../../web/server.js';
import type { Slot, Unit } from '../unit.js';
import type { Stores } from './stores.js';

export interface WebServices {
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  admission: Admission;
  snapshots: Snapshots;
  facebank: Slot<Facebank>;
  enrol: Slot<Enrolment>;
  engine: Slot<FaceEngine>;
  stores: Slot<Stores>;
  publisher: Slot<MqttPublisher>;
  cameras: Slot<Camera[]>;
  loop: Slot<PipelineLoop>;
  sync: Slot<FacebankSync>;
}

/** The page shows and applies the running config (web, match, pipeline, engine sections), hence all of it. */
export function webUnit(config: Config, services: WebServices, provides: Slot<{ host: string; port: number }>): Unit {
  let running: { server: WebServer; flush: () => Promise<void> } | null = null;
  return {
    name: 'admin page',
    async start() {
      const { bus, log, metrics, admission, snapshots } = services;
      const engine = services.engine.get();
      const { events, unknowns } = services.stores.get();
      const publisher = services.publisher.get();
      const loop = services.loop.get();
      const cameras = () => services.cameras.peek() ?? [];
      const sync = services.sync.peek();
      const auth = await openAuth(config);
      const probes = healthRoutes({
        metrics,
        ready: () => ({
          models: true,
          engine: { detector: engine.detectorId, embedder: engine.embedderId },
          broker: publisher.stats.connected,
          cameras: cameras().map((c) => c.status),
        }),
      });
      const deps: AppDeps = {
        config,
        bus,
        log,
        auth,
        facebank: services.facebank.get(),
        enrol: services.enrol.get(),
        engine,
        events,
        unknowns,
        snapshots,
        admission,
        ...(sync ? { sync } : {}),
        cameras: {
          list: () => cameras().map((c) => c.status),
          latestFrame: (name) => loop.latestFaces(name)?.image ?? null,
          latestFaces: (name) => loop.latestFaces(name)?.boxes ?? [],
        },
      };
      let server: WebServer;
      try {
        server = await startWebServer(deps, { before: probes });
      } catch (e) {
        await auth.flush();
        const code = (e as NodeJS.ErrnoException).code;
        if (typeof code !== 'string' || !code.startsWith('E')) throw e;
        throw new FacegateError('web_listen', `The admin page cannot listen on ${config.web.host}:${config.web.port} (${code}).`, { cause: e });
      }
      running = { server, flush: () => auth.flush() };
      provides.set({ host: config.web.host, port: server.port });
    },
    async stop() {
      provides.clear();
      if (!running) return;
      const { server, flush } = running;
      running = null;
      await server.close();
      await flush();
    },
  };
}
