/**
 * The appliance's identity (src/store/identity.ts): read or made in the data directory before anything talks to the
 * broker. Its id names this box in MQTT topics, the client id default, Home Assistant ids and the sync.
 */
import type { SyncConfig } from '../../config/schema.js';
import { loadIdentity, sanitizeId } from '../../store/identity.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

export interface Identity {
  /** This box on the broker: sync.applianceId when set, else the install id; `[a-zA-Z0-9_-]`. */
  applianceId: string;
}

export function identityUnit(config: { dataDir: string; sync: Pick<SyncConfig, 'applianceId'> }, services: { log: Logger }, provides: Slot<Identity>): Unit {
  return {
    name: 'appliance identity',
    required: true,
    async start() {
      const loaded = await loadIdentity({ dataDir: config.dataDir, log: services.log });
      const applianceId = sanitizeId(config.sync.applianceId ?? loaded.id);
      provides.set({ applianceId });
      services.log.info({ appliance: applianceId }, 'appliance id');
    },
    stop() {
      provides.clear();
    },
  };
}
