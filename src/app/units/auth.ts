/**
 * The admin account (auth.json: password, sessions, API tokens), opened once and shared by the admin page and the
 * local API, so a `passwd --reset` handed to the running appliance ends every session at once and nothing can
 * write the old password back.
 */
import type { Config } from '../../config/schema.js';
import type { AuthStore } from '../../store/auth.js';
import { openAuth } from '../../web/server.js';
import type { Slot, Unit } from '../unit.js';

export function authUnit(config: Pick<Config, 'dataDir' | 'web'>, provides: Slot<AuthStore>): Unit {
  let auth: AuthStore | null = null;
  return {
    name: 'admin account',
    withoutIt: 'the admin page and `facegate passwd --reset` are unavailable until it starts',
    async start() {
      auth = await openAuth(config);
      provides.set(auth);
    },
    async stop() {
      provides.clear();
      await auth?.flush();
      auth = null;
    },
  };
}
