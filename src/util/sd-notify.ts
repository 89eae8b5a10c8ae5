/**
 * systemd notify protocol (sd_notify(3)) without a native module.
 *
 * Node cannot open AF_UNIX datagram sockets, so one long-lived helper process does the sending:
 * `python3` (found on PATH) reads one JSON-encoded message per stdin line, sends it as one datagram to
 * NOTIFY_SOCKET (a path, or "@name" for an abstract socket) and answers "ok" or "error <reason>".
 * Why a resident helper rather than one `systemd-notify` per message: no process spawn per watchdog
 * ping, and the sender is still alive when systemd reads the datagram, so systemd can always attribute
 * it to the service (a short-lived sender that already exited can be dropped). Where python3 is
 * missing, `systemd-notify` is spawned per message as a fallback. The sender is a child process,
 * hence the unit needs NotifyAccess=all (NotifyAccess=main would drop every message).
 * With NOTIFY_SOCKET unset every call is a silent no-op. NOTIFY_SOCKET, WATCHDOG_USEC/WATCHDOG_PID (systemd's
 * protocol, not facegate settings) and PATH come in as `env` from the caller: src/config/load.ts reads them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { which } from './which.js';

const HELPER = `
import json, os, socket, sys
addr = sys.argv[1]
if addr.startswith('@'):
    addr = '\\0' + addr[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for line in sys.stdin:
    try:
        sock.sendto(json.loads(line).encode('utf-8'), addr)
        sys.stdout.write('ok\\n')
    except Exception as e:
        sys.stdout.write('error ' + str(e).replace('\\n', ' ') + '\\n')
    sys.stdout.flush()
`;

export type NotifyMechanism = 'python3' | 'systemd-notify' | 'none';

export interface WatchdogInfo {
  /** Microseconds systemd waits between pings before it kills the service. */
  usec: number;
  /** How often to ping: half the timeout, as sd_watchdog_enabled(3) advises. */
  intervalMs: number;
}

/** The variables of systemd's notify protocol, and PATH to find a sender on. */
export interface NotifyEnv {
  NOTIFY_SOCKET?: string;
  WATCHDOG_USEC?: string;
  WATCHDOG_PID?: string;
  PATH?: string;
}

/** The watchdog timeout from WATCHDOG_USEC, if it is meant for this process (WATCHDOG_PID unset or ours). */
export function watchdogInfo(env: NotifyEnv, pid = process.pid): WatchdogInfo | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return { usec, intervalMs: Math.max(1, Math.floor(usec / 2000)) };
}

/** One line per KEY=VALUE; values may not contain newlines (STATUS text is flattened). */
const clean = (v: string) => v.replace(/[\r\n]+/g, ' ');

export interface SdNotifierOptions {
  /** systemd's variables (see notifyEnv in src/config/load.ts); without NOTIFY_SOCKET every call is a no-op. */
  env: NotifyEnv;
  /** Which sender to use; default: python3 when present, else systemd-notify. */
  mechanism?: NotifyMechanism;
  /** Told when a message could not be sent (never thrown: notify failures must not stop the service). */
  onError?: (message: string) => void;
}

export class SdNotifier {
  readonly socket: string | null;
  readonly mechanism: NotifyMechanism;
  private helper: ChildProcessWithoutNullStreams | null = null;
  private pending: Array<(answer: string) => void> = [];
  private watchdogTimer: NodeJS.Timeout | null = null;
  private readonly env: NotifyEnv;
  private readonly onError: (message: string) => void;
  /** Paths of the senders found on PATH, looked up once. */
  private readonly senders: { python3: string | null; 'systemd-notify': string | null };

  constructor(options: SdNotifierOptions) {
    this.env = options.env;
    this.onError = options.onError ?? (() => {});
    const sock = this.env.NOTIFY_SOCKET;
    // Only filesystem paths and abstract names are supported (not vsock:).
    this.socket = sock && (sock.startsWith('/') || sock.startsWith('@')) ? sock : null;
    if (sock && !this.socket) this.onError(`NOTIFY_SOCKET "${sock}" is not a path or abstract socket; notifications are off`);
    this.senders = this.socket
      ? { python3: which('python3', this.env.PATH), 'systemd-notify': which('systemd-notify', this.env.PATH) }
      : { python3: null, 'systemd-notify': null };
    this.mechanism = !this.socket
      ? 'none'
      : (options.mechanism ?? (this.senders.python3 ? 'python3' : this.senders['systemd-notify'] ? 'systemd-notify' : 'none'));
    if (this.socket && this.mechanism === 'none') this.onError('neither python3 nor systemd-notify is on the PATH; systemd notifications are off');
  }

  get enabled(): boolean {
    return this.mechanism !== 'none';
  }

  /** Sends raw KEY=VALUE lines as one datagram. Resolves true once sent, false on failure or when disabled. */
  async notify(...assignments: string[]): Promise<boolean> {
    if (!this.enabled || assignments.length === 0) return false;
    const message = assignments.map(clean).join('\n');
    return this.mechanism === 'python3' ? this.sendViaHelper(message) : this.sendViaSystemdNotify(assignments.map(clean));
  }

  ready(status?: string): Promise<boolean> {
    return status === undefined ? this.notify('READY=1') : this.notify('READY=1', `STATUS=${status}`);
  }

  status(text: string): Promise<boolean> {
    return this.notify(`STATUS=${text}`);
  }

  stopping(status?: string): Promise<boolean> {
    return status === undefined ? this.notify('STOPPING=1') : this.notify('STOPPING=1', `STATUS=${status}`);
  }

  watchdog(): Promise<boolean> {
    return this.notify('WATCHDOG=1');
  }

  /**
   * Pings WATCHDOG=1 every half watchdog period while `healthy()` says so (a stuck pipeline then gets
   * the service restarted). Returns the period used, or null when systemd asked for no watchdog.
   */
  startWatchdog(healthy: () => boolean = () => true): WatchdogInfo | null {
    const info = watchdogInfo(this.env);
    if (!info || !this.enabled) return null;
    this.stopWatchdog();
    this.watchdogTimer = setInterval(() => {
      if (healthy()) void this.watchdog();
    }, info.intervalMs);
    this.watchdogTimer.unref();
    return info;
  }

  stopWatchdog(): void {
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watchdogTimer = null;
  }

  /** Stops the watchdog and the helper process. */
  async close(): Promise<void> {
    this.stopWatchdog();
    const h = this.helper;
    this.helper = null;
    if (!h) return;
    await new Promise<void>((resolve) => {
      h.once('exit', () => resolve());
      h.stdin.end();
      setTimeout(() => h.kill(), 1000).unref();
    });
  }

  private startHelper(): ChildProcessWithoutNullStreams {
    const h = spawn(this.senders.python3 ?? 'python3', ['-u', '-c', HELPER, this.socket!], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    h.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    createInterface({ input: h.stdout }).on('line', (line) => this.pending.shift()?.(line));
    const fail = (why: string) => {
      if (this.helper === h) this.helper = null;
      const waiting = this.pending;
      this.pending = [];
      for (const w of waiting) w(`error ${why}`);
    };
    h.on('error', (e) => fail(e.message));
    h.on('exit', (code) => fail(`notify helper exited (${code}) ${stderr.trim()}`));
    h.stdin.on('error', () => {});
    this.idle(h);
    return h;
  }

  /** The helper must not keep the process alive when nothing is waiting for it. */
  private idle(h: ChildProcessWithoutNullStreams): void {
    h.unref();
    for (const s of [h.stdin, h.stdout, h.stderr] as unknown as Array<{ unref?: () => void }>) s.unref?.();
  }

  private busy(h: ChildProcessWithoutNullStreams): void {
    h.ref();
    for (const s of [h.stdin, h.stdout, h.stderr] as unknown as Array<{ ref?: () => void }>) s.ref?.();
  }

  private sendViaHelper(message: string): Promise<boolean> {
    const h = (this.helper ??= this.startHelper());
    this.busy(h);
    return new Promise<boolean>((resolve) => {
      this.pending.push((answer) => {
        if (this.pending.length === 0 && this.helper === h) this.idle(h);
        if (answer === 'ok') return resolve(true);
        this.onError(`sd_notify failed: ${answer.replace(/^error /, '')}`);
        resolve(false);
      });
      h.stdin.write(JSON.stringify(message) + '\n');
    });
  }

  private sendViaSystemdNotify(assignments: string[]): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const env = { NOTIFY_SOCKET: this.socket!, ...(this.env.PATH ? { PATH: this.env.PATH } : {}) };
      const child = spawn(this.senders['systemd-notify'] ?? 'systemd-notify', assignments, { stdio: ['ignore', 'ignore', 'pipe'], env });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (e) => {
        this.onError(`systemd-notify failed: ${e.message}`);
        resolve(false);
      });
      child.on('exit', (code) => {
        if (code !== 0) this.onError(`systemd-notify failed (${code}): ${stderr.trim()}`);
        resolve(code === 0);
      });
    });
  }
}
