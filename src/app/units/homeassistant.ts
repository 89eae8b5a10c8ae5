/** Home Assistant (mqtt.homeAssistant.enabled): discovery, states, events and faces over the MQTT unit's connection. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { CameraConfig, MqttConfig } from '../../config/schema.js';
import type { Bus } from '../../events/bus.js';
import type { PersonRef } from '../../events/types.js';
import type { Camera } from '../../ingest/camera.js';
import { HomeAssistantPublisher } from '../../mqtt/homeassistant-publisher.js';
import { level } from '../../mqtt/topics.js';
import type { MqttPublisher } from '../../mqtt/publisher.js';
import type { Facebank } from '../../store/facebank.js';
import type { Snapshots } from '../../store/snapshots.js';
import type { Slot, Unit } from '../unit.js';

export interface HomeAssistantServices {
  bus: Bus;
  facebank: Slot<Facebank>;
  publisher: Slot<MqttPublisher>;
  /** The running cameras (started after this unit: until then, the enabled ones of the config). */
  cameras: Slot<Camera[]>;
  snapshots?: Pick<Snapshots, 'path'>;
}

export function homeAssistantUnit(
  config: { mqtt: Pick<MqttConfig, 'prefix' | 'homeAssistant' | 'clientId'>; cameras: Pick<CameraConfig, 'name' | 'enabled'>[] },
  services: HomeAssistantServices,
): Unit {
  let running: HomeAssistantPublisher | null = null;
  return {
    name: 'home assistant',
    withoutIt: 'Home Assistant does not discover the cameras and people',
    start() {
      const facebank = services.facebank.get();
      const people = async (): Promise<PersonRef[]> => (await facebank.people()).map((p) => ({ id: p.id, name: p.name }));
      const snapshots = services.snapshots;
      running = new HomeAssistantPublisher({
        config: config.mqtt,
        bus: services.bus,
        channel: services.publisher.get().retained,
        people,
        // Discovery ids before they were per appliance were built from the client id.
        legacyNodeId: level(config.mqtt.clientId ?? `facegate-${os.hostname()}`),
        cameras: () => services.cameras.peek()?.map((c) => c.name) ?? config.cameras.filter((c) => c.enabled).map((c) => c.name),
        faceImage: snapshots
          ? async (id) => {
              const file = await snapshots.path(id);
              return file ? readFile(file) : null;
            }
          : undefined,
      });
      running.start();
    },
    stop() {
      running?.stop();
      running = null;
    },
  };
}
