import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IDENTITY_FILE, loadIdentity, sanitizeId } from '../../src/store/identity.js';
import { captureLogger } from '../ingest/util.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A data directory and a machine-id file of our own (the real /etc/machine-id is the same for every test). */
async function machine(id = 'a1b2c3d4e5f60718293a4b5c6d7e8f90') {
  const root = await mkdtemp(path.join(os.tmpdir(), 'facegate-identity-'));
  dirs.push(root);
  const machineId = path.join(root, 'machine-id');
  await writeFile(machineId, `${id}\n`);
  const dataDir = path.join(root, 'data');
  await mkdir(dataDir);
  return { root, dataDir, machineId };
}

const ID_CHARS = /^[a-zA-Z0-9_-]+$/;

describe('appliance identity', () => {
  it('is made once, readable and topic-safe, and kept across starts', async () => {
    const m = await machine();
    const { log, lines } = captureLogger();
    const first = await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [m.machineId], hostname: 'Jetson.Lab 3', log });
    expect(first.origin).toBe('created');
    expect(first.id).toMatch(/^jetson-lab-3-[0-9a-f]{6}$/);
    expect(first.id).toMatch(ID_CHARS);
    expect(lines.some((l) => l.msg === 'appliance id created')).toBe(true);
    const again = await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [m.machineId], hostname: 'Jetson.Lab 3' });
    expect(again).toEqual({ id: first.id, origin: 'kept', previous: null });
    const file = JSON.parse(await readFile(path.join(m.dataDir, IDENTITY_FILE), 'utf8'));
    expect(file.id).toBe(first.id);
    expect(JSON.stringify(file)).not.toContain('a1b2c3d4'); // only a hash of the machine id is kept
  });

  it('two boxes installed from one image (same host name) get different ids', async () => {
    const a = await machine('11111111111111111111111111111111');
    const b = await machine('22222222222222222222222222222222');
    const ia = await loadIdentity({ dataDir: a.dataDir, machineIdFiles: [a.machineId], hostname: 'jetson' });
    const ib = await loadIdentity({ dataDir: b.dataDir, machineIdFiles: [b.machineId], hostname: 'jetson' });
    expect(ia.id).not.toBe(ib.id);
  });

  it('a data directory cloned to another machine takes a new id, and says why', async () => {
    const m = await machine('11111111111111111111111111111111');
    const original = await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [m.machineId], hostname: 'jetson' });
    // The same SD card image boots on another board: another machine id, same files.
    await writeFile(m.machineId, '99999999999999999999999999999999\n');
    const { log, lines } = captureLogger();
    const clone = await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [m.machineId], hostname: 'jetson', log });
    expect(clone.origin).toBe('cloned');
    expect(clone.previous).toBe(original.id);
    expect(clone.id).not.toBe(original.id);
    const warning = lines.find((l) => l.level === 40);
    expect(warning?.msg).toMatch(/looks copied from another machine/);
    expect(warning).toMatchObject({ previous: original.id, id: clone.id });
    // The new id is kept from then on.
    expect((await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [m.machineId], hostname: 'jetson' })).id).toBe(clone.id);
  });

  it('a data directory copied to a second folder on the same host (a second appliance) takes a new id', async () => {
    const m = await machine();
    const original = await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [m.machineId], hostname: 'box' });
    const second = path.join(m.root, 'data-2');
    await cp(m.dataDir, second, { recursive: true });
    const copy = await loadIdentity({ dataDir: second, machineIdFiles: [m.machineId], hostname: 'box' });
    expect(copy.origin).toBe('cloned');
    expect(copy.id).not.toBe(original.id);
    expect((await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [m.machineId], hostname: 'box' })).id).toBe(original.id);
  });

  it('without a machine id it falls back to the host name; an unreadable file is replaced with a warning', async () => {
    const m = await machine();
    const none = path.join(m.root, 'no-such-machine-id');
    const first = await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [none], hostname: 'box' });
    expect((await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [none], hostname: 'box' })).id).toBe(first.id);
    expect((await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [none], hostname: 'other' })).origin).toBe('cloned');

    await writeFile(path.join(m.dataDir, IDENTITY_FILE), '{"id": "has a space"');
    const { log, lines } = captureLogger();
    const fresh = await loadIdentity({ dataDir: m.dataDir, machineIdFiles: [none], hostname: 'box', log });
    expect(fresh.origin).toBe('unreadable');
    expect(fresh.id).toMatch(ID_CHARS);
    expect(lines.some((l) => l.level === 40 && String(l.msg).includes('unreadable'))).toBe(true);
  });

  it('sanitizeId keeps only [a-zA-Z0-9_-]', () => {
    expect(sanitizeId('facegate.lab/1 +#')).toBe('facegate_lab_1___');
  });
});
