/**
 * What the web app needs from the rest of the appliance. Narrow on purpose: the lead wires the real
 * facebank, engine, cameras, snapshots and stores into createApp(deps); tests pass their own.
 * Methods may answer synchronously or with a promise; the app always awaits.
 */
import type { SourceTest } from '../ingest/test-source.js';
import type { FaceEngine } from '../engine/types.js';
import type { CameraStatus } from '../events/types.js';
import type { Person, Sample } from '../store/types.js';
import type { Enrolment } from '../enrol/service.js';
import type { Box, RgbImage } from '../vision/types.js';
import type { Config } from '../config/schema.js';
import type { Bus } from '../events/bus.js';
import type { Logger } from '../util/log.js';
import type { AuthStore } from '../store/auth.js';
import type { EventStore } from '../store/events.js';
import type { UnknownStore } from '../store/unknowns.js';
import type { Admission } from '../engine/admission.js';
import type { StorageState } from '../events/bus.js';
import type { StorageReporter } from '../store/storage-health.js';

type MaybePromise<T> = T | Promise<T>;

/** The facebank as the page reads it (shaped like src/store/facebank.ts); every change goes through `enrol`. */
export interface FacebankPort {
  people(): MaybePromise<Person[]>;
  person(id: string): MaybePromise<Person | undefined | null>;
  samples(personId?: string): MaybePromise<Sample[]>;
  /** Absolute path of the sample's crop JPEG. */
  cropPath(sampleId: string): string;
}

/** The part of FaceEngine the app uses. */
export type EnginePort = Pick<FaceEngine, 'embedderId' | 'defaultThreshold' | 'analyze'>;

/** A face the live loop drew a conclusion about, for the annotated camera frame. */
export interface AnnotatedFace {
  box: Box;
  /** Person name, or null for unknown / undecided. */
  label: string | null;
  similarity?: number | null;
  /** Why the face was not matched (too small, blurry, turned away), or false; without it, a face with no similarity counts as gated. */
  gated?: string | boolean | null;
}

export interface CamerasPort {
  list(): MaybePromise<CameraStatus[]>;
  /** The newest decoded frame, or null when the camera has none yet. */
  latestFrame(camera: string): MaybePromise<RgbImage | null>;
  /** The faces the pipeline saw in that frame: a list, or PipelineLoop.latestFaces' {boxes} as it is. */
  latestFaces(camera: string): MaybePromise<AnnotatedFace[] | { boxes: AnnotatedFace[] } | null>;
}

/** A camera's settings as the page and API show them: the URL's password is masked, never sent back. */
export interface CameraSettings {
  name: string;
  url: string;
  enabled: boolean;
  loop: boolean;
  fps: number | null;
  width: number | null;
  inputOptions: string[];
}

/** Where the config came from and whether cameras can be saved to it (`reason` says why not, in one sentence). */
export interface ConfigSourceInfo {
  file: string | null;
  writable: boolean;
  reason: string | null;
}

/** The answer of "Test": one decoded frame and the stream's size and frame rate, or ffmpeg's error in a sentence. */
export type CameraTestResult = SourceTest;

/** Adding, changing, testing and removing cameras while the appliance runs (src/app/camera-admin.ts). */
export interface CameraAdminPort {
  source(): MaybePromise<ConfigSourceInfo>;
  settings(): MaybePromise<CameraSettings[]>;
  /** Opens the camera described by `input` (the page's form; `current` is the camera it edits) without saving anything. */
  test(input: Record<string, unknown>, current: string | null): Promise<CameraTestResult>;
  /** Adds (`current` null) or replaces a camera, in the config file and at once in the running appliance. */
  save(input: Record<string, unknown>, current: string | null): Promise<CameraSettings>;
  remove(name: string): Promise<void>;
}

export interface SnapshotsPort {
  /** Absolute path of snapshot `id` (a JPEG), or null when there is none. The app validates the id first. */
  path(id: string): MaybePromise<string | null>;
}

export interface AppDeps {
  config: Config;
  bus: Bus;
  log: Logger;
  auth: AuthStore;
  facebank: FacebankPort;
  /** The facebank's one owner (src/enrol): people, samples, corrections, unknown groups, the change log, the operating point. */
  enrol: Enrolment;
  engine: EnginePort;
  cameras: CamerasPort;
  /** Camera management; without it the cameras can only be listed. */
  cameraAdmin?: CameraAdminPort;
  snapshots: SnapshotsPort;
  events: EventStore;
  unknowns: UnknownStore;
  /** Whether every write path can write (disk full or failing: the page shows a banner); without it, always ok. */
  storage?: { readonly state: StorageState } & Pick<StorageReporter, 'reportWriteFailure' | 'reportRepair'>;
  /** Queue for engine-bound request work (photo uploads); without it such work runs at once. */
  admission?: Admission;
  /** Folder with index.html, app.js, style.css; default: <install>/web. */
  webDir?: string;
  /** The client address used for sign-in rate limiting; default: the socket's remote address. */
  clientIp?: (req: Request, env: unknown) => string;
  /** Facebank sync (issue 16), when enabled: where each person came from and the sync state. */
  sync?: { origin(personId: string): string; readonly stats: { lastSync: string | null; pending: number; connected: boolean; applianceId: string } };
}
