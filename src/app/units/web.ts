/**
 * The admin page, its API and the probes on one server, started by the same `startWebServer` the tests use.
 * The auth store comes from its own unit (units/auth.ts), shared with the local API.
 */
import type { Config } from '../../config/schema.js';
import type { Admission } from '../../engine/admission.js';
import type { FaceEngine } from '../../engine/types.js';
import type { Bus } from '../../events/bus.js';
import type { Camera } from '../../ingest/camera.js';
import type { CameraSet } from '../../ingest/camera-set.js';
import type { CameraSecrets } from '../../store/camera-secrets.js';
import { CameraAdmin } from '../camera-admin.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { MqttPublisher } from '../../mqtt/publisher.js';
import type { PipelineLoop } from '../../pipeline/loop.js';
import type { Facebank } from '../../store/facebank.js';
import type { Enrolment } from '../../enrol/service.js';
import type { Snapshots } from '../../store/snapshots.js';
import type { StorageHealth } from '../../store/storage-health.js';
import type { FacebankSync } from '../../sync/service.js';
import { FacegateError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { healthRoutes } from '../../web/health.js';
import type { AppDeps } from '../../web/ports.js';
import { startWebServer, type WebServer } from '../../web/server.js';
import type { AuthStore } from '../../store/auth.js';
import type { Slot, Unit } from '../unit.js';
import type { Stores } from './stores.js';

export interface WebServices {
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  admission: Admission;
  snapshots: Snapshots;
  storage?: StorageHealth;
  facebank: Slot<Facebank>;
  enrol: Slot<Enrolment>;
  engine: Slot<FaceEngine>;
  stores: Slot<Stores>;
  publisher: Slot<MqttPublisher>;
  cameras: Slot<Camera[]>;
  cameraSet: Slot<{ set: CameraSet; secrets: CameraSecrets }>;
  /** The config file the appliance runs from (null: the defaults), rewritten when cameras change. */
  configFile: string | null;
  loop: Slot<PipelineLoop>;
  sync: Slot<FacebankSync>;
  auth: Slot<AuthStore>;
}

/** Where the page answers, for the appliance's callers and the claim notice. */
export interface PageAddress {
  host: string;
  port: number;
  urls: string[];
  fingerprint: string | null;
}

/** The page shows and applies the running config (web, match, pipeline, engine sections), hence all of it. */
export function webUnit(config: Config, services: WebServices, provides: Slot<PageAddress>): Unit {
  let running: WebServer | null = null;
  return {
    name: 'admin page',
    async start() {
      const { bus, log, metrics, admission, snapshots, storage } = services;
      const engine = services.engine.get();
      const { events, unknowns } = services.stores.get();
      const publisher = services.publisher.get();
      const loop = services.loop.get();
      const cameras = () => services.cameras.peek() ?? [];
      const sync = services.sync.peek();
      const cameraSet = services.cameraSet.peek();
      const auth = services.auth.get();
      const probes = healthRoutes({
        metrics,
        ready: () => ({
          models: true,
          engine: { detector: engine.detectorId, embedder: engine.embedderId },
          broker: publisher.stats.connected,
          cameras: cameras().map((c) => c.status),
          ...(storage ? { storage: storage.state } : {}),
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
        ...(storage ? { storage } : {}),
        ...(sync ? { sync } : {}),
        ...(cameraSet
          ? {
              cameraAdmin: new CameraAdmin({
                file: services.configFile,
                config,
                ...cameraSet,
                endTracks: (camera) => loop.endCamera(camera),
                bus,
                log,
              }),
            }
          : {}),
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
        const code = (e as NodeJS.ErrnoException).code;
        if (typeof code !== 'string' || !code.startsWith('E')) throw e;
        throw new FacegateError('web_listen', `The admin page cannot listen on ${config.web.host}:${config.web.port} (${code}).`, { cause: e });
      }
      running = server;
      provides.set({ host: config.web.host, port: server.port, urls: server.urls, fingerprint: server.fingerprint });
    },
    async stop() {
      provides.clear();
      if (!running) return;
      const server = running;
      running = null;
      await server.close();
    },
  };
}
