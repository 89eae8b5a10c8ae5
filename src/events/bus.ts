/** One typed event bus that services publish to and subscribe on; no service calls another's internals. */
import { EventEmitter } from 'node:events';
import type { CameraStatus, OperatingPoint, PersonRef, RecognitionEvent } from './types.js';

/** "Wrong person" on an event of a track that may still be live: the pipeline corrects the track at once. */
export interface TrackCorrectionEvent {
  camera: string;
  track: string;
  /** not-person: `person` is ruled out for the track; reassigned: the track is `person`. */
  kind: 'not-person' | 'reassigned';
  person: PersonRef;
}

/** A write path cannot write: the disk is full (ENOSPC, EDQUOT) or failing (EIO...). */
export interface StorageTrouble {
  ok: false;
  code: string;
  since: string;
  files: string[];
  /** One sentence: what is lost and what to do. */
  reason: string;
}

/** Whether every write path can keep what it writes (src/store/storage-health.ts owns it). */
export type StorageState = { ok: true } | StorageTrouble;

export interface BusEvents {
  /** A track decision. The embedding (best face of the track) stays inside the process: never published. */
  recognition: [RecognitionEvent, { embedding: Float32Array | null }];
  cameraStatus: [CameraStatus];
  /** The facebank changed (enrolment, rename, delete): matchers reload. */
  facebankChanged: [];
  mqttConnection: [{ connected: boolean }];
  /** A correction from the page (after the facebank has the new sample). */
  correction: [TrackCorrectionEvent];
  /** The live matcher's threshold for the facebank's size changed (rebuilt after an enrolment). */
  operatingPoint: [OperatingPoint];
  /** A write path could no longer write (disk full or failing), or every one can again. */
  storage: [StorageState];
}

export class Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(50);

  emit<K extends keyof BusEvents>(event: K, ...args: BusEvents[K]): void {
    this.emitter.emit(event, ...args);
  }

  on<K extends keyof BusEvents>(event: K, listener: (...args: BusEvents[K]) => void): () => void {
    this.emitter.on(event, listener as (...a: unknown[]) => void);
    return () => this.emitter.off(event, listener as (...a: unknown[]) => void);
  }
}
