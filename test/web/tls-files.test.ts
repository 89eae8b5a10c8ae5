/** The admin page's self-signed certificate on a damaged or full disk: never a start-up failure. */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StorageHealth } from '../../src/store/storage-health.js';
import { loadCertificate } from '../../src/web/tls/self-signed.js';
import { mountSmallDisk, type SmallDisk } from '../helpers/tmpfs.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('self-signed certificate files', () => {
  it('a stored pair torn by a crash or a full disk is kept aside and made anew (reported once)', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'fg-tls-'));
    dirs.push(dataDir);
    const first = await loadCertificate({ dataDir, names: ['localhost'] });
    expect(first.created).toBe(true);
    expect((await loadCertificate({ dataDir, names: ['localhost'] })).fingerprint).toBe(first.fingerprint);
    const certPath = path.join(dataDir, 'tls', 'cert.pem');
    await writeFile(certPath, readFileSync(certPath, 'utf8').slice(0, 100));
    const repairs: string[] = [];
    const storage = { reportWriteFailure: () => {}, reportRepair: (_f: string, what: string) => repairs.push(what) };
    const again = await loadCertificate({ dataDir, names: ['localhost'], storage });
    expect(again.created).toBe(true);
    expect(again.fingerprint).not.toBe(first.fingerprint);
    expect(repairs).toEqual([expect.stringMatching(/^The stored self-signed certificate \(.*cert\.pem\) did not load .*kept aside.*a new one is made\.$/)]);
    expect(readdirSync(path.join(dataDir, 'tls')).filter((f) => f.includes('.corrupt-'))).toHaveLength(2);
    expect((await loadCertificate({ dataDir, names: ['localhost'] })).fingerprint).toBe(again.fingerprint);
  });
});

const disk = mountSmallDisk(1, 'the certificate on a full disk test');
describe.skipIf(!disk)('on a full disk (1 MiB tmpfs)', () => {
  const d = disk as SmallDisk;
  afterAll(() => d.unmount());

  it('a certificate the disk will not take is served from memory and reported, not a failed start', async () => {
    const dataDir = path.join(d.dir, 'data');
    await mkdir(dataDir);
    await d.fill();
    const storage = new StorageHealth({ probeMs: 600_000 });
    const cert = await loadCertificate({ dataDir, names: ['localhost'], storage });
    expect(cert.created).toBe(true);
    expect(cert.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(storage.state).toMatchObject({ ok: false, code: 'ENOSPC' });
    expect(readdirSync(path.join(dataDir, 'tls')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    storage.stop();
    await d.free();
  });
});
