/** Home Assistant (mqtt.homeAssistant.enabled): face counts and discovery over the MQTT unit's connection. */
import type { CameraConfig, MqttConfig } from '../../config/schema.js';
import type { Bus } from '../../events/bus.js';
import type { PersonRef } from '../../events/types.js';
import { HomeAssistantPublisher } from '../../mqtt/homeassistant-publisher.js';
import type { MqttPublisher } from '../../mqtt/publisher.js';
import type { Facebank } from '../../store/facebank.js';
import type { Slot, Unit } from '../unit.js';

export interface HomeAssistantServices {
  bus: Bus;
  facebank: Slot<Facebank>;
  publisher: Slot<MqttPublisher>;
}

export function homeAssistantUnit(
  config: { mqtt: Pick<MqttConfig, 'prefix' | 'homeAssistant'>; cameras: Pick<CameraConfig, 'name'>[] },
  services: HomeAssistantServices,
): Unit {
  let running: HomeAssistantPublisher | null = null;
  return {
    name: 'home assistant',
    withoutIt: 'Home Assistant does not discover the cameras and people',
    start() {
      const facebank = services.facebank.get();
      const people = async (): Promise<PersonRef[]> => (await facebank.people()).map((p) => ({ id: p.id, name: p.name }));
      running = new HomeAssistantPublisher({
        config: config.mqtt,
        bus: services.bus,
        channel: services.publisher.get().retained,
        people,
        cameras: () => config.cameras.map((c) => c.name),
      });
      running.start();
    },
    stop() {
      running?.stop();
      running = null;
    },
  };
}
