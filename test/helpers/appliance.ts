/** `facegate run` as a real child process (dist/cli.js), with its JSON log lines collected for the test. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from './data.js';

export const cli = path.join(repoRoot, 'dist', 'cli.js');

export interface RunningAppliance {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  /** Parsed JSON log lines so far. */
  logs: () => Array<Record<string, unknown> & { msg?: string }>;
  /** Waits for a log line whose msg matches; rejects if the process exits first or after timeoutMs. */
  waitForLog: (msg: RegExp, timeoutMs: number) => Promise<Record<string, unknown>>;
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Writes `config` as YAML into `dir`/config.yaml and starts `facegate run --config` on it. */
export async function runAppliance(dir: string, config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<RunningAppliance> {
  const file = path.join(dir, 'config.yaml');
  await writeFile(file, stringify(config));
  const child = spawn(process.execPath, [cli, 'run', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NOTIFY_SOCKET: '', ...env },
  });
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    waiters.splice(0).forEach((w) => w());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => (r(code), waiters.splice(0).forEach((w) => w()))));
  const logs = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown> & { msg?: string }];
        } catch {
          return [];
        }
      });
  return {
    child,
    output: () => out,
    logs,
    waitForLog: (msg, timeoutMs) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no log line matching ${msg} after ${timeoutMs} ms:\n${out.slice(-3000)}`)), timeoutMs);
        const check = () => {
          const hit = logs().find((l) => typeof l.msg === 'string' && msg.test(l.msg));
          if (hit) return (clearTimeout(t), resolve(hit));
          if (child.exitCode !== null || child.signalCode !== null)
            return (
              clearTimeout(t),
              reject(new Error(`facegate run exited (${child.exitCode ?? child.signalCode}) before logging ${msg}:\n${out.slice(-3000)}`))
            );
          waiters.push(check);
        };
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
