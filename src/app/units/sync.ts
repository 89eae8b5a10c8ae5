/** Facebank sync (issue 16): its own MQTT client on the transport's broker, replicating enrolments between appliances. */
import type { Config } from '../../config/schema.js';
import type { Bus } from '../../events/bus.js';
import type { FaceEngine } from '../../engine/types.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { EmbeddedBroker } from '../../mqtt/broker.js';
import type { Facebank } from '../../store/facebank.js';
import { FacebankSync } from '../../sync/service.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';
import { brokerUrl } from './broker.js';

export interface SyncServices {
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  facebank: Slot<Facebank>;
  engine: Slot<FaceEngine>;
  broker: Slot<EmbeddedBroker>;
}

export function syncUnit(config: Pick<Config, 'sync' | 'mqtt' | 'dataDir'>, services: SyncServices, provides: Slot<FacebankSync>): Unit {
  let sync: FacebankSync | null = null;
  return {
    name: 'facebank sync',
    withoutIt: 'enrolments are not shared with other appliances',
    async start() {
      const { log, metrics } = services;
      const engine = services.engine.get();
      const s = new FacebankSync({
        config: config.sync,
        mqtt: config.mqtt,
        url: brokerUrl(config.mqtt, services.broker.peek()),
        dataDir: config.dataDir,
        bus: services.bus,
        facebank: services.facebank.get(),
        embedderId: engine.embedderId,
        embedAligned: (crops) => engine.embedAligned(crops),
        log,
      });
      // Facebank changes made while it connects are already its to send.
      provides.set(s);
      try {
        await s.start();
      } catch (e) {
        provides.clear();
        throw e;
      }
      sync = s;
      metrics.setSources({ sync: () => s.stats });
      log.info({ appliance: s.applianceId, encrypted: s.stats.encrypted }, 'facebank sync started');
    },
    async stop() {
      provides.clear();
      await sync?.stop();
      sync = null;
    },
  };
}
