/**
 * Home Assistant over the publisher's connection: a retained face-count state per camera, and discovery configs
 * (presence per person per camera, face count per camera) published on every connect and whenever the people or
 * cameras change; entities of people no longer enrolled get an empty retained config, which removes them.
 */
import type { MqttConfig } from '../config/schema.js';
import type { Bus } from '../events/bus.js';
import type { PersonRef } from '../events/types.js';
import { discoveryMessages } from './homeassistant.js';
import { DiscoveryState, FaceCounter } from './homeassistant-state.js';
import type { RetainedChannel } from './publisher.js';

export interface HomeAssistantOptions {
  config: Pick<MqttConfig, 'prefix' | 'homeAssistant'>;
  bus: Bus;
  /** The MQTT publisher's retained-message side. */
  channel: RetainedChannel;
  /** Enrolled people, read each time discovery is published. */
  people: () => PersonRef[] | Promise<PersonRef[]>;
  /** Configured camera names (cameras seen in status are added). */
  cameras: () => string[];
}

export class HomeAssistantPublisher {
  private readonly cameras = new Set<string>();
  private readonly discovery = new DiscoveryState();
  private off: (() => void)[] = [];
  private publishing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: HomeAssistantOptions) {}

  start(): void {
    if (this.off.length) return;
    const { bus, channel, config } = this.opts;
    const faces = new FaceCounter(config.prefix);
    for (const cam of this.opts.cameras()) this.cameras.add(cam);
    this.off.push(
      bus.on('recognition', (e) => {
        const count = faces.update(e, (t) => channel.hasRetained(t));
        if (count) channel.setRetained(count.topic, count.payload);
      }),
      bus.on('cameraStatus', (s) => {
        if (this.cameras.has(s.camera)) return;
        this.cameras.add(s.camera);
        void this.publishDiscovery();
      }),
      bus.on('facebankChanged', () => void this.publishDiscovery()),
      channel.onConnect(() => void this.publishDiscovery()),
    );
    void this.publishDiscovery();
  }

  stop(): void {
    for (const off of this.off) off();
    this.off = [];
  }

  /**
   * Publishes the configs when connected (the next connect publishes them otherwise). Calls run one after another,
   * so a slower read of the people list never overwrites a newer one's configs.
   */
  publishDiscovery(): Promise<void> {
    this.publishing = this.publishing.then(() => this.publishOnce());
    return this.publishing;
  }

  private async publishOnce(): Promise<void> {
    const { channel, config } = this.opts;
    const ha = config.homeAssistant;
    if (!channel.connected) return;
    let people: PersonRef[];
    try {
      people = await this.opts.people();
    } catch {
      return; // the facebank is closing; the next change or connect publishes again
    }
    const configs = discoveryMessages({
      prefix: config.prefix,
      discoveryPrefix: ha.discoveryPrefix,
      nodeId: channel.clientId,
      expireAfterSeconds: ha.expireAfterSeconds,
      cameras: [...this.cameras],
      people,
    });
    if (channel.publishRetainedOnce(this.discovery.diff(configs))) this.discovery.commit(configs);
  }
}
