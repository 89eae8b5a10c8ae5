/**
 * systemd notification: READY once the models are loaded, the loop has ticked, the broker answered (or its queue
 * took over) and every camera's first attempt concluded; then WATCHDOG=1 only while the loop keeps ticking, and
 * STOPPING=1 when the appliance stops.
 */
import type { FaceEngine } from '../../engine/types.js';
import type { Camera } from '../../ingest/camera.js';
import type { MqttPublisher } from '../../mqtt/publisher.js';
import type { Logger } from '../../util/log.js';
import type { SdNotifier } from '../../util/sd-notify.js';
import type { Slot, Unit } from '../unit.js';
import type { Liveness } from './loop.js';

/** A loop that has not ticked for this long (or for one watchdog period, if shorter) is hung: the watchdog stops being fed. */
const LOOP_HUNG_MS = 20_000;
/** READY waits at most this long for the broker; after it, events wait in the queue and READY says so. */
const READY_BROKER_WAIT_MS = 5_000;
/** READY waits at most this long for every camera's first attempt to conclude. */
const READY_CAMERAS_WAIT_MS = 60_000;
const POLL_MS = 100;

export interface WatchdogServices {
  log: Logger;
  notify: SdNotifier;
  liveness: Liveness;
  engine: Slot<FaceEngine>;
  publisher: Slot<MqttPublisher>;
  cameras: Slot<Camera[]>;
}

export function watchdogUnit(services: WatchdogServices): Unit {
  let running: { stop: () => void; announced: Promise<void> } | null = null;
  return {
    name: 'sd-notify',
    withoutIt: 'systemd is not told the appliance is ready',
    start() {
      const { log, notify, liveness } = services;
      const engine = services.engine.get();
      const publisher = services.publisher.get();
      const cameras = services.cameras.peek() ?? [];
      let stopped = false;
      const t0 = Date.now();
      const settled = (c: Camera) => c.status.state === 'online' || c.status.lastError !== null;
      const announce = async () => {
        while (!stopped) {
          const waited = Date.now() - t0;
          const brokerDone = publisher.stats.connected || waited >= READY_BROKER_WAIT_MS;
          const camerasDone = cameras.every(settled) || waited >= READY_CAMERAS_WAIT_MS;
          if (liveness.ticked && brokerDone && camerasDone) break;
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
        if (stopped) return;
        const online = cameras.filter((c) => c.status.state === 'online').length;
        const broker = publisher.stats.connected ? 'broker connected' : 'broker unreachable, events queued';
        await notify.ready(`models loaded (${engine.provider}); ${broker}; ${online}/${cameras.length} camera(s) online`);
        let hungMs = LOOP_HUNG_MS;
        const wd = notify.startWatchdog(() => Date.now() - liveness.lastTick < hungMs);
        if (wd) hungMs = Math.min(LOOP_HUNG_MS, wd.usec / 1000);
        log.info({ watchdogMs: wd?.intervalMs ?? null }, 'told systemd: ready');
      };
      const announced = announce().catch((e) => log.warn({ err: (e as Error).message }, 'sd_notify READY failed'));
      running = { stop: () => (stopped = true), announced };
    },
    async stop() {
      if (!running) return;
      const { stop, announced } = running;
      running = null;
      stop();
      await announced;
      services.notify.stopWatchdog();
      await services.notify.stopping();
    },
  };
}
