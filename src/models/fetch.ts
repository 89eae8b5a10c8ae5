/**
 * Obtains a pinned third-party model into engines/: from a mirror (a local folder or a URL given by
 * `--from` or FACEGATE_MODEL_MIRROR), then from the pinned URL. The body is hashed as it arrives, refused
 * unless its sha256 is the pinned one, and renamed into place only then (nothing is left behind on failure).
 * A download that stalls or runs too long is aborted. Lack of network is a result, not an error.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ENV_SETTINGS, envSettings } from '../config/load.js';
import { packageRoot, sha256, writeAtomic } from './build.js';
import { readManifest, type Manifest, type ManifestModel } from './manifest.js';
import type { PinnedModel } from './pinned.js';

export const MIRROR_ENV = ENV_SETTINGS.modelMirror;

export interface Source {
  kind: 'dir' | 'url';
  where: string;
  /** Whether the user named it (--from or the environment) rather than it being the pinned URL. */
  mirror: boolean;
}

export interface FetchOptions {
  /** A folder or http(s) URL tried first (`--from`); else FACEGATE_MODEL_MIRROR. */
  from?: string;
  env?: NodeJS.ProcessEnv;
  /** Abort when no byte arrives for this long (ms). */
  idleMs?: number;
  /** Abort a download that takes longer than this in all (ms). */
  totalMs?: number;
  /** Skip the pinned URL (tests; air-gapped use with a mirror only). */
  noPinnedUrl?: boolean;
}

export interface FetchResult {
  id: string;
  status: 'present' | 'fetched' | 'unavailable';
  file?: string;
  source?: string;
  bytes?: number;
  /** Every source that failed, with why. */
  failures: { source: string; error: string }[];
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Where to look, in order: the mirror (flag, else environment), then the pinned URL. */
export function sourcesFor(model: PinnedModel, opts: FetchOptions = {}): Source[] {
  const mirror = opts.from ?? envSettings(opts.env).modelMirror;
  const out: Source[] = [];
  if (mirror) {
    if (isUrl(mirror)) out.push({ kind: 'url', where: `${mirror.replace(/\/+$/, '')}/${model.sourceName}`, mirror: true });
    else out.push({ kind: 'dir', where: path.resolve(mirror), mirror: true });
  }
  if (!opts.noPinnedUrl) out.push({ kind: 'url', where: model.url, mirror: false });
  return out;
}

/** Streams a URL into `tmp`, hashing as it goes; throws a one-sentence Error on any failure. */
async function download(url: string, tmp: string, model: PinnedModel, idleMs: number, totalMs: number): Promise<{ bytes: number; sha: string }> {
  const ac = new AbortController();
  let why = '';
  const secs = (ms: number) => (ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000)));
  const abort = (reason: string) => {
    why = reason;
    ac.abort();
  };
  const total = setTimeout(() => abort(`no complete answer within ${secs(totalMs)} s`), totalMs);
  let idle = setTimeout(() => abort(`no answer for ${secs(idleMs)} s`), idleMs);
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => abort(`stalled: no data for ${secs(idleMs)} s`), idleMs);
  };
  const fh = await open(tmp, 'w', 0o644);
  try {
    const res = await fetch(url, { signal: ac.signal, redirect: 'follow' });
    touch();
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > model.maxBytes) throw new Error(`it is ${declared} bytes, more than the ${model.maxBytes} expected at most`);
    const hash = createHash('sha256');
    let bytes = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      touch();
      bytes += value.byteLength;
      if (bytes > model.maxBytes) throw new Error(`it sent more than ${model.maxBytes} bytes`);
      hash.update(value);
      await fh.write(value);
    }
    if (Number.isFinite(declared) && bytes !== declared) throw new Error(`truncated: ${bytes} of ${declared} bytes`);
    await fh.sync();
    return { bytes, sha: hash.digest('hex') };
  } catch (e) {
    if (why) throw new Error(why);
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const cause = err.cause?.code ?? err.cause?.message;
    throw new Error(cause ? `${err.message} (${cause})` : err.message);
  } finally {
    clearTimeout(total);
    clearTimeout(idle);
    await fh.close();
  }
}

/** Verifies `tmp` and renames it to `dest`; removes `tmp` whatever happens. */
async function install(tmp: string, dest: string, got: { sha: string }, model: PinnedModel): Promise<void> {
  try {
    if (got.sha !== model.sha256) throw new Error(`sha256 ${got.sha.slice(0, 12)}… is not the pinned ${model.sha256.slice(0, 12)}…; refused`);
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
  }
}

const fileSha = (file: string) => sha256(readFileSync(file));

/** The licence text kept beside the model: source, upstream copyright lines, then the Apache-2.0 text. */
function licenceText(model: PinnedModel): string {
  const apache = readFileSync(path.join(packageRoot, 'engines', 'licences', `${model.licence}.txt`), 'utf8');
  const head = [
    `${model.file}: ${model.repo} @ ${model.commit}, ${model.path}`,
    `sha256 ${model.sha256}; licence ${model.licence}. Upstream notices:`,
    ...model.copyright.map((c) => `  ${c}`),
    '',
  ];
  return `${head.join('\n')}\n${apache}`;
}

function manifestEntry(model: PinnedModel, bytes: number, source: string): ManifestModel {
  return {
    file: model.file,
    sha256: model.sha256,
    bytes,
    source: { package: model.repo, version: model.commit, path: model.path, sha256: model.sha256, url: model.url, obtainedFrom: source },
    licence: model.licence,
    licenceFile: `${model.id}.LICENSE`,
    inputs: [{ name: 'input', shape: ['N', 3, 'H', 'W'], dtype: 'float32', layout: 'NCHW', range: [0, 255] }],
    outputs: [8, 16, 32].flatMap((s) => [
      { name: `cls_${s}`, shape: ['N', 'cells', 1] },
      { name: `obj_${s}`, shape: ['N', 'cells', 1] },
      { name: `bbox_${s}`, shape: ['N', 'cells', 4] },
      { name: `kps_${s}`, shape: ['N', 'cells', 10] },
    ]),
    notes: model.notes,
  };
}

/** Adds (or replaces) one entry of engines/manifest.json, atomically. */
function recordInManifest(enginesDir: string, id: string, entry: ManifestModel): void {
  const file = path.join(enginesDir, 'manifest.json');
  const m: Manifest = existsSync(file) ? readManifest(enginesDir) : { version: 1, models: {} };
  m.models = { ...m.models, [id]: entry };
  writeAtomic(file, JSON.stringify(m, null, 2) + '\n');
}

/** True when engines/ holds the model's file with the pinned sha256. */
export function pinnedPresent(model: PinnedModel, enginesDir: string): boolean {
  const f = path.join(enginesDir, model.file);
  return existsSync(f) && statSync(f).isFile() && fileSha(f) === model.sha256;
}

/** Gets `model` into `enginesDir` (see the file comment). Never throws for a source that fails. */
export async function obtainPinned(model: PinnedModel, enginesDir: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const dest = path.join(enginesDir, model.file);
  const finish = (status: 'present' | 'fetched', source: string): FetchResult => {
    const bytes = statSync(dest).size;
    writeAtomic(path.join(enginesDir, `${model.id}.LICENSE`), licenceText(model));
    recordInManifest(enginesDir, model.id, manifestEntry(model, bytes, source));
    return { id: model.id, status, file: dest, source, bytes, failures: [] };
  };
  if (pinnedPresent(model, enginesDir)) return finish('present', dest);
  const failures: FetchResult['failures'] = [];
  for (const src of sourcesFor(model, opts)) {
    const tmp = `${dest}.part-${process.pid}`;
    const where = src.kind === 'dir' ? path.join(src.where, model.sourceName) : src.where;
    try {
      if (src.kind === 'dir') {
        const inDir = [model.sourceName, model.file].map((n) => path.join(src.where, n)).find((f) => existsSync(f));
        if (!inDir) throw new Error(`no ${model.sourceName} there`);
        const bytes = statSync(inDir).size;
        if (bytes > model.maxBytes) throw new Error(`it is ${bytes} bytes, more than the ${model.maxBytes} expected at most`);
        const data = readFileSync(inDir);
        writeAtomic(tmp, data);
        await install(tmp, dest, { sha: sha256(data) }, model);
        return { ...finish('fetched', inDir), failures };
      }
      const got = await download(src.where, tmp, model, opts.idleMs ?? 15_000, opts.totalMs ?? 120_000);
      await install(tmp, dest, got, model);
      return { ...finish('fetched', src.where), failures };
    } catch (e) {
      rmSync(tmp, { force: true });
      failures.push({ source: where, error: (e as Error).message });
    }
  }
  return { id: model.id, status: 'unavailable', failures };
}

/** The one line `facegate models` prints about a pinned model. */
export function describeFetch(r: FetchResult, model: PinnedModel): string {
  const kb = (n = 0) => `${(n / 1024).toFixed(0)} kB`;
  if (r.status === 'present') return `${r.id}: already in ${path.dirname(r.file ?? '')} (sha256 verified)`;
  if (r.status === 'fetched') return `${r.id}: obtained from ${r.source} (${kb(r.bytes)}, sha256 verified, ${model.licence})`;
  const why = r.failures.map((f) => `${f.source}: ${f.error}`).join('; ');
  return (
    `${r.id}: not obtained (${why || 'no source'}); the detector is MTCNN. To add YuNet later, copy ${model.sourceName} ` +
    `(sha256 ${model.sha256.slice(0, 12)}…, from ${model.url}) into a folder and run \`facegate models --from <folder>\` or set ${MIRROR_ENV}.`
  );
}
