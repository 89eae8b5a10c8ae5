/** Starting the admin page: the auth store from config/env, and the HTTP server (@hono/node-server). */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { AuthStore } from '../store/auth.js';
import { createApp } from './app.js';
import type { AppDeps } from './ports.js';

/** The auth store; web.passwordHash or FACEGATE_ADMIN_PASSWORD_HASH, when set, is the admin password. */
export function openAuth(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<AuthStore> {
  const fixed = config.web.passwordHash ?? env.FACEGATE_ADMIN_PASSWORD_HASH ?? undefined;
  return AuthStore.open({ dataDir: config.dataDir, sessionHours: config.web.sessionHours, fixedPasswordHash: fixed || undefined });
}

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on web.host:web.port (port 0: any free port). */
export async function startWebServer(deps: AppDeps): Promise<WebServer> {
  const app = createApp(deps);
  const { host, port } = deps.config.web;
  const server: ServerType = serve({ fetch: app.fetch, hostname: host, port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const addr = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${addr.port}`;
  deps.log.info({ url }, 'admin page listening');
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
