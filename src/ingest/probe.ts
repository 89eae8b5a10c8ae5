/** Is a camera's network source there? A TCP connect to its host and port, used while a restart waits. */
import net from 'node:net';

const PROBE_TIMEOUT_MS = 800;

/** Host and port to probe for a network source, or null (files, devices, unparsable URLs). */
export function probeTarget(url: string): { host: string; port: number } | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const defaults: Record<string, number> = { 'rtsp:': 554, 'rtsps:': 322, 'http:': 80, 'https:': 443 };
  const port = u.port ? Number(u.port) : defaults[u.protocol];
  if (!port || !u.hostname) return null;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
}

/** True when something accepts a TCP connection at host:port within the timeout. */
export function answers(target: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: target.host, port: target.port });
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
