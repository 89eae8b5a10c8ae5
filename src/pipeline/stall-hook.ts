/**
 * Test hook behind `debug.stallLoopAfterSeconds`: the engine the loop sees stops answering after a while, as a
 * hung inference would. The loop then stops ticking and the systemd watchdog is no longer fed.
 */
import type { FaceEngine } from '../engine/types.js';
import type { Logger } from '../util/log.js';

export function stallingEngine(engine: FaceEngine, afterMs: number, log: Logger): FaceEngine {
  const at = Date.now() + afterMs;
  let said = false;
  return new Proxy(engine, {
    get(target, key, receiver) {
      if (key !== 'analyze' || Date.now() < at) return Reflect.get(target, key, receiver) as unknown;
      if (!said) log.warn('debug.stallLoopAfterSeconds: the pipeline loop hangs now');
      said = true;
      return () => new Promise<never>(() => {});
    },
  });
}
