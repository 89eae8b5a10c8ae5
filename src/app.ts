/**
 * The composition root: builds every service from the config, starts them in order and stops them in reverse.
 * Constructors elsewhere do nothing; all I/O starts here. A unit that fails to start is logged; only the ones the
 * appliance cannot run without (data dir, facebank, engine) stop start-up.
 */
import { mkdir, access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config/schema.js';
import { Admission } from './engine/admission.js';
import { engineFromConfig } from './engine/setup.js';
import type { FaceEngine } from './engine/types.js';
import { Camera } from './ingest/camera.js';
import { startLocalApi } from './local/api.js';
import { Metrics } from './metrics/metrics.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/broker.js';
import { MqttPublisher } from './mqtt/publisher.js';
import { PipelineLoop } from './pipeline/loop.js';
import { stallingEngine } from './pipeline/stall-hook.js';
import { AuthStore } from './store/auth.js';
import { EventStore } from './store/events.js';
import { Facebank } from './store/facebank.js';
import { lockHolder } from './store/lock.js';
import { Snapshots } from './store/snapshots.js';
import { FacebankSync } from './sync/service.js';
import { UnknownStore } from './store/unknowns.js';
import { Bus } from './events/bus.js';
import { FacegateError } from './util/errors.js';
import type { Logger } from './util/log.js';
import { SdNotifier } from './util/sd-notify.js';
import { startWebServer } from './web/server.js';
import type { AppDeps } from './web/ports.js';
import { healthRoutes } from './web/health.js';

/** A loop that has not ticked for this long (or for one watchdog period, if shorter) is hung: the watchdog stops being fed. */
const LOOP_HUNG_MS = 20_000;
/** READY waits at most this long for the broker; after it, events wait in the queue and READY says so. */
const READY_BROKER_WAIT_MS = 5_000;
/** READY waits at most this long for every camera's first attempt to conclude. */
const READY_CAMERAS_WAIT_MS = 60_000;
const SNAPSHOT_MAX_AGE_MS = 7 * 24 * 3600_000;

interface Unit {
  name: string;
  stop: () => Promise<void> | void;
}

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
  stop(): Promise<void>;
}

export interface StartOptions {
  log: Logger;
  /** Send READY/WATCHDOG/STOPPING to systemd when NOTIFY_SOCKET is set. */
  notify?: SdNotifier;
  /** Aborted (e.g. by SIGTERM) during start-up: what started is stopped and FacegateError 'aborted' is thrown. */
  signal?: AbortSignal;
}

async function ensureDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (e) {
    throw new FacegateError('data_dir', `The data directory ${dir} cannot be created or written (${(e as NodeJS.ErrnoException).code ?? String(e)}). Set dataDir, --data-dir or FACEGATE_DATA_DIR.`, { cause: e });
  }
}

export async function startAppliance(config: Config, opts: StartOptions): Promise<Appliance> {
  const { log } = opts;
  const units: Unit[] = [];
  const bus = new Bus();
  const stopAll = async () => {
    for (const u of units.reverse()) {
      try {
        await u.stop();
        log.debug({ unit: u.name }, 'stopped');
      } catch (e) {
        log.error({ unit: u.name, err: (e as Error).message }, 'stop failed');
      }
    }
    units.length = 0;
  };

  // Between start-up steps: a stop requested meanwhile ends start-up here (the steps themselves run to the end).
  const step = () => {
    if (opts.signal?.aborted) throw new FacegateError('aborted', 'Start-up was stopped by a signal.');
  };

  try {
    step();
    await ensureDataDir(config.dataDir);
    const metrics = new Metrics();
    metrics.attach(bus);

    // The facebank's lock makes this process its one writer; a CLI job that holds it is waited for.
    let sync: FacebankSync | null = null; // facebank sync (issue 16)
    const facebank = new Facebank(config.dataDir, { bus, log, role: 'run', lockWaitMs: 60_000, signal: opts.signal, onChange: (c) => sync?.onChange(c) });
    const holder = await lockHolder(config.dataDir);
    if (holder) log.info({ holder }, 'waiting for the facebank: another facegate command is using it');
    await facebank.open();
    units.push({ name: 'facebank', stop: () => facebank.close() });
    step();

    const engine = await engineFromConfig(config, log);
    units.push({ name: 'engine', stop: () => engine.close() });
    step();
    metrics.executionProvider(engine.provider);
    metrics.modelsInUse(engine.detectorId, engine.embedderId);
    log.info({ detector: engine.detectorId, embedder: engine.embedderId, provider: engine.provider }, 'models loaded');
    const re = await facebank.reembed(engine.embedderId, (crops) => engine.embedAligned(crops));
    if (re.updated || re.failed.length) log.info({ updated: re.updated, failed: re.failed.length }, 'facebank re-embedded for the new embedder');
    step();

    const admission = new Admission({ concurrency: config.web.heavyJobs, maxQueued: config.web.heavyQueue });
    metrics.setSources({ admission: () => admission.stats });
    try {
      const api = await startLocalApi({ config, facebank, engine, admission, log });
      units.push({ name: 'local api', stop: () => api.stop() });
    } catch (e) {
      log.error({ err: (e as Error).message }, 'local API not started: CLI changes to the facebank are refused while this runs');
    }

    const snapshots = new Snapshots(config.dataDir);
    const events = await EventStore.open(config.dataDir);
    const detachEvents = events.attach(bus);
    units.push({ name: 'events', stop: async () => (detachEvents(), await events.close()) });
    const unknowns = await UnknownStore.open(config.dataDir, { retentionHours: config.web.unknownRetentionHours });
    const detachUnknowns = unknowns.attach(bus);
    units.push({ name: 'unknowns', stop: async () => (detachUnknowns(), await unknowns.close()) });
    const housekeeping = setInterval(() => {
      unknowns.expire();
      snapshots.prune({ maxAgeMs: SNAPSHOT_MAX_AGE_MS }).catch((e) => log.warn({ err: (e as Error).message }, 'snapshot prune failed'));
    }, 10 * 60_000);
    housekeeping.unref();
    units.push({ name: 'housekeeping', stop: () => clearInterval(housekeeping) });

    // MQTT: the configured broker, else an embedded one so a fresh install works with no external services.
    let mqttUrl = config.mqtt.url;
    if (!mqttUrl) {
      const broker: EmbeddedBroker = await startEmbeddedBroker(config.mqtt.embedded, log);
      units.push({ name: 'embedded broker', stop: () => broker.stop() });
      mqttUrl = broker.url;
      log.info({ url: mqttUrl }, 'embedded MQTT broker started');
    }
    let peopleCache: { id: string; name: string }[] = [];
    const refreshPeople = async () => {
      peopleCache = (await facebank.people()).map((p) => ({ id: p.id, name: p.name }));
    };
    await refreshPeople();
    const offPeople = bus.on('facebankChanged', () => void refreshPeople());
    const queueFile = path.join(config.dataDir, 'mqtt-queue.jsonl');
    const cameras: Camera[] = [];
    const publisher = new MqttPublisher({
      config: config.mqtt,
      bus,
      url: mqttUrl,
      log,
      queueFile,
      people: () => peopleCache,
      cameras: () => config.cameras.map((c) => c.name),
      cameraStatus: () => cameras.map((c) => c.status),
    });
    publisher.start();
    metrics.setSources({ brokerConnected: () => publisher.stats.connected, eventsQueued: () => publisher.stats.queued });
    let counted = { published: 0, dropped: 0 };
    const countEvents = setInterval(() => {
      const { published, dropped } = publisher.stats;
      if (published > counted.published) metrics.eventPublished(published - counted.published);
      if (dropped > counted.dropped) metrics.eventDropped(dropped - counted.dropped);
      counted = { published, dropped };
    }, 1000);
    countEvents.unref();
    units.push({ name: 'event counters', stop: () => clearInterval(countEvents) });
    units.push({ name: 'mqtt', stop: async () => (offPeople(), await publisher.stop()) });

    // --- facebank sync (issue 16): its own MQTT client on the same broker.
    if (config.sync.enabled) {
      const s = new FacebankSync({ config: config.sync, mqtt: config.mqtt, url: mqttUrl, dataDir: config.dataDir, facebank, embedderId: engine.embedderId, embedAligned: (crops) => engine.embedAligned(crops), log });
      sync = s;
      try {
        await s.start();
        units.push({ name: 'sync', stop: () => s.stop() });
        metrics.setSources({ sync: () => s.stats });
        log.info({ appliance: s.applianceId, encrypted: s.stats.encrypted }, 'facebank sync started');
      } catch (e) {
        sync = null;
        log.error({ err: (e as Error).message }, 'facebank sync not started');
      }
    }
    // --- end facebank sync

    step();
    // Cameras: one ffmpeg each; a camera that cannot start is reported, the others run.
    for (const cam of config.cameras.filter((c) => c.enabled)) {
      const camera = new Camera({
        camera: cam,
        defaultFps: config.pipeline.fps,
        defaultWidth: config.pipeline.frameWidth,
        staleAfterSeconds: config.pipeline.staleAfterSeconds,
        maxBackoffSeconds: config.pipeline.maxBackoffSeconds,
        statusIntervalSeconds: config.pipeline.statusIntervalSeconds,
        ffmpegPath: config.ffmpeg.path,
        bus,
        log,
      });
      try {
        camera.start();
        cameras.push(camera);
      } catch (e) {
        log.error({ camera: cam.name, err: (e as Error).message }, 'camera not started');
      }
    }
    units.push({ name: 'cameras', stop: async () => void (await Promise.all(cameras.map((c) => c.stop()))) });
    metrics.setSources({ cameras: () => cameras.map((c) => c.status) });

    // The loop: one batched detect → align → embed → match → track pass over all cameras per tick.
    let lastTick = Date.now();
    let ticked = false;
    const stallMs = config.debug.stallLoopAfterSeconds;
    const loop = new PipelineLoop({
      sources: cameras,
      engine: stallMs ? stallingEngine(engine, stallMs * 1000, log) : engine,
      facebank,
      bus,
      config,
      log,
      observer: metrics,
      snapshots,
      onTick: () => {
        lastTick = Date.now();
        ticked = true;
      },
    });
    loop.start();
    units.push({ name: 'pipeline', stop: () => loop.stop() });

    // Admin page, API and probes on one server.
    let webAddress: Appliance['webAddress'] = null;
    if (config.web.enabled) {
      const auth = await AuthStore.open({ dataDir: config.dataDir, sessionHours: config.web.sessionHours, fixedPasswordHash: config.web.passwordHash });
      const probes = healthRoutes({
        metrics,
        ready: () => ({ models: true, engine: { detector: engine.detectorId, embedder: engine.embedderId }, broker: publisher.stats.connected, cameras: cameras.map((c) => c.status) }),
      });
      const deps: AppDeps = {
        config,
        bus,
        log,
        auth,
        facebank,
        engine,
        events,
        unknowns,
        snapshots,
        admission,
        ...(sync ? { sync } : {}),
        cameras: {
          list: () => cameras.map((c) => c.status),
          latestFrame: (name) => loop.latestFaces(name)?.image ?? null,
          latestFaces: (name) => loop.latestFaces(name)?.boxes ?? [],
        },
      };
      try {
        const server = await startWebServer(deps, { before: probes });
        webAddress = { host: config.web.host, port: server.port };
        units.push({ name: 'web', stop: () => server.close() });
        units.push({ name: 'auth', stop: () => auth.flush() });
      } catch (e) {
        log.error({ err: (e as Error).message, host: config.web.host, port: config.web.port }, 'admin page not started');
      }
    }

    step();
    if (opts.notify?.enabled) {
      // READY once the models are loaded (above), the loop has ticked, the broker answered (or its queue took
      // over), and every camera's first attempt concluded; WATCHDOG=1 only while the loop keeps ticking.
      const notify = opts.notify;
      let stopped = false;
      const t0 = Date.now();
      const settled = (c: Camera) => c.status.state === 'online' || c.status.lastError !== null;
      const announce = async () => {
        while (!stopped) {
          const waited = Date.now() - t0;
          const brokerDone = publisher.stats.connected || waited >= READY_BROKER_WAIT_MS;
          const camerasDone = cameras.every(settled) || waited >= READY_CAMERAS_WAIT_MS;
          if (ticked && brokerDone && camerasDone) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        if (stopped) return;
        const online = cameras.filter((c) => c.status.state === 'online').length;
        const broker = publisher.stats.connected ? 'broker connected' : 'broker unreachable, events queued';
        await notify.ready(`models loaded (${engine.provider}); ${broker}; ${online}/${cameras.length} camera(s) online`);
        let hungMs = LOOP_HUNG_MS;
        const wd = notify.startWatchdog(() => Date.now() - lastTick < hungMs);
        if (wd) hungMs = Math.min(LOOP_HUNG_MS, wd.usec / 1000);
        log.info({ watchdogMs: wd?.intervalMs ?? null }, 'told systemd: ready');
      };
      const announced = announce().catch((e) => log.warn({ err: (e as Error).message }, 'sd_notify READY failed'));
      units.push({
        name: 'sd-notify',
        stop: async () => {
          stopped = true;
          await announced;
          notify.stopWatchdog();
          await notify.stopping();
        },
      });
    }

    return {
      bus,
      engine,
      facebank,
      loop,
      metrics,
      publisher,
      mqttUrl,
      webAddress,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
