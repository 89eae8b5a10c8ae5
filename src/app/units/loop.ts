/** The pipeline loop: one batched detect → align → embed → match → track pass over all cameras per tick. */
import type { Config } from '../../config/schema.js';
import type { Bus } from '../../events/bus.js';
import type { FaceEngine } from '../../engine/types.js';
import type { Camera } from '../../ingest/camera.js';
import type { Metrics } from '../../metrics/metrics.js';
import { PipelineLoop } from '../../pipeline/loop.js';
import { stallingEngine } from '../../pipeline/stall-hook.js';
import type { Enrolment } from '../../enrol/service.js';
import type { Facebank } from '../../store/facebank.js';
import type { Snapshots } from '../../store/snapshots.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

/** When the loop last ticked (idle ticks included): the watchdog's measure of a live appliance. */
export class Liveness {
  ticked = false;
  lastTick = Date.now();

  tick(): void {
    this.lastTick = Date.now();
    this.ticked = true;
  }
}

export interface LoopServices {
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  snapshots: Snapshots;
  liveness: Liveness;
  facebank: Slot<Facebank>;
  /** Its live matcher is the loop's: one index of the facebank, which enrolments keep up to date. */
  enrol: Slot<Enrolment>;
  engine: Slot<FaceEngine>;
  cameras: Slot<Camera[]>;
}

export function loopUnit(config: Pick<Config, 'pipeline' | 'match' | 'track' | 'debug'>, services: LoopServices, provides: Slot<PipelineLoop>): Unit {
  let loop: PipelineLoop | null = null;
  return {
    name: 'pipeline',
    required: true,
    start() {
      const { bus, log, metrics, snapshots, liveness } = services;
      const engine = services.engine.get();
      const stallMs = config.debug.stallLoopAfterSeconds;
      const l = new PipelineLoop({
        sources: services.cameras.peek() ?? [],
        engine: stallMs ? stallingEngine(engine, stallMs * 1000, log) : engine,
        facebank: services.facebank.get(),
        matcher: services.enrol.get().matcher(),
        bus,
        config,
        log,
        observer: metrics,
        snapshots: { save: (image) => snapshots.keep(image) },
        onTick: () => liveness.tick(),
      });
      l.start();
      loop = l;
      provides.set(l);
    },
    async stop() {
      await loop?.stop();
      loop = null;
    },
  };
}
