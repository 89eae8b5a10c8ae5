/**
 * The admin account (auth.json: password, sessions, API tokens), opened once and shared by the admin page and the
 * local API, so a `passwd --reset` handed to the running appliance ends every session at once and nothing can
 * write the old password back.
 */
import type { Config } from '../../config/schema.js';
import type { AuthStore } from '../../store/auth.js';
import type { StorageHealth } from '../../store/storage-health.js';
import type { Logger } from '../../util/log.js';
import { openAuth } from '../../web/server.js';
import type { Slot, Unit } from '../unit.js';

export function authUnit(config: Pick<Config, 'dataDir' | 'web'>, services: { log: Logger; storage: StorageHealth }, provides: Slot<AuthStore>): Unit {
  let auth: AuthStore | null = null;
  return {
    name: 'admin account',
    withoutIt: 'the admin page and `facegate passwd --reset` are unavailable until it starts',
    async start() {
      auth = await openAuth(config, services.storage);
      // A broken auth.json was kept aside: the appliance is unclaimed again (the claim notice says so at listen).
      if (auth.refused) services.log.error({ file: auth.refused.file, keptAs: auth.refused.keptAs }, auth.refused.message);
      provides.set(auth);
    },
    async stop() {
      provides.clear();
      await auth?.flush();
      auth = null;
    },
  };
}
