/**
 * The Home Assistant state facegate keeps between messages: faces in view per camera (open tracks), and which
 * discovery configs were last published, so entities of people no longer enrolled can be removed.
 */
import type { RecognitionEvent } from '../events/types.js';
import { topics, type MqttMessage } from './topics.js';

/** Counts open tracks per camera; the count is the retained face-count sensor state. */
export class FaceCounter {
  private readonly open = new Map<string, Set<string>>();

  constructor(private readonly prefix: string) {}

  /**
   * Applies a recognition; returns the camera's face-count message when the count changed, or when `known`
   * says that topic has no value yet.
   */
  update(e: RecognitionEvent, known: (topic: string) => boolean): MqttMessage | null {
    let open = this.open.get(e.camera);
    if (!open) this.open.set(e.camera, (open = new Set()));
    const before = open.size;
    if (e.type === 'end') open.delete(e.track);
    else open.add(e.track);
    const topic = topics.cameraFaces(this.prefix, e.camera);
    return open.size !== before || !known(topic) ? { topic, payload: String(open.size) } : null;
  }
}

/** Remembers the discovery topics last published; `diff` adds an empty retained config for each that is gone. */
export class DiscoveryState {
  private published = new Set<string>();

  /** The messages to publish for this set of configs; call `commit` once they went out. */
  diff(configs: readonly MqttMessage[]): MqttMessage[] {
    const now = new Set(configs.map((m) => m.topic));
    const removed = [...this.published].filter((t) => !now.has(t)).map((topic) => ({ topic, payload: '' }));
    return [...configs, ...removed];
  }

  commit(configs: readonly MqttMessage[]): void {
    this.published = new Set(configs.map((m) => m.topic));
  }
}
