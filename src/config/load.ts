/**
 * Reads a YAML config file, applies environment overrides, resolves relative paths against the file's
 * folder and validates it against the schema. Every problem is reported at once, one per line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { FacegateError } from '../util/errors.js';
import { configSchema, type Config } from './schema.js';
import { formatIssues } from './issues.js';

type Env = Record<string, string | undefined>;

/** A config that does not validate: `problems` holds one `path: message` line per problem. */
export class ConfigError extends FacegateError {
  constructor(
    readonly problems: string[],
    source: string,
  ) {
    super('config', `${source} is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.join('\n')}`);
  }
}
type Raw = Record<string, unknown>;

/** Environment variables that override the file (secrets and a few operational values). */
export const ENV_OVERRIDES: ReadonlyArray<{ name: string; path: readonly string[] }> = [
  { name: 'FACEGATE_MQTT_URL', path: ['mqtt', 'url'] },
  { name: 'FACEGATE_MQTT_USERNAME', path: ['mqtt', 'username'] },
  { name: 'FACEGATE_MQTT_PASSWORD', path: ['mqtt', 'password'] },
  { name: 'FACEGATE_ADMIN_PASSWORD_HASH', path: ['web', 'passwordHash'] },
  { name: 'FACEGATE_DATA_DIR', path: ['dataDir'] },
  { name: 'FACEGATE_LOG_LEVEL', path: ['log', 'level'] },
  { name: 'FACEGATE_SYNC_KEY', path: ['sync', 'key'] },
];

/**
 * FACEGATE_* variables that are settings of one process rather than config options. With ENV_OVERRIDES this is
 * every FACEGATE_* variable facegate reads; nothing else in src/ reads the environment (eslint checks it).
 */
export const ENV_SETTINGS = {
  /** A folder or http(s) URL `facegate models` tries before the pinned URLs. */
  modelMirror: 'FACEGATE_MODEL_MIRROR',
  /** Any non-empty value: an unexpected CLI error prints its stack trace. */
  debug: 'FACEGATE_DEBUG',
} as const;

export interface EnvSettings {
  modelMirror?: string;
  debug: boolean;
}

/** The process settings from the environment (empty variables count as unset). */
export function envSettings(env: Env = process.env): EnvSettings {
  const mirror = env[ENV_SETTINGS.modelMirror];
  return { ...(mirror ? { modelMirror: mirror } : {}), debug: Boolean(env[ENV_SETTINGS.debug]) };
}

/**
 * systemd's notify protocol (sd_notify(3): NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID) and the PATH its sender is
 * found on. They belong to systemd, not to facegate's config, and are read here only so that the environment is
 * read in one place; src/util/sd-notify.ts is handed them.
 */
export function notifyEnv(env: Env = process.env): { NOTIFY_SOCKET?: string; WATCHDOG_USEC?: string; WATCHDOG_PID?: string; PATH?: string } {
  const pick = (k: string) => (env[k] ? { [k]: env[k] } : {});
  return { ...pick('NOTIFY_SOCKET'), ...pick('WATCHDOG_USEC'), ...pick('WATCHDOG_PID'), ...pick('PATH') };
}

/** Parses YAML text into a plain object; syntax errors name line and column. */
export function parseYaml(text: string, source = 'config'): Raw {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return `line ${pos.line}, column ${pos.col}: ${e.message.split('\n')[0]}`;
    });
    throw new FacegateError('config', `invalid YAML in ${source}:\n${lines.join('\n')}`);
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new FacegateError('config', `${source}: the top level must be a mapping of options (got ${Array.isArray(value) ? 'a list' : typeof value})`);
  }
  return value as Raw;
}

function setPath(obj: Raw, keys: readonly string[], value: unknown): void {
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Raw;
  }
  cur[keys[keys.length - 1]!] = value;
}

/** Copies the environment overrides into a raw (unvalidated) config; empty variables are ignored. */
export function applyEnv(raw: Raw, env: Env): Raw {
  const out = structuredClone(raw);
  for (const o of ENV_OVERRIDES) {
    const v = env[o.name];
    if (v !== undefined && v !== '') setPath(out, o.path, v);
  }
  return out;
}

const abs = (base: string, p: string | undefined): string | undefined => (p === undefined || path.isAbsolute(p) ? p : path.resolve(base, p));

/** Resolves model files, TLS files, relative camera files and dataDir against `base`. */
export function resolvePaths(config: Config, base: string, dataDirBase = base): Config {
  const c = structuredClone(config);
  c.dataDir = abs(dataDirBase, c.dataDir)!;
  c.engine.detector.model = abs(base, c.engine.detector.model);
  c.engine.embedder.model = abs(base, c.engine.embedder.model);
  if (c.mqtt.tls) {
    c.mqtt.tls.ca = abs(base, c.mqtt.tls.ca);
    c.mqtt.tls.cert = abs(base, c.mqtt.tls.cert);
    c.mqtt.tls.key = abs(base, c.mqtt.tls.key);
  }
  for (const cam of c.cameras) if (cam.url.startsWith('./') || cam.url.startsWith('../')) cam.url = path.resolve(base, cam.url);
  return c;
}

/** Validates a raw object; throws one FacegateError('config') listing every problem by path. */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const r = configSchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(formatIssues(r.error.issues), source);
  }
  return r.data;
}

/**
 * Loads `file` (or only the defaults when no file is given), then the environment overrides.
 * Relative paths resolve against the file's folder (the working folder without a file);
 * FACEGATE_DATA_DIR, when relative, resolves against the working folder.
 */
export function loadConfig(file?: string, env: Env = process.env): Config {
  let raw: Raw = {};
  let base = process.cwd();
  const source = file ?? 'defaults';
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new FacegateError('config', code === 'ENOENT' ? `config file ${file} does not exist` : `cannot read config file ${file}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    raw = parseYaml(text, file);
    base = path.dirname(path.resolve(file));
  }
  const envDataDir = env.FACEGATE_DATA_DIR;
  const config = validateConfig(applyEnv(raw, env), source);
  return resolvePaths(config, base, envDataDir ? process.cwd() : base);
}
