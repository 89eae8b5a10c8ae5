/**
 * One typed event bus that services publish to and subscribe on; no service calls another's internals.
 * Listeners are isolated: one that throws (or rejects) is reported and counted, and the others still run, so a
 * faulty subscriber can neither abort the publisher mid-batch nor fail a change that is already committed.
 */
import type { FacebankChange } from '../store/types.js';
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
  /** A camera removed (or renamed: its old name) from the page or the API, after it stopped: its topics go. */
  cameraRemoved: [{ camera: string }];
  /** A committed facebank change (enrolment, rename, delete, a replicated batch): matchers reload, the sync publishes. */
  facebankChanged: [FacebankChange];
  mqttConnection: [{ connected: boolean }];
  /** A correction from the page (after the facebank has the new sample). */
  correction: [TrackCorrectionEvent];
  /** The live matcher's threshold for the facebank's size changed (rebuilt after an enrolment). */
  operatingPoint: [OperatingPoint];
  /** A write path could no longer write (disk full or failing), or every one can again. */
  storage: [StorageState];
}

type Listener = (...args: never[]) => unknown;

/** Told of a listener that threw; the bus has already gone on to the next listener. */
export type ListenerErrorHandler = (event: keyof BusEvents, error: unknown) => void;

export class Bus {
  private readonly listeners = new Map<keyof BusEvents, Listener[]>();
  private onError: ListenerErrorHandler | null = null;
  /** Listener failures so far, by event (for /metrics). */
  readonly listenerErrors = new Map<keyof BusEvents, number>();

  /** Where listener failures are reported (the composition root passes the log); the count is kept regardless. */
  reportErrorsTo(handler: ListenerErrorHandler): void {
    this.onError = handler;
  }

  emit<K extends keyof BusEvents>(event: K, ...args: BusEvents[K]): void {
    const list = this.listeners.get(event);
    if (!list) return;
    for (const listener of list.slice()) {
      try {
        const r = (listener as (...a: BusEvents[K]) => unknown)(...args);
        if (r instanceof Promise) r.catch((e: unknown) => this.failed(event, e));
      } catch (e) {
        this.failed(event, e);
      }
    }
  }

  on<K extends keyof BusEvents>(event: K, listener: (...args: BusEvents[K]) => void): () => void {
    let list = this.listeners.get(event);
    if (!list) this.listeners.set(event, (list = []));
    const l = listener as unknown as Listener;
    list.push(l);
    return () => {
      const i = list.indexOf(l);
      if (i >= 0) list.splice(i, 1);
    };
  }

  private failed(event: keyof BusEvents, error: unknown): void {
    this.listenerErrors.set(event, (this.listenerErrors.get(event) ?? 0) + 1);
    try {
      this.onError?.(event, error);
    } catch {
      /* a failing reporter must not break the publisher either */
    }
  }
}
