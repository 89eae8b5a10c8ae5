/**
 * The appliance's local API: HTTP over the unix socket <dataDir>/facegate.sock (owner-only, like the data
 * directory), through which `facegate enroll`, `people`, `passwd --reset` and `install-service` hand their jobs
 * to the running appliance instead of writing its files behind its back, and `facegate status` reads its state.
 * Photo analysis goes through the admission queue (429 with Retry-After when full); facebank changes go through
 * its one owner (src/enrol), admin changes through the page's one auth store (see README.md here).
 */
import { chmod, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { BusyError, type Admission } from '../engine/admission.js';
import type { FaceEngine } from '../engine/types.js';
import type { Enrolment } from '../enrol/service.js';
import { statusOf, type ErrorCode } from '../errors/codes.js';
import { FacegateError, isFacegateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { analysePhotos, cliMaxBytes, commitEnrolment, listPeople, removePerson, renamePerson } from './jobs.js';

export const SOCKET_FILE = 'facegate.sock';
/** sun_path is 108 bytes on Linux, with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export const socketPath = (dataDir: string) => path.join(dataDir, SOCKET_FILE);

/** The admin account as the CLI changes it through the appliance (`passwd --reset`, `install-service`). */
export interface AdminPort {
  /** Forgets the password, every session and token at once; returns the new claim code. */
  reset(): Promise<string>;
  /** Sets the first password when none is set (with `password`), else makes sure a claim code exists while unclaimed. */
  prepare(password?: string): Promise<{ claimCode: string | null; passwordSet: boolean; setNow: boolean }>;
}

/** What `facegate status` shows of the running appliance. */
export interface ApplianceStatus {
  pid: number;
  since: string;
  dataDir: string;
  setup: { claimed: boolean; passwordFixed: boolean; claimCode: string | null } | null;
  page: { urls: string[]; fingerprint: string | null } | null;
  cameras: { name: string; state: string; fps: number; lastFrameTime: string | null; lastError: string | null }[];
  broker: { url: string; connected: boolean; queued: number; published: number; dropped: number } | null;
  sync: { connected: boolean; pending: number; refused: number; lastSync: string | null } | null;
  disk: { path: string; freeBytes: number; totalBytes: number } | null;
}

export interface LocalApiDeps {
  config: Pick<Config, 'dataDir' | 'web' | 'engine' | 'pipeline'>;
  /** The facebank's one owner (src/enrol): every change goes through it. */
  enrol: Enrolment;
  engine: FaceEngine;
  admission: Admission;
  log: Logger;
  admin?: AdminPort;
  status?: () => Promise<ApplianceStatus>;
}

export interface LocalApi {
  readonly path: string;
  stop(): Promise<void>;
}

/** The codes the local API answers with their own status (src/errors/codes.ts); other FacegateErrors are 422. */
const OWN_STATUS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['busy', 'not_found', 'conflict', 'invalid', 'usage', 'too_large']);

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new FacegateError('too_large', `The request is larger than ${limit} bytes.`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  try {
    const v: unknown = JSON.parse((await readBody(req, 64 * 1024)).toString('utf8'));
    if (v && typeof v === 'object') return v as Record<string, unknown>;
  } catch (e) {
    if (isFacegateError(e)) throw e;
  }
  throw new FacegateError('invalid', 'The request body must be a JSON object.');
}

const text = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || !v) throw new FacegateError('invalid', `${what} is missing.`);
  return v;
};

/** Starts serving on <dataDir>/facegate.sock; the caller holds the data-dir lock, so a leftover socket is stale. */
export async function startLocalApi(deps: LocalApiDeps): Promise<LocalApi> {
  const { config, enrol, engine, admission, log, admin, status } = deps;
  const file = socketPath(config.dataDir);
  if (Buffer.byteLength(file) > MAX_SOCKET_PATH)
    throw new FacegateError('socket_path', `The local socket path ${file} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter data directory.`);

  const route = async (req: IncomingMessage, url: URL): Promise<unknown> => {
    const at = `${req.method} ${url.pathname}`;
    if (at === 'POST /v1/enrol') {
      const name = text(url.searchParams.get('name'), 'The name');
      const faceArg = url.searchParams.get('face');
      const face = faceArg === null ? undefined : Number(faceArg);
      if (face !== undefined && !(Number.isInteger(face) && face >= 0)) throw new FacegateError('invalid', '--face must be a whole number from 0');
      const photo = { file: url.searchParams.get('file') || 'photo', bytes: await readBody(req, cliMaxBytes(config)) };
      const analysed = await analysePhotos(engine, config, [photo], face, (job) => admission.run(job));
      const out = await commitEnrolment(enrol, name, analysed, url.searchParams.get('force') === '1');
      log.info({ person: out.person?.id, accepted: out.results.filter((r) => r.sampleId).length }, 'local api: enrolment');
      return out;
    }
    if (at === 'GET /v1/people') return { people: await listPeople(enrol) };
    if (at === 'POST /v1/people/rename') {
      const b = await jsonBody(req);
      return renamePerson(enrol, text(b.ref, 'The person'), text(b.name, 'The new name'));
    }
    if (at === 'POST /v1/people/remove') {
      const b = await jsonBody(req);
      return { removed: await removePerson(enrol, text(b.ref, 'The person')) };
    }
    if (at === 'POST /v1/admin/reset') {
      if (!admin) throw new FacegateError('appliance', 'This appliance cannot change its admin account from the command line.');
      const claimCode = await admin.reset();
      log.warn('admin password reset from the command line: sessions and API tokens ended; the page asks for the new claim code');
      return { claimCode };
    }
    if (at === 'POST /v1/admin/prepare') {
      if (!admin) throw new FacegateError('appliance', 'This appliance cannot change its admin account from the command line.');
      const b = await jsonBody(req);
      if (b.password !== undefined && typeof b.password !== 'string') throw new FacegateError('invalid', 'The password must be text.');
      return admin.prepare(b.password);
    }
    if (at === 'GET /v1/status') {
      if (!status) throw new FacegateError('appliance', 'This appliance does not report its status.');
      return status();
    }
    throw new FacegateError('not_found', `No local API route ${at}.`);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://local');
    route(req, url).then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      },
      (e: unknown) => {
        const fe = isFacegateError(e) ? e : new FacegateError('internal', `unexpected error: ${(e as Error)?.message ?? e}`);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (e instanceof BusyError) headers['retry-after'] = String(e.retryAfterSeconds);
        if (!isFacegateError(e)) log.error({ err: fe.message }, 'local api failed');
        if (!res.headersSent)
          res
            .writeHead(isFacegateError(e) ? (OWN_STATUS.has(e.code) ? statusOf(e.code) : 422) : 500, headers)
            .end(JSON.stringify({ error: fe.code, message: fe.message }));
      },
    );
  };

  const server = http.createServer(handle);
  await rm(file, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => resolve());
  });
  await chmod(file, 0o600);
  log.info({ socket: file }, 'local API listening');
  return {
    path: file,
    // Jobs in progress may finish (up to 5 s): what they acknowledge is saved.
    stop: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        server.close(() => {
          clearTimeout(force);
          void rm(file, { force: true }).finally(resolve);
        });
        server.closeIdleConnections();
      }),
  };
}
