/** The facebank: opened as this process's one writer (a CLI job holding its lock is waited for). */
import type { Bus } from '../../events/bus.js';
import { Facebank } from '../../store/facebank.js';
import { lockHolder } from '../../store/lock.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

export interface FacebankServices {
  bus: Bus;
  log: Logger;
  /** Ends a wait for the lock (a stop requested during start-up). */
  signal?: AbortSignal;
}

export function facebankUnit(dataDir: string, services: FacebankServices, provides: Slot<Facebank>): Unit {
  let facebank: Facebank | null = null;
  return {
    name: 'facebank',
    required: true,
    async start() {
      const { bus, log, signal } = services;
      const fb = new Facebank(dataDir, { bus, log, role: 'run', lockWaitMs: 60_000, signal });
      const holder = await lockHolder(dataDir);
      if (holder) log.info({ holder }, 'waiting for the facebank: another facegate command is using it');
      await fb.open();
      facebank = fb;
      provides.set(fb);
    },
    async stop() {
      provides.clear();
      await facebank?.close();
      facebank = null;
    },
  };
}
