/** The embedded MQTT broker, started only when no mqtt.url is configured, so a fresh install needs no other service. */
import type { MqttConfig } from '../../config/schema.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../mqtt/broker.js';
import type { Logger } from '../../util/log.js';
import type { Slot, Unit } from '../unit.js';

/** The URL the transport uses: the configured broker, else the embedded one (its real port once it listens). */
export function brokerUrl(mqtt: Pick<MqttConfig, 'url' | 'embedded'>, embedded: EmbeddedBroker | null): string {
  if (mqtt.url) return mqtt.url;
  if (embedded) return embedded.url;
  const { host, port } = mqtt.embedded;
  const connect = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `mqtt://${connect}:${port}`;
}

export function embeddedBrokerUnit(embedded: MqttConfig['embedded'], services: { log: Logger }, provides: Slot<EmbeddedBroker>): Unit {
  let broker: EmbeddedBroker | null = null;
  return {
    name: 'embedded MQTT broker',
    withoutIt: 'events wait in the queue until a broker answers at that address',
    async start() {
      broker = await startEmbeddedBroker(embedded, services.log);
      provides.set(broker);
      services.log.info({ url: broker.url }, 'embedded MQTT broker started');
    },
    async stop() {
      provides.clear();
      await broker?.stop();
      broker = null;
    },
  };
}
