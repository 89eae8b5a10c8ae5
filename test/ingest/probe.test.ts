import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { answers, probeTarget } from '../../src/ingest/probe.js';
import { freePort } from '../helpers/ports.js';

describe('camera source probe', () => {
  it('finds the host and port of network sources, with the scheme default port', () => {
    expect(probeTarget('rtsp://admin:pw@10.0.0.5/stream1')).toEqual({ host: '10.0.0.5', port: 554 });
    expect(probeTarget('rtsp://cam.local:8554/live')).toEqual({ host: 'cam.local', port: 8554 });
    expect(probeTarget('http://[fe80::1]/mjpg')).toEqual({ host: 'fe80::1', port: 80 });
    expect(probeTarget('https://cam/x.m3u8')).toEqual({ host: 'cam', port: 443 });
    expect(probeTarget('/var/video/door.mp4')).toBeNull();
  });

  it('answers true while something listens, false once it is gone', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    expect(await answers({ host: '127.0.0.1', port })).toBe(true);
    await new Promise((r) => server.close(r));
    expect(await answers({ host: '127.0.0.1', port })).toBe(false);
    expect(await answers({ host: '127.0.0.1', port: await freePort() })).toBe(false);
  });
});
