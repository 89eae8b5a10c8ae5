/**
 * Prometheus metrics on a registry of our own (never prom-client's global one, so tests and several
 * instances do not collide). Pipeline timings arrive through PipelineObserver; camera, broker and
 * event-queue state through setters or through collect-time callbacks.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CameraStatus } from '../events/types.js';
import type { Bus } from '../events/bus.js';
import type { AdmissionStats } from '../engine/admission.js';
import type { PipelineObserver, Stage } from '../pipeline/observer.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Read at scrape time; each returns the current value. */
export interface MetricsSources {
  cameras?: () => CameraStatus[];
  brokerConnected?: () => boolean;
  eventsQueued?: () => number;
  /** Facebank sync counts (issue 16). */
  sync?: () => { sent: number; applied: number; refused: number; pending: number; unreadable: number; keyMismatch: boolean };
  /** False while a write path cannot write (disk full or failing). */
  storageWritable?: () => boolean;
  /** The admission queue for heavy engine jobs (uploads, CLI jobs). */
  admission?: () => AdmissionStats;
}

export interface MetricsOptions {
  /** Add process_* and nodejs_* metrics (default true). */
  processMetrics?: boolean;
  sources?: MetricsSources;
}

export class Metrics implements PipelineObserver {
  readonly registry = new Registry();
  private sources: MetricsSources = {};

  private readonly stageSeconds = new Histogram({
    name: 'facegate_stage_seconds',
    help: 'Seconds one pipeline stage took in one tick.',
    labelNames: ['stage'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'facegate_batch_size',
    help: 'Images in one model run.',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  private readonly facesTotal = new Counter({ name: 'facegate_faces_processed_total', help: 'Faces embedded and matched.', registers: [this.registry] });
  private readonly framesDroppedTotal = new Counter({
    name: 'facegate_frames_dropped_total',
    help: 'Frames decoded but never processed (the pipeline takes the newest frame).',
    labelNames: ['camera'] as const,
    registers: [this.registry],
  });
  private readonly eventLatencySeconds = new Histogram({
    name: 'facegate_event_latency_seconds',
    help: 'Seconds from frame decode to event handed to the bus.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly cameraFps = new Gauge({
    name: 'facegate_camera_fps',
    help: 'Frames per second received from the camera.',
    labelNames: ['camera'] as const,
    registers: [this.registry],
    collect: () => this.readCameras(),
  });
  private readonly cameraRestarts = new Gauge({
    name: 'facegate_camera_restarts',
    help: 'Times the camera decoder was restarted since start-up.',
    labelNames: ['camera'] as const,
    registers: [this.registry],
  });
  private readonly cameraOnline = new Gauge({
    name: 'facegate_camera_online',
    help: '1 when the camera delivers frames, else 0.',
    labelNames: ['camera'] as const,
    registers: [this.registry],
  });
  private readonly eventsPublished = new Counter({
    name: 'facegate_events_published_total',
    help: 'Events delivered to the MQTT broker.',
    registers: [this.registry],
  });
  private readonly eventsDropped = new Counter({
    name: 'facegate_events_dropped_total',
    help: 'Events dropped because the offline queue was full.',
    registers: [this.registry],
  });
  private readonly mqttTakenOver = new Counter({
    name: 'facegate_mqtt_session_taken_over_total',
    help: 'MQTT connections the broker closed because another client connected with the same client id.',
    registers: [this.registry],
  });
  private readonly idConflicts = new Counter({
    name: 'facegate_appliance_id_conflicts_total',
    help: 'Claims of this appliance id heard from another appliance on the same broker.',
    registers: [this.registry],
  });
  private readonly eventsQueued = new Gauge({
    name: 'facegate_events_queued',
    help: 'Events waiting for the broker.',
    registers: [this.registry],
    collect: () => {
      if (this.sources.eventsQueued) this.queued(this.sources.eventsQueued());
    },
  });
  // --- admission queue for heavy jobs (photo uploads, CLI jobs sent to the appliance)
  private readonly heavyJobs = new Gauge({
    name: 'facegate_heavy_jobs',
    help: 'Heavy engine jobs (photo uploads, CLI jobs) running now and waiting for a slot.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const s = this.sources.admission?.();
      if (!s) return;
      this.heavyJobs.set({ state: 'running' }, s.running);
      this.heavyJobs.set({ state: 'queued' }, s.queued);
    },
  });
  /** The admission's own count, mirrored at scrape time (it only grows). */
  private heavyRefusedSeen = 0;
  private readonly heavyJobsRefused = new Counter({
    name: 'facegate_heavy_jobs_refused_total',
    help: 'Heavy engine jobs refused with 429 because the queue was full.',
    registers: [this.registry],
    collect: () => {
      const s = this.sources.admission?.();
      if (!s || s.refused <= this.heavyRefusedSeen) return;
      this.heavyJobsRefused.inc(s.refused - this.heavyRefusedSeen);
      this.heavyRefusedSeen = s.refused;
    },
  });
  // --- facebank sync (issue 16)
  private readonly syncRecords = new Gauge({
    name: 'facegate_sync_records',
    help: 'Facebank sync records since start: sent (acknowledged by the broker), applied (from other appliances), refused (failed authentication or validation); pending: local changes not yet acknowledged; unreadable: records on the broker this key cannot open now.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const s = this.sources.sync?.();
      if (!s) return;
      for (const state of ['sent', 'applied', 'refused', 'pending', 'unreadable'] as const) this.syncRecords.set({ state }, s[state]);
    },
  });
  private readonly syncKeyMismatch = new Gauge({
    name: 'facegate_sync_key_mismatch',
    help: "1 while this appliance's sync key opens none of the site's records on the broker (it publishes nothing until restarted with the site's key), else 0.",
    registers: [this.registry],
    collect: () => {
      const s = this.sources.sync?.();
      if (s) this.syncKeyMismatch.set(s.keyMismatch ? 1 : 0);
    },
  });
  // --- end facebank sync
  private readonly storageWritable = new Gauge({
    name: 'facegate_storage_writable',
    help: '1 when every write path (event history, unknown faces, snapshots, event queue) can write, 0 while the disk is full or failing.',
    registers: [this.registry],
    collect: () => {
      const ok = this.sources.storageWritable;
      if (ok) this.storageWritable.set(ok() ? 1 : 0);
    },
  });
  private readonly brokerConnected = new Gauge({
    name: 'facegate_broker_connected',
    help: '1 when connected to the MQTT broker, else 0.',
    registers: [this.registry],
    collect: () => {
      if (this.sources.brokerConnected) this.broker(this.sources.brokerConnected());
    },
  });
  private readonly provider = new Gauge({
    name: 'facegate_execution_provider',
    help: 'The onnxruntime execution provider in use (value 1).',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  private readonly model = new Gauge({
    name: 'facegate_model_info',
    help: 'The models in use (value 1): role detector or embedder, model id.',
    labelNames: ['role', 'model'] as const,
    registers: [this.registry],
  });
  private readonly matchThreshold = new Gauge({
    name: 'facegate_match_threshold',
    help: 'Cosine threshold the live matcher names people at (for the facebank size below).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  private readonly matchPeople = new Gauge({
    name: 'facegate_match_people',
    help: 'People enrolled with samples of the live embedder (the N of 1:N).',
    registers: [this.registry],
  });
  private readonly matchTargetFpir = new Gauge({
    name: 'facegate_match_target_fpir',
    help: "Share of strangers' faces allowed a name that the threshold is chosen for (0 when match.threshold is set).",
    registers: [this.registry],
  });

  private busErrorsSource: (() => ReadonlyMap<string, number>) | null = null;
  private readonly busListenerErrors = new Gauge({
    name: 'facegate_bus_listener_errors_total',
    help: 'Bus listeners that threw since start, by event (each was logged; the other listeners still ran).',
    labelNames: ['event'] as const,
    registers: [this.registry],
    collect: () => {
      const counts = this.busErrorsSource?.();
      if (!counts) return;
      for (const [event, n] of counts) this.busListenerErrors.set({ event }, n);
    },
  });

  constructor(options: MetricsOptions = {}) {
    this.sources = options.sources ?? {};
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Adds or replaces scrape-time sources (e.g. once the camera manager exists). */
  setSources(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  // --- PipelineObserver
  stage(stage: Stage, seconds: number): void {
    this.stageSeconds.observe({ stage }, seconds);
  }
  batch(model: 'detector' | 'embedder', size: number): void {
    this.batchSize.observe({ model }, size);
  }
  faces(count: number): void {
    if (count > 0) this.facesTotal.inc(count);
  }
  framesDropped(camera: string, count: number): void {
    if (count > 0) this.framesDroppedTotal.inc({ camera }, count);
  }
  eventLatency(seconds: number): void {
    this.eventLatencySeconds.observe(seconds);
  }

  // --- state fed by the services
  camera(status: CameraStatus): void {
    this.cameraFps.set({ camera: status.camera }, status.fps);
    this.cameraRestarts.set({ camera: status.camera }, status.restarts);
    this.cameraOnline.set({ camera: status.camera }, status.state === 'online' ? 1 : 0);
  }
  broker(connected: boolean): void {
    this.brokerConnected.set(connected ? 1 : 0);
  }
  eventPublished(count = 1): void {
    this.eventsPublished.inc(count);
  }
  eventDropped(count = 1): void {
    this.eventsDropped.inc(count);
  }
  sessionTakenOver(count = 1): void {
    this.mqttTakenOver.inc(count);
  }
  applianceIdConflict(count = 1): void {
    this.idConflicts.inc(count);
  }
  queued(count: number): void {
    this.eventsQueued.set(count);
  }
  /** Follows camera status and broker connection from the bus; returns the unsubscribe function. */
  attach(bus: Bus): () => void {
    this.busErrorsSource = () => bus.listenerErrors;
    const offs = [
      bus.on('cameraStatus', (s) => this.camera(s)),
      bus.on('mqttConnection', ({ connected }) => this.broker(connected)),
      bus.on('operatingPoint', (p) => {
        this.matchThreshold.reset();
        this.matchThreshold.set({ source: p.source }, p.threshold);
        this.matchPeople.set(p.people);
        this.matchTargetFpir.reset();
        if (p.targetFpir !== null) this.matchTargetFpir.set(p.targetFpir);
      }),
    ];
    return () => {
      offs.forEach((off) => off());
      this.busErrorsSource = null;
    };
  }

  /** Marks `provider` ("tensorrt", "cuda", "cpu") as the one in use: facegate_execution_provider{provider="cpu"} 1. */
  executionProvider(provider: string): void {
    this.provider.reset();
    this.provider.set({ provider }, 1);
  }

  modelsInUse(detector: string, embedder: string): void {
    this.model.reset();
    this.model.set({ role: 'detector', model: detector }, 1);
    this.model.set({ role: 'embedder', model: embedder }, 1);
  }

  /** Camera gauges from the scrape-time source; cameras no longer listed are removed. */
  private readCameras(): void {
    const source = this.sources.cameras;
    if (!source) return;
    const list = source();
    for (const g of [this.cameraFps, this.cameraRestarts, this.cameraOnline]) g.reset();
    for (const c of list) this.camera(c);
  }

  /** The Prometheus text exposition. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }
}
