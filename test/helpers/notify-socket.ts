/**
 * A real AF_UNIX datagram socket bound by the test, as systemd binds NOTIFY_SOCKET (Node cannot create one, so a
 * small python3 process binds it and prints one JSON line per datagram).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { locate } from './prereqs.mjs';

const LISTENER = `
import json, socket, sys
addr = sys.argv[1]
bind = '\\0' + addr[1:] if addr.startswith('@') else addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(bind)
print('ready', flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode('utf-8')), flush=True)
`;

export interface NotifySocket {
  proc: ChildProcessWithoutNullStreams;
  /** The next n datagrams (waits for them). */
  next: (n: number, timeoutMs?: number) => Promise<string[]>;
  /** Waits for a datagram that satisfies `pred`; returns it and every datagram before it. */
  until: (pred: (d: string) => boolean, timeoutMs: number) => Promise<string[]>;
  /** Everything received and not yet taken. */
  drain: () => string[];
  close: () => void;
}

/** Binds `addr` (a path, or "@name" for an abstract socket) and resolves once it is bound. */
export async function bindNotifySocket(addr: string): Promise<NotifySocket> {
  const proc = spawn(locate('python3')!, ['-c', LISTENER, addr]);
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: proc.stdout }).on('line', (l) => {
    lines.push(l);
    waiters.splice(0).forEach((w) => w());
  });
  const wait = (cond: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(lines)}`)), timeoutMs);
      const check = () => (cond() ? (clearTimeout(t), resolve()) : waiters.push(check));
      check();
    });
  await wait(() => lines.length >= 1, 5000, 'the socket to be bound');
  if (lines.shift() !== 'ready') throw new Error('notify socket listener did not start');
  const decoded = () => lines.map((l) => JSON.parse(l) as string);
  return {
    proc,
    next: async (n, timeoutMs = 5000) => {
      await wait(() => lines.length >= n, timeoutMs, `${n} datagrams`);
      return lines.splice(0, n).map((l) => JSON.parse(l) as string);
    },
    until: async (pred, timeoutMs) => {
      await wait(() => decoded().some(pred), timeoutMs, 'a matching datagram');
      const i = decoded().findIndex(pred);
      return lines.splice(0, i + 1).map((l) => JSON.parse(l) as string);
    },
    drain: () => lines.splice(0).map((l) => JSON.parse(l) as string),
    close: () => void proc.kill(),
  };
}
