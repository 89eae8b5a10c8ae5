/** Prometheus metrics: counts what passes on the bus from the start; other units add their gauges' sources. */
import type { Admission } from '../../engine/admission.js';
import type { Bus } from '../../events/bus.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { StorageHealth } from '../../store/storage-health.js';
import type { Unit } from '../unit.js';

export function metricsUnit(services: { metrics: Metrics; bus: Bus; admission: Admission; storage?: StorageHealth }): Unit {
  let detach: (() => void) | null = null;
  return {
    name: 'metrics',
    start() {
      detach = services.metrics.attach(services.bus);
      const { admission, storage } = services;
      services.metrics.setSources({ admission: () => admission.stats, ...(storage ? { storageWritable: () => storage.state.ok } : {}) });
    },
    stop() {
      detach?.();
      detach = null;
    },
  };
}
