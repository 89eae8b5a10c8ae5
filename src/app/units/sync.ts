/** Facebank sync (issue 16): replicates enrolments between appliances over the appliance's one MQTT transport. */
import type { Config } from '../../config/schema.js';
import type { Bus } from '../../events/bus.js';
import type { FaceEngine } from '../../engine/types.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { MqttPublisher } from '../../mqtt/publisher.js';
import type { Facebank } from '../../store/facebank.js';
import type { SyncFacebank } from '../../sync/ports.js';
import { FacebankSync } from '../../sync/service.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

export interface SyncServices {
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  facebank: Slot<Facebank>;
  engine: Slot<FaceEngine>;
  /** The MQTT transport's unit: the sync uses its connection. */
  publisher: Slot<MqttPublisher>;
}

/** The facebank as the sync sees it; records from other appliances are applied as a batch. */
export function facebankPort(fb: Facebank): SyncFacebank {
  return {
    people: () => fb.people(),
    person: (id) => fb.person(id),
    samples: () => fb.samples(),
    findByName: (name) => fb.findByName(name),
    cropPath: (id) => fb.cropPath(id),
    applyRemote: (ops) => fb.applyBatch(ops),
    renamePerson: (id, name) => fb.renamePerson(id, name),
  };
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
        link: services.publisher.get().link,
        prefix: config.mqtt.prefix,
        dataDir: config.dataDir,
        bus: services.bus,
        facebank: facebankPort(services.facebank.get()),
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
