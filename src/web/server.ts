/**
 * Starting the admin page: the auth store from the config, and the server on web.host:web.port. With HTTPS
 * (the default off loopback) one port speaks both: TLS connections reach the app, plain HTTP only redirects
 * (except the probes, and requests from a trusted reverse proxy, which are served).
 */
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import http from 'node:http';
import https from 'node:https';
import net, { isIP, type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import type { Config, WebConfig } from '../config/schema.js';
import { AuthStore, type AuthOptions } from '../store/auth.js';
import { createApp } from './app.js';
import { hostCheck, ownNames, proxyList } from './origin.js';
import type { AppDeps } from './ports.js';
import { loadCertificate } from './tls/self-signed.js';
import { claimNoticeText, noticeToStderr, pageUrls } from './claim-notice.js';

/** The auth store; web.passwordHash (FACEGATE_ADMIN_PASSWORD_HASH overrides it in src/config/load.ts), when set, is the admin password. */
export function openAuth(config: Pick<Config, 'dataDir' | 'web'>, storage?: AuthOptions['storage']): Promise<AuthStore> {
  return AuthStore.open({ dataDir: config.dataDir, sessionHours: config.web.sessionHours, fixedPasswordHash: config.web.passwordHash || undefined, storage });
}

export interface WebServer {
  url: string;
  /** Every URL the page answers on (one per interface address when bound to all of them). */
  urls: string[];
  port: number;
  /** SHA-256 fingerprint of the certificate served; null without HTTPS. */
  fingerprint: string | null;
  /** base64 SHA-256 of the certificate's public key (for pinning); null without HTTPS. */
  spkiHash: string | null;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;
/** Paths plain HTTP still serves: public probes a monitor may poll without TLS. */
const PLAIN_OK = new Set(['/healthz', '/readyz', '/metrics']);

export const httpsOn = (web: Pick<WebConfig, 'https' | 'host'>) => (web.https === 'auto' ? !LOOPBACK.test(web.host) : web.https === 'on');

/** Names and addresses the self-signed certificate is made for. */
function certificateNames(web: WebConfig): string[] {
  const ips = Object.values(os.networkInterfaces())
    .flat()
    .map((i) => i?.address ?? '')
    .filter((a) => a && isIP(a) && !a.includes('%') && !a.startsWith('fe80'));
  const names = [...ownNames(), ...web.allowedHosts.filter((h) => !h.startsWith('.') && !isIP(h)), ...ips, '127.0.0.1', '::1'];
  if (isIP(web.host) && web.host !== '0.0.0.0' && web.host !== '::') names.push(web.host);
  return [...new Set(names.map((n) => n.toLowerCase()))].filter((n) => isIP(n) || /^[a-z0-9.-]+$/.test(n));
}

/**
 * Listens on web.host:web.port (port 0: any free port). `before`: routes served ahead of the app (the probes).
 * While the appliance is unclaimed, the claim code is printed on stderr (claim-notice.ts) so the owner can set the password.
 */
export async function startWebServer(deps: AppDeps, opts: { before?: Hono; notice?: (text: string) => void } = {}): Promise<WebServer> {
  const { web } = deps.config;
  const root = new Hono();
  if (opts.before) root.route('/', opts.before);
  root.route('/', createApp(deps));
  const listener = getRequestListener(root.fetch);
  const tls = httpsOn(web);
  const sockets = new Set<Socket>();
  let servers: net.Server[];
  let front: net.Server;
  let fingerprint: string | null = null;
  let spkiHash: string | null = null;

  if (!tls) {
    front = http.createServer((req, res) => void listener(req, res));
    servers = [front];
  } else {
    const cert = await loadCertificate({
      dataDir: deps.config.dataDir,
      certFile: web.certFile,
      keyFile: web.keyFile,
      names: certificateNames(web),
      storage: deps.storage,
    });
    fingerprint = cert.fingerprint;
    spkiHash = cert.spkiHash;
    deps.log.info(
      { fingerprint: cert.fingerprint, file: cert.source, created: cert.created },
      cert.created ? 'made a self-signed certificate for the admin page' : 'admin page certificate',
    );
    const secure = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => void listener(req, res));
    const hostOk = hostCheck(web.allowedHosts);
    const trusted = proxyList(web.trustedProxies);
    const plain = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (PLAIN_OK.has(path) || (web.trustProxy && trusted(req.socket.remoteAddress ?? ''))) return void listener(req, res);
      if (!hostOk(req.headers.host)) {
        res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8' }).end('This appliance does not answer to that name.');
        return;
      }
      res.writeHead(308, { Location: `https://${req.headers.host}${req.url ?? '/'}`, 'Content-Type': 'text/plain; charset=utf-8' }).end('Use HTTPS.');
    });
    // One port, two protocols: a TLS handshake starts with byte 0x16, HTTP with a letter.
    front = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.setTimeout(10_000, () => socket.destroy());
      socket.once('data', (first) => {
        socket.setTimeout(0);
        socket.pause();
        socket.unshift(first);
        (first[0] === 0x16 ? secure : plain).emit('connection', socket);
        process.nextTick(() => socket.resume());
      });
    });
    servers = [front, secure, plain];
  }
  front.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    front.once('listening', resolve);
    front.once('error', reject);
    front.listen(web.port, web.host);
  });
  const addr = front.address() as AddressInfo;
  const shown = web.host === '0.0.0.0' || web.host === '::' ? 'localhost' : web.host;
  const url = `${tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${addr.port}`;
  const urls = pageUrls(web.host, addr.port, tls);
  deps.log.info({ url, urls }, 'admin page listening');
  const claimCode = deps.auth.pendingClaimCode();
  if (claimCode) {
    // The code goes to stderr as plain lines, whatever the log level; the log only says where it is.
    (opts.notice ?? noticeToStderr)(claimNoticeText({ claimCode, urls, fingerprint }));
    deps.log.warn({ urls }, 'admin page not set up yet: its one-time claim code is printed on standard error (and shown by `facegate status`)');
  }
  return {
    url,
    urls,
    port: addr.port,
    fingerprint,
    spkiHash,
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        for (const s of servers) if (s instanceof http.Server) s.closeIdleConnections();
        for (const s of sockets) s.destroy();
      }),
  };
}
