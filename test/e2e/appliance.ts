/** Real `facegate` processes for the end-to-end tests: the CLI, `facegate run`, and a signed-in admin page client. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { dataPath, repoRoot } from '../helpers/data.js';

export const cli = path.join(repoRoot, 'dist', 'cli.js');
const exec = promisify(execFile);

export function requireBuild(): void {
  if (!existsSync(cli)) throw new Error('dist/cli.js was not built: run `npm run build` (npm test does)');
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

/** Runs the built CLI; the last stdout line is parsed as JSON when it is. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await exec(process.execPath, [cli, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, FACEGATE_LOG_LEVEL: 'error', ...env },
  }).then(
    (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let json: any = null;
  try {
    json = JSON.parse(last);
  } catch {
    /* not JSON */
  }
  return { ...r, json };
}

/** Nothing listens on this port: an appliance pointed at it runs with its broker away. */
export const NO_BROKER = 'mqtt://127.0.0.1:9';

export interface ApplianceConfigOptions {
  dataDir: string;
  /** The admin page's port on 127.0.0.1; without it the page is off. */
  port?: number;
  /** mqtt section (default: url NO_BROKER). */
  mqtt?: Record<string, unknown>;
  /** More web options (heavyJobs...). */
  web?: Record<string, unknown>;
  /** A `door` camera looping the short Hamilton clip. */
  camera?: boolean;
  /** Other top-level sections (sync...). */
  more?: Record<string, unknown>;
}

/** The e2e tests' appliance config as YAML: one data dir, a broker (away by default), the page on 127.0.0.1. */
export function applianceConfig(o: ApplianceConfigOptions): string {
  return stringify({
    dataDir: o.dataDir,
    ...(o.camera ? { cameras: [{ name: 'door', url: dataPath('video', 'hamilton', 'short_hamilton_clip.mp4'), loop: true }] } : {}),
    mqtt: { url: NO_BROKER, ...o.mqtt },
    web: o.port === undefined ? { enabled: false, ...o.web } : { host: '127.0.0.1', port: o.port, ...o.web },
    ...o.more,
  });
}

/** Writes applianceConfig(o) to `file` and returns the file. */
export async function writeApplianceConfig(file: string, o: ApplianceConfigOptions): Promise<string> {
  await writeFile(file, applianceConfig(o));
  return file;
}

/** `facegate run` as a child process, with its log collected. */
export class ApplianceProcess {
  child: ChildProcess | null = null;
  log = '';

  constructor(
    readonly configFile: string,
    readonly env: Record<string, string> = {},
  ) {}

  /** Starts it and resolves once its log contains `until` (default: fully started). */
  async start(until: string | RegExp = 'facegate running', timeoutMs = 120_000): Promise<void> {
    this.log = '';
    const child = spawn(process.execPath, [cli, 'run', '--config', this.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: '', ...this.env },
    });
    this.child = child;
    child.stderr!.on('data', (d) => (this.log += d));
    child.stdout!.on('data', (d) => (this.log += d));
    await this.waitForLog(until, timeoutMs);
  }

  async waitForLog(text: string | RegExp, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    const seen = () => (typeof text === 'string' ? this.log.includes(text) : text.test(this.log));
    while (!seen()) {
      if (this.child?.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`facegate run exited (${this.child?.exitCode ?? this.child?.signalCode}) before "${text}":\n${this.log}`);
      if (Date.now() > end) throw new Error(`no "${text}" in the log within ${timeoutMs} ms:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The latest one-time claim code an unclaimed appliance printed on stderr (at start, and after passwd --reset). */
  claimCode(): string {
    const m = [...this.log.matchAll(/^ {2}Claim code: (\S+)$/gm)].at(-1);
    if (!m) throw new Error(`no claim code in the output:\n${this.log}`);
    return m[1]!;
  }

  /** Sends `signal` and resolves with the exit code (or the signal's name). */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? child?.signalCode ?? 0);
    return new Promise((resolve) => {
      child.once('exit', (code, sig) => resolve(code ?? sig ?? -1));
      child.kill(signal);
    });
  }
}

/** The admin page's API as a signed-in browser uses it (session cookie, CSRF header, same origin). */
export class AdminClient {
  private cookie = '';
  private csrf = '';

  constructor(readonly base: string) {}

  /** Claims the appliance with the code from its log and sets the admin password. */
  async setup(password: string, claimCode: string): Promise<void> {
    const res = await fetch(`${this.base}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: this.base },
      body: JSON.stringify({ password, claimCode }),
    });
    if (!res.ok) throw new Error(`setup: ${res.status} ${await res.text()}`);
    this.cookie = /^(fg_session=[^;]*)/.exec(res.headers.get('set-cookie') ?? '')![1]!;
    this.csrf = ((await res.json()) as { csrfToken: string }).csrfToken;
  }

  async req(method: string, p: string, body?: BodyInit | object): Promise<Response> {
    const headers: Record<string, string> = { cookie: this.cookie, origin: this.base, 'x-csrf-token': this.csrf };
    let b: BodyInit | undefined;
    if (body instanceof FormData) b = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      b = JSON.stringify(body);
    }
    return fetch(this.base + p, { method, headers, body: b });
  }

  /** Uploads photos to a person as the page's "add photos" does. */
  /** Uploads photos to a person; `force` adds a face even when it looks more like someone else enrolled. */
  async upload(personId: string, files: string[], opts: { force?: boolean } = {}): Promise<Response> {
    const form = new FormData();
    for (const f of files) form.append('photos', new Blob([await readFile(f)]), path.basename(f));
    return this.req('POST', `/api/people/${personId}/photos${opts.force ? '?force=1' : ''}`, form);
  }
}
