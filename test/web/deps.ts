/** Builds createApp deps for the web tests: a real face engine, test stand-ins for the other ports. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { configSchema, type Config } from '../../src/config/schema.js';
import { Bus } from '../../src/events/bus.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { openStores } from '../../src/app/units/stores.js';
import { openAuth } from '../../src/web/server.js';
import type { FaceEngine } from '../../src/engine/types.js';
import type { AppDeps, CamerasPort } from '../../src/web/ports.js';
import type { RgbImage } from '../../src/vision/types.js';
import { dataPath } from '../helpers/data.js';
import { StillCameras } from './fakes.js';
import { createFaceEngine } from '../../src/engine/index.js';
import { Facebank } from '../../src/store/facebank.js';
import { Snapshots } from '../../src/store/snapshots.js';
import { Enrolment } from '../../src/enrol/service.js';

const here = path.dirname(fileURLToPath(import.meta.url));

let enginePromise: Promise<FaceEngine> | null = null;

/** The project's real engine (default MTCNN + MobileFaceNet from engines/), shared by the web tests. */
export function testEngine(): Promise<FaceEngine> {
  enginePromise ??= createFaceEngine({ ...configSchema.parse({}).engine, enginesDir: path.resolve(here, '../../engines') }, { log: silentLogger() });
  return enginePromise;
}

export async function readRgb(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

export interface TestDeps<C extends CamerasPort = StillCameras> extends AppDeps {
  /** The real engine (the pipeline loop needs all of it, the app only its port). */
  engine: FaceEngine;
  facebank: Facebank;
  cameras: C;
  snapshots: Snapshots;
  cleanup(): Promise<void>;
}

export interface DepsOptions {
  web?: Partial<Config['web']>;
  password?: string;
  log?: Logger;
}

/** Deps with the still-image camera, or with `cameras` (e.g. LiveCameras, a real ffmpeg camera). */
export async function buildDeps(overrides?: DepsOptions): Promise<TestDeps>;
export async function buildDeps<C extends CamerasPort>(overrides: DepsOptions & { cameras: C }): Promise<TestDeps<C>>;
export async function buildDeps(overrides: DepsOptions & { cameras?: CamerasPort } = {}): Promise<TestDeps<CamerasPort>> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-web-'));
  const engine = await testEngine();
  // The API tests address the app as http://facegate.local.
  const config = configSchema.parse({ dataDir, web: { allowedHosts: ['facegate.local'], ...overrides.web } });
  const bus = new Bus();
  // The auth and event stores are opened as the appliance's units open them.
  const auth = await openAuth(config);
  if (overrides.password) await auth.setInitialPassword(overrides.password);
  const stores = await openStores(dataDir, config.web, bus);
  const { events, unknowns } = stores;
  const frame = await readRgb(dataPath('identity/bbt/bbt1.jpg'));
  const facebank = new Facebank(dataDir, { bus });
  await facebank.open();
  const snapshots = new Snapshots(dataDir);
  // The facebank's one owner, wired as the appliance's enrolment unit wires it.
  const enrol = new Enrolment({ dataDir, facebank, bus, match: config.match, embedder: () => engine, stores: () => stores, snapshots });
  await enrol.open();
  return {
    config,
    bus,
    log: overrides.log ?? silentLogger(),
    auth,
    facebank,
    enrol,
    engine,
    cameras: overrides.cameras ?? new StillCameras('door', frame),
    snapshots,
    events,
    unknowns,
    async cleanup() {
      await enrol.close();
      await stores.close();
      await auth.flush();
      await facebank.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
