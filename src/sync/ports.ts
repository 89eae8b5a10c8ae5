/**
 * What the sync needs from the rest of the appliance, and nothing more: the facebank's contents through their owner
 * (`SyncFacebank`) and one MQTT connection (`SyncLink`, the appliance's transport). The composition root
 * (src/app/units/sync.ts) passes the real ones; tests and benchmarks may pass their own.
 */
import type { Person, RecordOp, Sample } from '../store/types.js';

/** A sample as the sync reads it (the store may keep the embedding as a typed array). */
export type SyncSample = Omit<Sample, 'embedding'> & { embedding: ArrayLike<number> };

/** The facebank's owner, as the sync sees it. */
export interface SyncFacebank {
  people(): Promise<Person[]>;
  person(id: string): Promise<Person | null | undefined>;
  samples(): Promise<SyncSample[]>;
  findByName(name: string): Promise<Person | null | undefined>;
  /** Where the aligned JPEG crop of a sample is kept. */
  cropPath(sampleId: string): string;
  /**
   * Applies records from other appliances in order (the owner's name rules apply to people); the ids of samples
   * not added because their person is not here come back (the sync keeps them until the person arrives).
   */
  applyRemote(ops: readonly RecordOp[]): Promise<{ orphans: string[] }>;
  /** A local rename (a name clash this appliance settles); published like any local change. */
  renamePerson(id: string, name: string): Promise<unknown>;
}

/** Handlers of one subscription. */
export interface LinkSubscription {
  onMessage(topic: string, payload: Buffer): void;
  /** After the broker acknowledged the subscription, on every (re)connect. */
  onSubscribed?(): void;
}

/** The appliance's MQTT connection, as the sync uses it (src/mqtt/transport.ts implements it). */
export interface SyncLink {
  readonly connected: boolean;
  /** Subscribes to `filter` at QoS 1 now (if connected) and on every reconnect; returns the way to unsubscribe. */
  subscribe(filter: string, handler: LinkSubscription): () => void;
  /** Publishes at QoS 1 now; resolves on the broker's acknowledgement, rejects when not connected or lost first. */
  publishNow(topic: string, payload: Buffer, opts: { retain: boolean }): Promise<void>;
  /** Called when the connection comes (true) or goes (false); returns the way to stop. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}
