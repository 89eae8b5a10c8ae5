/**
 * How a CLI command reaches the facebank without losing anything: when the appliance runs (it holds the
 * data-dir lock), the job is sent to it over its local socket; otherwise the CLI takes the lock itself (waiting
 * for another CLI job to finish) and runs the job. Photos are analysed before the lock is taken, so
 * concurrent `enroll` processes hold it only while they write.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import { engineFromConfig } from '../engine/setup.js';
import { Bus } from '../events/bus.js';
import { Facebank } from '../store/facebank.js';
import type { Enrolment } from '../enrol/service.js';
import type { EmbedderFacts } from '../enrol/point.js';
import { describeHolder, lockHolder, LockedError, type LockHolder } from '../store/lock.js';
import { isErrorCode } from '../errors/codes.js';
import { FacegateError, isFacegateError } from '../util/errors.js';
import { socketPath } from './api.js';
import {
  analysePhotos,
  cliMaxBytes,
  cliEnrolment,
  commitEnrolment,
  listPeople,
  readPhoto,
  removePerson,
  renamePerson,
  type Analysed,
  type EnrolOutcome,
  type EnrolPhoto,
  type EnrolResult,
  type PersonRef,
  type PersonRow,
} from './jobs.js';

/** How long a CLI waits for another CLI job's lock, or for a starting appliance's socket. */
export const LOCK_WAIT_MS = 5 * 60_000;
const APPLIANCE_START_WAIT_MS = 90_000;

export interface FacebankJobs {
  /** Where the jobs run: in the running appliance, or in this process under the lock. */
  readonly where: 'appliance' | 'local';
  /** `force`: add faces that look like someone else enrolled (the page's "Add anyway"). */
  enrol(name: string, files: string[], faceIndex?: number, force?: boolean): Promise<EnrolOutcome>;
  list(): Promise<PersonRow[]>;
  rename(ref: string, name: string): Promise<{ id: string; from: string; name: string }>;
  remove(ref: string): Promise<PersonRef>;
}

/** Opens the facebank under the lock (waiting for other CLI jobs) and its owner (src/enrol), runs fn, closes. */
async function underLock<T>(config: Config, role: string, fn: (owner: Enrolment) => Promise<T>, embedder: EmbedderFacts | null = null): Promise<T> {
  // The owner's matcher follows the facebank's changes on this bus (no rebuild after each stored face).
  const bus = new Bus();
  const fb = new Facebank(config.dataDir, { role, lockWaitMs: LOCK_WAIT_MS, bus });
  await fb.open();
  try {
    const owner = await cliEnrolment(fb, config, embedder, bus);
    try {
      return await fn(owner);
    } finally {
      await owner.close();
    }
  } finally {
    await fb.close();
  }
}

type Refused = Extract<Analysed, { face?: undefined }>;

async function readPhotos(config: Config, files: string[]): Promise<{ photos: EnrolPhoto[]; refused: Refused[] }> {
  const photos: EnrolPhoto[] = [];
  const refused: Refused[] = [];
  for (const file of files) {
    try {
      photos.push(await readPhoto(file, cliMaxBytes(config)));
    } catch (e) {
      if (!isFacegateError(e)) throw e;
      refused.push({ file, error: e.code, message: e.message });
    }
  }
  return { photos, refused };
}

/** Results in the order the files were given (a file given twice has two results). */
function inOrder(files: string[], results: EnrolResult[]): EnrolResult[] {
  const left = results.slice();
  return files.flatMap((f) => {
    const i = left.findIndex((r) => r.file === f);
    return i < 0 ? [] : left.splice(i, 1);
  });
}

function localJobs(config: Config, role: string): FacebankJobs {
  let where: FacebankJobs['where'] = 'local';
  return {
    get where() {
      return where;
    },
    async enrol(name, files, faceIndex, force = false) {
      const { photos, refused } = await readPhotos(config, files);
      let analysed: Analysed[] = [];
      let embedder: EmbedderFacts | null = null;
      if (photos.length) {
        // Photos are analysed one at a time, so a pool of engine workers would only cost start-up time and memory.
        const engine = await engineFromConfig(config, undefined, (e) => {
          if (!e.workers) e.workers = 1;
        });
        try {
          analysed = await analysePhotos(engine, config, photos, faceIndex);
          embedder = { embedderId: engine.embedderId, defaultThreshold: engine.defaultThreshold, detectorId: engine.detectorId };
        } finally {
          await engine.close();
        }
      }
      try {
        const out = await underLock(config, role, (owner) => commitEnrolment(owner, name, [...refused, ...analysed], force), embedder);
        return { ...out, results: inOrder(files, out.results) };
      } catch (e) {
        // The appliance started meanwhile: hand it the photos.
        if (e instanceof LockedError && e.holder.role === 'run') {
          where = 'appliance';
          return remoteJobs(config, e.holder).enrol(name, files, faceIndex, force);
        }
        throw e;
      }
    },
    list: () => underLock(config, role, listPeople),
    rename: (ref, name) => underLock(config, role, (owner) => renamePerson(owner, ref, name)),
    remove: (ref) => underLock(config, role, (owner) => removePerson(owner, ref)),
  };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

function request(sock: string, method: string, path: string, body?: Uint8Array): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path, headers: body ? { 'content-length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A request to the running appliance's local API; its refusals become FacegateErrors with its sentence. */
export type ApplianceCall = <T>(method: string, path: string, body?: Uint8Array) => Promise<T>;

/** Calls to the appliance `holder` (it holds the lock as `run`). */
export function applianceCall(config: Pick<Config, 'dataDir'>, holder: LockHolder): ApplianceCall {
  const sock = socketPath(config.dataDir);
  /** Sends one request: waits while the appliance is starting (no socket yet) or busy (429, Retry-After). */
  return async <T>(method: string, path: string, body?: Uint8Array): Promise<T> => {
    const started = Date.now();
    for (;;) {
      let reply: Reply;
      try {
        reply = await request(sock, method, path, body);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const starting = code === 'ENOENT' || code === 'ECONNREFUSED';
        if (starting && Date.now() - started < APPLIANCE_START_WAIT_MS && (await lockHolder(config.dataDir))?.role === 'run') {
          await sleep(250);
          continue;
        }
        if (code === 'EACCES')
          throw new FacegateError(
            'appliance_unreachable',
            `The data directory ${config.dataDir} is in use by ${describeHolder(holder)}, but this user may not open its socket ${sock}; run the command as root (sudo) or as the service user.`,
          );
        throw new FacegateError(
          'appliance_unreachable',
          `The facebank in ${config.dataDir} is in use by ${describeHolder(holder)}, which does not answer on ${sock} (${code ?? (e as Error).message}); try again when it has started, or stop it.`,
        );
      }
      if (reply.status === 429 && Date.now() - started < LOCK_WAIT_MS) {
        await sleep(1000 * Math.max(1, Number(reply.headers['retry-after']) || 1));
        continue;
      }
      if (reply.status !== 200)
        throw new FacegateError(
          isErrorCode(reply.body.error) ? reply.body.error : 'appliance',
          typeof reply.body.message === 'string' ? reply.body.message : `The appliance answered ${reply.status}.`,
        );
      return reply.body as T;
    }
  };
}

const json = (v: object) => Buffer.from(JSON.stringify(v));

function remoteJobs(config: Config, holder: LockHolder): FacebankJobs {
  const call = applianceCall(config, holder);
  return {
    where: 'appliance',
    async enrol(name, files, faceIndex, force = false) {
      const { photos, refused } = await readPhotos(config, files);
      let person: PersonRef | null = null;
      let created = false;
      const results: EnrolResult[] = [...refused];
      for (const p of photos) {
        const q = new URLSearchParams({
          name,
          file: p.file,
          ...(faceIndex === undefined ? {} : { face: String(faceIndex) }),
          ...(force ? { force: '1' } : {}),
        });
        const out = await call<EnrolOutcome>('POST', `/v1/enrol?${q}`, p.bytes);
        person ??= out.person;
        created ||= out.created;
        results.push(...out.results);
      }
      return { person, created, results: inOrder(files, results) };
    },
    list: async () => (await call<{ people: PersonRow[] }>('GET', '/v1/people')).people,
    rename: (ref, name) => call('POST', '/v1/people/rename', json({ ref, name })),
    remove: async (ref) => (await call<{ removed: PersonRef }>('POST', '/v1/people/remove', json({ ref }))).removed,
  };
}

/** The jobs for `dataDir`: sent to the running appliance when it holds the lock, else run here under the lock. */
export async function facebankJobs(config: Config, role: string): Promise<FacebankJobs> {
  const holder = await lockHolder(config.dataDir);
  return holder?.role === 'run' ? remoteJobs(config, holder) : localJobs(config, role);
}
