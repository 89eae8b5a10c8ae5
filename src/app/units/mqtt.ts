/**
 * The MQTT transport: recognition events and camera status to the broker, through a durable queue in the data dir
 * (an unreachable broker is not a start-up failure: events wait for it).
 */
import path from 'node:path';
import type { MqttConfig } from '../../config/schema.js';
import type { Bus } from '../../events/bus.js';
import type { Camera } from '../../ingest/camera.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { EmbeddedBroker } from '../../mqtt/broker.js';
import { MqttPublisher } from '../../mqtt/publisher.js';
import type { StorageReporter } from '../../store/storage-health.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';
import { brokerUrl } from './broker.js';
import type { Identity } from './identity.js';

export interface MqttServices {
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  broker: Slot<EmbeddedBroker>;
  /** Read on every connect (the cameras start after the transport). */
  cameras: Slot<Camera[]>;
  /** Where a queue file the disk refuses is reported. */
  storage?: StorageReporter;
  identity: Slot<Identity>;
}

export interface MqttUnitConfig {
  mqtt: MqttConfig;
  dataDir: string;
}

/** How often the publisher's counters are copied into the metrics. */
const COUNT_MS = 1000;

export function mqttUnit(config: MqttUnitConfig, services: MqttServices, provides: Slot<MqttPublisher>): Unit {
  let running: { publisher: MqttPublisher; counter: NodeJS.Timeout } | null = null;
  return {
    name: 'mqtt',
    required: true,
    async start() {
      const { bus, log, metrics } = services;
      const publisher = new MqttPublisher({
        config: config.mqtt,
        bus,
        applianceId: services.identity.get().applianceId,
        url: brokerUrl(config.mqtt, services.broker.peek()),
        log,
        queueFile: path.join(config.dataDir, 'mqtt-queue.jsonl'),
        storage: services.storage,
        cameraStatus: () => (services.cameras.peek() ?? []).map((c) => c.status),
      });
      publisher.start();
      metrics.setSources({ brokerConnected: () => publisher.stats.connected, eventsQueued: () => publisher.stats.queued });
      let counted = { published: 0, dropped: 0, takenOver: 0, idConflicts: 0 };
      const counter = setInterval(() => {
        const { published, dropped, takenOver, idConflicts } = publisher.stats;
        if (published > counted.published) metrics.eventPublished(published - counted.published);
        if (dropped > counted.dropped) metrics.eventDropped(dropped - counted.dropped);
        if (takenOver > counted.takenOver) metrics.sessionTakenOver(takenOver - counted.takenOver);
        if (idConflicts > counted.idConflicts) metrics.applianceIdConflict(idConflicts - counted.idConflicts);
        counted = { published, dropped, takenOver, idConflicts };
      }, COUNT_MS);
      counter.unref();
      running = { publisher, counter };
      provides.set(publisher);
    },
    async stop() {
      if (!running) return;
      const { publisher, counter } = running;
      running = null;
      clearInterval(counter);
      await publisher.stop();
    },
  };
}
