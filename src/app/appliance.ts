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
import { Metrics } from '../metrics/metrics.js';
import type { EmbeddedBroker } from '../mqtt/broker.js';
import type { MqttPublisher } from '../mqtt/publisher.js';
import type { PipelineLoop } from '../pipeline/loop.js';
import type { Facebank } from '../store/facebank.js';
import { Snapshots } from '../store/snapshots.js';
import type { FacebankSync } from '../sync/service.js';
import type { Logger } from '../util/log.js';
import type { SdNotifier } from '../util/sd-notify.js';
import { Slot, UnitRunner, type Unit } from './unit.js';
import { embeddedBrokerUnit, brokerUrl } from './units/broker.js';
import { camerasUnit } from './units/cameras.js';
import { dataDirUnit } from './units/data-dir.js';
import { engineUnit } from './units/engine.js';
import { facebankUnit } from './units/facebank.js';
import { localApiUnit } from './units/local-api.js';
import { Liveness, loopUnit } from './units/loop.js';
import { metricsUnit } from './units/metrics.js';
import { homeAssistantUnit } from './units/homeassistant.js';
import { mqttUnit } from './units/mqtt.js';
import { storesUnit, type Stores } from './units/stores.js';
import { syncUnit } from './units/sync.js';
import { watchdogUnit } from './units/watchdog.js';
import { webUnit } from './units/web.js';

export interface Appliance {
  readonly bus: Bus;
  readonly engine: FaceEngine;
  readonly facebank: Facebank;
  readonly loop: PipelineLoop;
  readonly metrics: Metrics;
  readonly publisher: MqttPublisher;
  /** Broker URL in use (the embedded broker's when none is configured). */
  readonly mqttUrl: string;
  /** Address the admin page listens on, or null when disabled or failed. */
  readonly webAddress: { host: string; port: number } | null;
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
}

/** What the units hand each other once started. */
interface Slots {
  facebank: Slot<Facebank>;
  engine: Slot<FaceEngine>;
  stores: Slot<Stores>;
  broker: Slot<EmbeddedBroker>;
  publisher: Slot<MqttPublisher>;
  sync: Slot<FacebankSync>;
  cameras: Slot<Camera[]>;
  loop: Slot<PipelineLoop>;
  web: Slot<{ host: string; port: number }>;
}

const newSlots = (): Slots => ({
  facebank: new Slot('facebank'),
  engine: new Slot('face engine'),
  stores: new Slot('event stores'),
  broker: new Slot('embedded MQTT broker'),
  publisher: new Slot('MQTT transport'),
  sync: new Slot('facebank sync'),
  cameras: new Slot('cameras'),
  loop: new Slot('pipeline loop'),
  web: new Slot('admin page'),
});

/** The appliance's units in start order; building them starts nothing. */
function applianceUnits(config: Config, opts: StartOptions, shared: { bus: Bus; metrics: Metrics }, slots: Slots): Unit[] {
  const { log } = opts;
  const { bus, metrics } = shared;
  const admission = new Admission({ concurrency: config.web.heavyJobs, maxQueued: config.web.heavyQueue });
  const snapshots = new Snapshots(config.dataDir);
  const liveness = new Liveness();
  const { dataDir } = config;
  return [
    dataDirUnit(dataDir),
    metricsUnit({ metrics, bus, admission }),
    facebankUnit(dataDir, { bus, log, signal: opts.signal }, slots.facebank),
    engineUnit({ engine: config.engine, pipeline: config.pipeline }, { log, metrics, facebank: slots.facebank }, slots.engine),
    localApiUnit(
      { dataDir, web: config.web, engine: config.engine, pipeline: config.pipeline },
      { log, admission, facebank: slots.facebank, engine: slots.engine },
    ),
    storesUnit({ dataDir, web: config.web }, { bus, log, snapshots }, slots.stores),
    ...(config.mqtt.url ? [] : [embeddedBrokerUnit(config.mqtt.embedded, { log }, slots.broker)]),
    mqttUnit({ mqtt: config.mqtt, dataDir }, { bus, log, metrics, broker: slots.broker, cameras: slots.cameras }, slots.publisher),
    ...(config.mqtt.homeAssistant.enabled
      ? [homeAssistantUnit({ mqtt: config.mqtt, cameras: config.cameras }, { bus, facebank: slots.facebank, publisher: slots.publisher })]
      : []),
    ...(config.sync.enabled
      ? [
          syncUnit(
            { sync: config.sync, mqtt: config.mqtt, dataDir },
            { bus, log, metrics, facebank: slots.facebank, engine: slots.engine, publisher: slots.publisher },
            slots.sync,
          ),
        ]
      : []),
    camerasUnit({ cameras: config.cameras, pipeline: config.pipeline, ffmpeg: config.ffmpeg }, { bus, log, metrics }, slots.cameras),
    loopUnit(
      { pipeline: config.pipeline, match: config.match, track: config.track, debug: config.debug },
      { bus, log, metrics, snapshots, liveness, facebank: slots.facebank, engine: slots.engine, cameras: slots.cameras },
      slots.loop,
    ),
    ...(config.web.enabled ? [webUnit(config, { bus, log, metrics, admission, snapshots, ...slots }, slots.web)] : []),
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
    loop: slots.loop.get(),
    publisher: slots.publisher.get(),
    mqttUrl: brokerUrl(config.mqtt, slots.broker.peek()),
    webAddress: slots.web.peek(),
    units: runner.running,
    stop: () => runner.stop(),
  };
}
