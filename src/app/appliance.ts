/**
 * The composition root: the appliance as an ordered list of units (src/app/units), each built from its own config
 * section and the services it needs, started in order and stopped in reverse (src/app/unit.ts). Constructors
 * elsewhere do nothing; all I/O starts in a unit's start(). A failing optional unit is logged and the others run;
 * the data dir, facebank, engine, MQTT transport and pipeline loop are required.
 */
import type { Config } from '../config/schema.js';
import { Admission } from '../engine/admission.js';
import type { FaceEngine } from '../engine/types.js';
import { Bus } from '../events/bus.js';
import type { Camera } from '../ingest/camera.js';
import type { CameraSet } from '../ingest/camera-set.js';
import type { CameraSecrets } from '../store/camera-secrets.js';
import { Metrics } from '../metrics/metrics.js';
import type { EmbeddedBroker } from '../mqtt/broker.js';
import type { MqttPublisher } from '../mqtt/publisher.js';
import type { PipelineLoop } from '../pipeline/loop.js';
import type { Facebank } from '../store/facebank.js';
import { Snapshots } from '../store/snapshots.js';
import { StorageHealth } from '../store/storage-health.js';
import type { FacebankSync } from '../sync/service.js';
import type { Logger } from '../util/log.js';
import type { SdNotifier } from '../util/sd-notify.js';
import { Slot, UnitRunner, type Unit } from './unit.js';
import { embeddedBrokerUnit, brokerUrl } from './units/broker.js';
import { camerasUnit } from './units/cameras.js';
import { dataDirUnit } from './units/data-dir.js';
import { engineUnit } from './units/engine.js';
import { facebankUnit } from './units/facebank.js';
import { enrolUnit } from './units/enrol.js';
import type { Enrolment } from '../enrol/service.js';
import { localApiUnit } from './units/local-api.js';
import { Liveness, loopUnit } from './units/loop.js';
import { metricsUnit } from './units/metrics.js';
import { homeAssistantUnit } from './units/homeassistant.js';
import { identityUnit, type Identity } from './units/identity.js';
import { mqttUnit } from './units/mqtt.js';
import { storesUnit, type Stores } from './units/stores.js';
import { syncUnit } from './units/sync.js';
import { watchdogUnit } from './units/watchdog.js';
import { webUnit, type PageAddress } from './units/web.js';
import { authUnit } from './units/auth.js';
import type { AuthStore } from '../store/auth.js';

export interface Appliance {
  readonly bus: Bus;
  readonly engine: FaceEngine;
  readonly facebank: Facebank;
  /** The facebank's one owner (src/enrol). */
  readonly enrol: Enrolment;
  readonly loop: PipelineLoop;
  readonly metrics: Metrics;
  readonly publisher: MqttPublisher;
  /** Broker URL in use (the embedded broker's when none is configured). */
  readonly mqttUrl: string;
  /** Address the admin page listens on, or null when disabled or failed. */
  readonly webAddress: PageAddress | null;
  /** Names of the units that started, in start order (they stop in reverse). */
  readonly units: readonly string[];
  stop(): Promise<void>;
}

export interface StartOptions {
  log: Logger;
  /** Send READY/WATCHDOG/STOPPING to systemd when NOTIFY_SOCKET is set. */
  notify?: SdNotifier;
  /** Aborted (e.g. by SIGTERM) during start-up: what started is stopped and FacegateError 'aborted' is thrown. */
  signal?: AbortSignal;
  /** The config file `config` was loaded from; without it (the defaults) cameras cannot be changed from the page. */
  configFile?: string | null;
}

/** What the units hand each other once started. */
interface Slots {
  identity: Slot<Identity>;
  facebank: Slot<Facebank>;
  enrol: Slot<Enrolment>;
  engine: Slot<FaceEngine>;
  stores: Slot<Stores>;
  broker: Slot<EmbeddedBroker>;
  publisher: Slot<MqttPublisher>;
  sync: Slot<FacebankSync>;
  cameras: Slot<Camera[]>;
  cameraSet: Slot<{ set: CameraSet; secrets: CameraSecrets }>;
  loop: Slot<PipelineLoop>;
  web: Slot<PageAddress>;
  auth: Slot<AuthStore>;
}

const newSlots = (): Slots => ({
  identity: new Slot('appliance identity'),
  facebank: new Slot('facebank'),
  enrol: new Slot('enrolment service'),
  engine: new Slot('face engine'),
  stores: new Slot('event stores'),
  broker: new Slot('embedded MQTT broker'),
  publisher: new Slot('MQTT transport'),
  sync: new Slot('facebank sync'),
  cameras: new Slot('cameras'),
  cameraSet: new Slot('cameras'),
  loop: new Slot('pipeline loop'),
  web: new Slot('admin page'),
  auth: new Slot('admin account'),
});

/** The appliance's units in start order; building them starts nothing. */
function applianceUnits(config: Config, opts: StartOptions, shared: { bus: Bus; metrics: Metrics }, slots: Slots): Unit[] {
  const { log } = opts;
  const { bus, metrics } = shared;
  const admission = new Admission({ concurrency: config.web.heavyJobs, maxQueued: config.web.heavyQueue });
  // The one owner of "the disk is full": every write path reports to it; /readyz, /metrics and the page read it.
  const storage = new StorageHealth({ log, bus });
  const snapshots = new Snapshots(config.dataDir, storage);
  const liveness = new Liveness();
  const { dataDir } = config;
  return [
    dataDirUnit(dataDir, storage),
    identityUnit({ dataDir, sync: config.sync }, { log }, slots.identity),
    metricsUnit({ metrics, bus, admission, storage }),
    facebankUnit(dataDir, { bus, log, signal: opts.signal }, slots.facebank),
    enrolUnit(
      { dataDir, match: config.match },
      { bus, log, snapshots, storage, facebank: slots.facebank, engine: slots.engine, stores: slots.stores },
      slots.enrol,
    ),
    engineUnit({ engine: config.engine, pipeline: config.pipeline }, { log, metrics, enrol: slots.enrol }, slots.engine),
    ...(config.web.enabled ? [authUnit({ dataDir, web: config.web }, { log, storage }, slots.auth)] : []),
    localApiUnit(
      { dataDir, web: config.web, engine: config.engine, pipeline: config.pipeline },
      { log, admission, ...slots, mqttUrl: () => brokerUrl(config.mqtt, slots.broker.peek()) },
    ),
    // Before the MQTT transport: the bus calls the history first, so an event's line is in the kernel before it is
    // published (a subscriber never gets an event that a SIGKILL then takes out of /api/events).
    storesUnit({ dataDir, web: config.web }, { bus, log, snapshots, storage }, slots.stores),
    ...(config.mqtt.url ? [] : [embeddedBrokerUnit(config.mqtt.embedded, { log }, slots.broker)]),
    mqttUnit(
      { mqtt: config.mqtt, dataDir },
      { bus, log, metrics, storage, broker: slots.broker, cameras: slots.cameras, identity: slots.identity },
      slots.publisher,
    ),
    ...(config.mqtt.homeAssistant.enabled
      ? [
          homeAssistantUnit(
            { mqtt: config.mqtt, cameras: config.cameras },
            { bus, facebank: slots.facebank, publisher: slots.publisher, cameras: slots.cameras, snapshots },
          ),
        ]
      : []),
    ...(config.sync.enabled
      ? [
          syncUnit(
            { sync: config.sync, mqtt: config.mqtt, dataDir },
            { bus, log, metrics, enrol: slots.enrol, engine: slots.engine, publisher: slots.publisher, identity: slots.identity },
            slots.sync,
          ),
        ]
      : []),
    camerasUnit(
      { cameras: config.cameras, pipeline: config.pipeline, ffmpeg: config.ffmpeg, dataDir },
      { bus, log, metrics },
      { cameras: slots.cameras, set: slots.cameraSet },
    ),
    loopUnit(
      { pipeline: config.pipeline, match: config.match, track: config.track, debug: config.debug },
      { bus, log, metrics, snapshots, liveness, facebank: slots.facebank, enrol: slots.enrol, engine: slots.engine, cameras: slots.cameras },
      slots.loop,
    ),
    ...(config.web.enabled
      ? [webUnit(config, { bus, log, metrics, admission, snapshots, storage, configFile: opts.configFile ?? null, ...slots }, slots.web)]
      : []),
    ...(opts.notify?.enabled
      ? [watchdogUnit({ log, notify: opts.notify, liveness, engine: slots.engine, publisher: slots.publisher, cameras: slots.cameras })]
      : []),
  ];
}

/** Starts every unit in order; throws (with what started stopped again) when a required one fails or on abort. */
export async function startAppliance(config: Config, opts: StartOptions): Promise<Appliance> {
  const bus = new Bus();
  bus.reportErrorsTo((event, err) => opts.log.error({ event, err: err instanceof Error ? err.message : String(err) }, 'a bus listener failed; the others ran'));
  const metrics = new Metrics();
  const slots = newSlots();
  const runner = new UnitRunner(opts.log);
  await runner.start(applianceUnits(config, opts, { bus, metrics }, slots), opts.signal);
  return {
    bus,
    metrics,
    engine: slots.engine.get(),
    facebank: slots.facebank.get(),
    enrol: slots.enrol.get(),
    loop: slots.loop.get(),
    publisher: slots.publisher.get(),
    mqttUrl: brokerUrl(config.mqtt, slots.broker.peek()),
    webAddress: slots.web.peek(),
    units: runner.running,
    stop: () => runner.stop(),
  };
}
