/**
 * Home Assistant over the publisher's connection. Publishes, retained: the discovery configs (mqtt/homeassistant.ts)
 * and each state (face count per camera, presence per camera × person, "off" until someone is seen), re-sent on
 * every connect, every third of `expireAfterSeconds` (so they never expire while this box runs) and when Home
 * Assistant announces itself ("online" on `<discoveryPrefix>/status`). Live only: a recognition event per new
 * decision and the recognised face's JPEG (retained only with `retainImage`). Configs of this appliance found on the
 * broker that describe nothing any more (a person removed, a camera removed or disabled, even while facegate was
 * stopped) get an empty retained config, which makes Home Assistant delete the entity.
 */
import type { MqttConfig } from '../config/schema.js';
import type { Bus } from '../events/bus.js';
import type { PersonRef, RecognitionEvent } from '../events/types.js';
import { discoveryFilter, discoveryMessages } from './homeassistant.js';
import { CameraTracks } from './homeassistant-state.js';
import type { RetainedChannel } from './publisher.js';
import type { TextMessage } from './messages.js';
import { topics } from './topics.js';

export interface HomeAssistantOptions {
  config: Pick<MqttConfig, 'prefix' | 'homeAssistant'>;
  bus: Bus;
  /** The MQTT publisher's retained-message side. */
  channel: RetainedChannel;
  /** Enrolled people, read each time discovery is published. */
  people: () => PersonRef[] | Promise<PersonRef[]>;
  /** The cameras running now (enabled ones), read each time discovery is published; cameras seen in status are added. */
  cameras: () => string[];
  /**
   * The node part of discovery ids before they were per appliance (`level(mqtt.clientId ?? "facegate-<hostname>")`):
   * configs `<discoveryPrefix>/<component>/<legacyNodeId>_.../config` left by an older facegate are removed.
   */
  legacyNodeId?: string;
  /** The JPEG of a snapshot id (the best face of a track), or null when it is gone. */
  faceImage?: (snapshot: string) => Promise<Buffer | null>;
}

export class HomeAssistantPublisher {
  private readonly tracks = new CameraTracks();
  private readonly seenCameras = new Set<string>();
  private cameras: string[] = [];
  private people: PersonRef[] = [];
  /** Discovery topics of the configs published last; null until the first publish. */
  private current: Set<string> | null = null;
  /** Configs of this appliance found on the broker before the first publish. */
  private readonly found = new Set<string>();
  private off: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private publishing: Promise<void> = Promise.resolve();
  /** The latest value of each state topic (sent again only when it changes; the refresh re-sends all). */
  private readonly sent = new Map<string, string>();

  constructor(private readonly opts: HomeAssistantOptions) {}

  private get ha() {
    return this.opts.config.homeAssistant;
  }

  private get applianceId(): string {
    return this.opts.channel.applianceId;
  }

  start(): void {
    if (this.off.length) return;
    const { bus, channel } = this.opts;
    this.off.push(
      bus.on('recognition', (e) => this.onRecognition(e)),
      bus.on('cameraStatus', (s) => {
        if (s.state === 'offline') this.onCameraOffline(s.camera);
        if (this.seenCameras.has(s.camera)) return;
        this.seenCameras.add(s.camera);
        if (!this.cameras.includes(s.camera)) void this.publishAll();
      }),
      bus.on('cameraRemoved', ({ camera }) => {
        // Its entities go (their configs emptied) and so do their retained states.
        this.seenCameras.delete(camera);
        void this.publishAll();
      }),
      bus.on('facebankChanged', () => void this.publishAll()),
      channel.subscribe(discoveryFilter(this.ha.discoveryPrefix, this.applianceId), (topic, payload) => this.onConfigSeen(topic, payload)),
      ...(this.opts.legacyNodeId ? [channel.subscribe(`${this.ha.discoveryPrefix}/+/+/config`, (topic, payload) => this.onLegacyConfig(topic, payload))] : []),
      channel.subscribe(topics.homeAssistantStatus(this.ha.discoveryPrefix), (_t, payload) => {
        // Home Assistant (re)started: it reads the retained configs anyway; the states are sent again for it.
        if (payload.toString() === 'online') void this.publishAll().then(() => this.refresh());
      }),
      channel.onConnect(() => void this.publishAll()),
    );
    this.timer = setInterval(() => this.refresh(), (this.ha.expireAfterSeconds * 1000) / 3);
    this.timer.unref();
    void this.publishAll();
  }

  stop(): void {
    for (const off of this.off) off();
    this.off = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Publishes the configs and every state when connected (the next connect publishes them otherwise). Calls run one
   * after another, so a slower read of the people list never overwrites a newer one's configs.
   */
  publishAll(): Promise<void> {
    this.publishing = this.publishing.then(() => this.publishOnce());
    return this.publishing;
  }

  private async publishOnce(): Promise<void> {
    const { channel, config } = this.opts;
    if (!channel.connected) return;
    let people: PersonRef[];
    try {
      people = await this.opts.people();
    } catch {
      return; // the facebank is closing; the next change or connect publishes again
    }
    const cameras = [...new Set([...this.opts.cameras(), ...this.seenCameras])];
    const configs = discoveryMessages({
      prefix: config.prefix,
      discoveryPrefix: this.ha.discoveryPrefix,
      applianceId: this.applianceId,
      expireAfterSeconds: this.ha.expireAfterSeconds,
      cameras,
      people,
    });
    const now = new Set(configs.map((m) => m.topic));
    const stale = [...(this.current ?? []), ...this.found].filter((t) => !now.has(t));
    const published = channel.publishRetainedOnce([...configs, ...stale.map((topic) => ({ topic, payload: '' }))]);
    // After the configs that removed their entities: the retained states of what is gone.
    this.dropStates(cameras, people);
    this.cameras = cameras;
    this.people = people;
    for (const s of this.states()) this.setState(s.topic, s.payload);
    if (!published) return;
    this.current = now;
    this.found.clear();
  }

  /** A config of this appliance on the broker: cleared when it describes nothing now. */
  private onConfigSeen(topic: string, payload: Buffer) {
    if (!payload.length) return;
    if (!this.current) this.found.add(topic);
    else if (!this.current.has(topic)) this.opts.channel.publishRetainedOnce([{ topic, payload: '' }]);
  }

  /** A config of the layout before per-appliance ids, published by this box: removed. */
  private onLegacyConfig(topic: string, payload: Buffer) {
    const object = topic.split('/')[2] ?? '';
    if (payload.length && object.startsWith(`${this.opts.legacyNodeId}_`)) this.opts.channel.publishRetainedOnce([{ topic, payload: '' }]);
  }

  /** Every state now: face count per camera, presence per camera × person. */
  private states(): TextMessage[] {
    const { prefix } = this.opts.config;
    const out: TextMessage[] = [];
    for (const cam of this.cameras) {
      out.push({ topic: topics.cameraFaces(prefix, this.applianceId, cam), payload: String(this.tracks.faces(cam)) });
      for (const p of this.people)
        out.push({ topic: topics.presence(prefix, this.applianceId, cam, p.id), payload: this.tracks.present(cam, p.id) ? 'on' : 'off' });
    }
    return out;
  }

  /** Removes the retained states of cameras and people that are gone. */
  private dropStates(cameras: readonly string[], people: readonly PersonRef[]) {
    const { prefix } = this.opts.config;
    const keep = new Set(
      cameras.flatMap((c) => [topics.cameraFaces(prefix, this.applianceId, c), ...people.map((p) => topics.presence(prefix, this.applianceId, c, p.id))]),
    );
    const gone = this.states().filter((s) => !keep.has(s.topic));
    for (const s of gone) {
      this.opts.channel.forgetRetained(s.topic);
      this.sent.delete(s.topic);
    }
    this.opts.channel.publishRetainedOnce(gone.map((s) => ({ topic: s.topic, payload: '' })));
  }

  /** Keeps a state retained (re-sent on connect), sending it now when it changed. */
  private setState(topic: string, payload: string) {
    if (this.sent.get(topic) === payload) return;
    this.sent.set(topic, payload);
    this.opts.channel.setRetained(topic, payload);
  }

  /** Re-sends every state, so none expires in Home Assistant while this box runs. */
  private refresh() {
    this.opts.channel.publishRetainedOnce(this.states());
  }

  private onRecognition(e: RecognitionEvent) {
    const { channel, config } = this.opts;
    const { prefix } = config;
    const u = this.tracks.apply(e);
    this.setState(topics.cameraFaces(prefix, this.applianceId, e.camera), String(u.faces));
    for (const p of u.presence) this.setState(topics.presence(prefix, this.applianceId, p.camera, p.personId), p.on ? 'on' : 'off');
    if (!u.decided) return;
    channel.publishLive([{ topic: topics.recognitions(prefix, this.applianceId, e.camera), payload: JSON.stringify(eventPayload(e)) }]);
    if (e.person && e.snapshot) void this.sendFace(e.camera, e.snapshot);
  }

  /** A camera that delivers no frames ends no tracks: what it had in view is taken as gone. */
  private onCameraOffline(camera: string) {
    const { prefix } = this.opts.config;
    for (const p of this.tracks.clear(camera)) this.setState(topics.presence(prefix, this.applianceId, camera, p.personId), 'off');
    if (this.cameras.includes(camera)) this.setState(topics.cameraFaces(prefix, this.applianceId, camera), '0');
  }

  private async sendFace(camera: string, snapshot: string) {
    const jpeg = await this.opts.faceImage?.(snapshot).catch(() => null);
    if (!jpeg) return;
    const topic = topics.latestFace(this.opts.config.prefix, this.applianceId, camera);
    if (this.ha.retainImage) this.opts.channel.setRetained(topic, jpeg);
    else this.opts.channel.publishLive([{ topic, payload: jpeg }]);
  }
}

/** The event entity's payload: `event_type` plus attributes Home Assistant shows with the event. */
function eventPayload(e: RecognitionEvent) {
  return {
    event_type: e.person ? 'known' : 'unknown',
    person: e.person?.name ?? null,
    person_id: e.person?.id ?? null,
    similarity: e.similarity,
    confidence: e.confidence,
    track: e.track,
    event_id: e.id,
    frame_time: e.frameTime,
  };
}
