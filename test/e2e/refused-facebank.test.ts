/**
 * `facegate run` on a facebank that breaks the schema: it does not start (the facebank is the asset), says which
 * file, record and field, and how to recover; the file is left as it was.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, requireBuild, writeApplianceConfig } from './appliance.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function run(config: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: '' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('facegate run with a facebank that breaks the schema', { timeout: 120_000 }, () => {
  it('does not start, names the file, the record and the field, and says how to recover', async () => {
    requireBuild();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fg-refused-'));
    dirs.push(dir);
    const dataDir = path.join(dir, 'data');
    await mkdir(dataDir);
    const quality = { size: 112, score: 0.99, blur: 120, yaw: 0, pitch: 0, roll: 0 };
    const text = JSON.stringify({
      version: 1,
      people: [{ id: 'p1', name: 'Ada', created: '2026-01-01T00:00:00.000Z', notes: '' }],
      samples: [
        { id: 's1', personId: 'p1', embedding: 'not numbers', modelId: 'm', quality, source: 'cli', created: '2026-01-01T00:00:00.000Z', negative: false },
      ],
    });
    await writeFile(path.join(dataDir, 'facebank.json'), text);
    const { code, out } = await run(await writeApplianceConfig(path.join(dir, 'config.yaml'), { dataDir }));
    expect(code).not.toBe(0);
    expect(out).not.toContain('facegate running');
    expect(out).toContain(`The facebank ${path.join(dataDir, 'facebank.json')} is refused`);
    expect(out).toMatch(/samples\[0\]\.embedding/);
    expect(out).toMatch(/restore a backup .* or move .* aside/);
    expect(await readFile(path.join(dataDir, 'facebank.json'), 'utf8')).toBe(text);
  });
});
