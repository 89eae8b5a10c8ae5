/** Prometheus metrics: counts what passes on the bus from the start; other units add their gauges' sources. */
import type { Admission } from '../../engine/admission.js';
import type { Bus } from '../../events/bus.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { Unit } from '../unit.js';

export function metricsUnit(services: { metrics: Metrics; bus: Bus; admission: Admission }): Unit {
  let detach: (() => void) | null = null;
  return {
    name: 'metrics',
    start() {
      detach = services.metrics.attach(services.bus);
      const { admission } = services;
      services.metrics.setSources({ admission: () => admission.stats });
    },
    stop() {
      detach?.();
      detach = null;
    },
  };
}
