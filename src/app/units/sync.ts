/** Facebank sync (issue 16): replicates enrolments between appliances over the appliance's one MQTT transport. */
import type { Config } from '../../config/schema.js';
import type { Bus } from '../../events/bus.js';
import type { FaceEngine } from '../../engine/types.js';
import { embedForFacebank } from '../../enrol/mirror.js';
import type { Enrolment } from '../../enrol/service.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { MqttPublisher } from '../../mqtt/publisher.js';
import { FacebankSync } from '../../sync/service.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';
import type { Identity } from './identity.js';

export interface SyncServices {
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  /** The facebank's one owner: the sync reads through it and applies other appliances' records through it. */
  enrol: Slot<Enrolment>;
  engine: Slot<FaceEngine>;
  /** The MQTT transport's unit: the sync uses its connection. */
  publisher: Slot<MqttPublisher>;
  identity: Slot<Identity>;
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
        // The appliance id names this box's records' origin: the install id unless sync.applianceId pins it.
        config: { ...config.sync, applianceId: config.sync.applianceId ?? services.identity.get().applianceId },
        link: services.publisher.get().link,
        prefix: config.mqtt.prefix,
        dataDir: config.dataDir,
        bus: services.bus,
        facebank: services.enrol.get(),
        embedderId: engine.embedderId,
        // A record of another model is re-embedded from its crop as enrolment embeds one (with its mirror image).
        embedAligned: (crops) => embedForFacebank(crops, (c) => engine.embedAligned(c)),
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
