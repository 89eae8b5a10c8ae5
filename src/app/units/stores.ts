/**
 * The event and unknown-face stores (fed from the bus) and the snapshot folder, with their housekeeping: unknown
 * faces past their retention and snapshots older than a week are removed every ten minutes.
 */
import type { WebConfig } from '../../config/schema.js';
import type { Bus } from '../../events/bus.js';
import { EventStore } from '../../store/events.js';
import type { Snapshots } from '../../store/snapshots.js';
import type { StorageReporter } from '../../store/storage-health.js';
import { UnknownStore } from '../../store/unknowns.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

const SNAPSHOT_MAX_AGE_MS = 7 * 24 * 3600_000;
const HOUSEKEEPING_MS = 10 * 60_000;

export interface Stores {
  events: EventStore;
  unknowns: UnknownStore;
}

/**
 * Opens both stores and feeds them from the bus; `close` detaches and closes them. Used by the tests too.
 * `storage`: where a full disk is reported (the stores keep their state in memory meanwhile).
 */
export async function openStores(
  dataDir: string,
  web: Pick<WebConfig, 'unknownRetentionHours'>,
  bus: Bus,
  storage?: StorageReporter,
): Promise<Stores & { close(): Promise<void> }> {
  const events = await EventStore.open(dataDir, { storage });
  let unknowns: UnknownStore;
  try {
    unknowns = await UnknownStore.open(dataDir, { retentionHours: web.unknownRetentionHours, storage });
  } catch (e) {
    await events.close();
    throw e;
  }
  const detach = [events.attach(bus), unknowns.attach(bus)];
  return {
    events,
    unknowns,
    async close() {
      detach.forEach((d) => d());
      await events.close();
      await unknowns.close();
    },
  };
}

export function storesUnit(
  config: { dataDir: string; web: Pick<WebConfig, 'unknownRetentionHours'> },
  services: { bus: Bus; log: Logger; snapshots: Snapshots; storage: StorageReporter },
  provides: Slot<Stores>,
): Unit {
  let opened: Awaited<ReturnType<typeof openStores>> | null = null;
  let housekeeping: NodeJS.Timeout | null = null;
  return {
    name: 'event stores',
    withoutIt: 'events and unknown faces are not kept, and the admin page does not start',
    async start() {
      const { bus, log, snapshots, storage } = services;
      const s = await openStores(config.dataDir, config.web, bus, storage);
      opened = s;
      provides.set(s);
      housekeeping = setInterval(() => {
        s.unknowns.expire();
        snapshots.prune({ maxAgeMs: SNAPSHOT_MAX_AGE_MS }).catch((e) => log.warn({ err: (e as Error).message }, 'snapshot prune failed'));
      }, HOUSEKEEPING_MS);
      housekeeping.unref();
    },
    async stop() {
      if (housekeeping) clearInterval(housekeeping);
      housekeeping = null;
      provides.clear();
      await opened?.close();
      opened = null;
    },
  };
}
