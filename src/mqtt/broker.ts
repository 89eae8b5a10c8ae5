/** The embedded MQTT broker (aedes over TCP), used when no mqtt.url is configured. */
import net from 'node:net';
import { Aedes } from 'aedes';
import { FacegateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export interface EmbeddedBroker {
  /** mqtt://host:port, with the real port when 0 was asked for. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(opts: { host: string; port: number }, log?: Logger): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => (server.off('error', reject), resolve()));
    });
  } catch (e) {
    await new Promise<void>((r) => aedes.close(() => r()));
    const code = (e as NodeJS.ErrnoException).code;
    throw new FacegateError('mqtt_embedded_listen', `the embedded MQTT broker cannot listen on ${opts.host}:${opts.port} (${code ?? String(e)})`, { cause: e });
  }
  const port = (server.address() as net.AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const connectHost = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host === '::' ? '[::1]' : host;
  log?.info({ host: opts.host, port }, 'embedded MQTT broker listening');
  return {
    url: `mqtt://${connectHost}:${port}`,
    port,
    stop: async () => {
      await new Promise<void>((r) => aedes.close(() => r()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
