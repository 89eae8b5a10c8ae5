/**
 * The enrolment service (src/enrol): the facebank's one owner, started right after the facebank so that the
 * engine's re-embedding already goes through it. The engine and the event stores start later; it reads them
 * from their slots when an action needs them.
 */
import type { Config } from '../../config/schema.js';
import type { FaceEngine } from '../../engine/types.js';
import type { Bus } from '../../events/bus.js';
import { Enrolment } from '../../enrol/service.js';
import type { Facebank } from '../../store/facebank.js';
import type { Snapshots } from '../../store/snapshots.js';
import type { StorageHealth } from '../../store/storage-health.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';
import type { Stores } from './stores.js';

export interface EnrolServices {
  bus: Bus;
  log: Logger;
  snapshots: Snapshots;
  storage: StorageHealth;
  facebank: Slot<Facebank>;
  engine: Slot<FaceEngine>;
  stores: Slot<Stores>;
}

export function enrolUnit(config: Pick<Config, 'dataDir' | 'match'>, services: EnrolServices, provides: Slot<Enrolment>): Unit {
  let enrolment: Enrolment | null = null;
  return {
    name: 'enrolment',
    required: true,
    async start() {
      const { bus, log, snapshots } = services;
      const e = new Enrolment({
        dataDir: config.dataDir,
        facebank: services.facebank.get(),
        bus,
        log,
        match: config.match,
        embedder: () => services.engine.get(),
        stores: () => services.stores.peek(),
        snapshots,
        changes: { storage: services.storage },
      });
      await e.open();
      enrolment = e;
      provides.set(e);
    },
    async stop() {
      provides.clear();
      await enrolment?.close();
      enrolment = null;
    },
  };
}
