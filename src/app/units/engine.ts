/**
 * The face engine (models loaded, worker threads started). Once loaded, samples stored with another embedder are
 * re-embedded from their crops, so the facebank always matches the running model.
 */
import type { Config } from '../../config/schema.js';
import { engineFromConfig } from '../../engine/setup.js';
import type { FaceEngine } from '../../engine/types.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Enrolment } from '../../enrol/service.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

export function engineUnit(
  config: Pick<Config, 'engine' | 'pipeline'>,
  services: { log: Logger; metrics: Metrics; enrol: Slot<Enrolment> },
  provides: Slot<FaceEngine>,
): Unit {
  let engine: FaceEngine | null = null;
  return {
    name: 'engine',
    required: true,
    async start() {
      const { log, metrics } = services;
      const enrol = services.enrol.get();
      const e = await engineFromConfig(config, log);
      engine = e;
      provides.set(e);
      metrics.executionProvider(e.provider);
      metrics.modelsInUse(e.detectorId, e.embedderId);
      log.info({ detector: e.detectorId, embedder: e.embedderId, provider: e.provider }, 'models loaded');
      const re = await enrol.reembed(e.embedderId, (crops) => e.embedAligned(crops));
      if (re.updated || re.failed.length) log.info({ updated: re.updated, failed: re.failed.length }, 'facebank re-embedded for the new embedder');
    },
    async stop() {
      provides.clear();
      await engine?.close();
      engine = null;
    },
  };
}
