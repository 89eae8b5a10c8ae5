/** The local API on <dataDir>/facegate.sock: CLI commands change the facebank through the running appliance. */
import type { Config } from '../../config/schema.js';
import type { Admission } from '../../engine/admission.js';
import type { FaceEngine } from '../../engine/types.js';
import { startLocalApi, type LocalApi } from '../../local/api.js';
import type { Enrolment } from '../../enrol/service.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

export interface LocalApiServices {
  log: Logger;
  admission: Admission;
  enrol: Slot<Enrolment>;
  engine: Slot<FaceEngine>;
}

export function localApiUnit(config: Pick<Config, 'dataDir' | 'web' | 'engine' | 'pipeline'>, services: LocalApiServices): Unit {
  let api: LocalApi | null = null;
  return {
    name: 'local API',
    withoutIt: 'CLI changes to the facebank are refused while this runs',
    async start() {
      const { log, admission } = services;
      api = await startLocalApi({ config, enrol: services.enrol.get(), engine: services.engine.get(), admission, log });
    },
    async stop() {
      await api?.stop();
      api = null;
    },
  };
}
