/**
 * Cameras written to the config file from the page: comments and the other sections kept, the file replaced
 * atomically with the previous copy in <file>.bak, URL credentials moved to <dataDir>/camera-secrets.json (0600),
 * and refusals that name the path and the reason. CameraAdmin runs against a real file and a real CameraSet
 * (cameras pointing at nothing, so no stream is needed).
 */
import { mkdtemp, readFile, readdir, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editCameras } from '../../src/config/edit.js';
import { loadConfig } from '../../src/config/load.js';
import { maskConfig } from '../../src/config/mask.js';
import { CameraAdmin } from '../../src/app/camera-admin.js';
import { CameraSet } from '../../src/ingest/camera-set.js';
import { CameraSecrets } from '../../src/store/camera-secrets.js';
import { configCommand } from '../../src/cli/config.js';
import { FacegateError } from '../../src/util/errors.js';
import { captureLogger } from '../ingest/util.js';

const ORIGINAL = `# facegate at the front desk
dataDir: DATA # where the facebank lives

cameras:
  # the door, over the hall switch
  - name: door
    url: rtsp://127.0.0.1:9/door # main stream
    fps: 4
  - name: yard
    url: rtsp://127.0.0.1:9/yard

mqtt:
  url: mqtt://127.0.0.1:9 # the site broker
`;

let dir: string;
let file: string;
let dataDir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'facegate-camedit-'));
  dataDir = path.join(dir, 'data');
  file = path.join(dir, 'facegate.yaml');
  await writeFile(file, ORIGINAL.replace('DATA', dataDir));
  await import('node:fs/promises').then((fs) => fs.mkdir(dataDir));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('editCameras (yaml Document)', () => {
  it('changes one camera and keeps every comment and the other sections', () => {
    const { text, config } = editCameras(ORIGINAL, 'f.yaml', { replace: 'door', camera: { name: 'door', url: 'rtsp://127.0.0.1:9/door2', fps: 4 } });
    expect(text).toContain('# facegate at the front desk');
    expect(text).toContain('# the door, over the hall switch');
    expect(text).toContain('# where the facebank lives');
    expect(text).toContain('# the site broker');
    expect(text).toContain('url: rtsp://127.0.0.1:9/door2');
    expect(text).toContain('url: rtsp://127.0.0.1:9/yard');
    expect(config.cameras.map((c) => c.url)).toEqual(['rtsp://127.0.0.1:9/door2', 'rtsp://127.0.0.1:9/yard']);
  });

  it('adds to an empty file and removes again', () => {
    const added = editCameras('# only a comment\n', 'f.yaml', { replace: null, camera: { name: 'gate', url: 'rtsp://h/s', enabled: false } });
    expect(added.text).toContain('# only a comment');
    expect(added.config.cameras).toMatchObject([{ name: 'gate', enabled: false }]);
    const removed = editCameras(added.text, 'f.yaml', { replace: 'gate', camera: null });
    expect(removed.config.cameras).toEqual([]);
    expect(removed.text).toContain('# only a comment');
  });

  it('turns an empty `cameras: []` into a block list and keeps its comment', () => {
    const { text } = editCameras('cameras: [] # none yet\n', 'f.yaml', { replace: null, camera: { name: 'gate', url: 'rtsp://h/s' } });
    expect(text).toContain('# none yet');
    expect(text).toMatch(/cameras:.*\n\s+- name: gate\n\s+url: rtsp:\/\/h\/s/);
  });

  it('refuses what the schema refuses, naming the path and the reason', () => {
    const dup = () => editCameras(ORIGINAL, 'f.yaml', { replace: null, camera: { name: 'door', url: 'rtsp://h/x' } });
    expect(dup).toThrow(/cameras\[2\]\.name: duplicate camera name "door"/);
    const bad = () => editCameras(ORIGINAL, 'f.yaml', { replace: 'yard', camera: { name: 'yard', url: 'ftp://h/x' } });
    expect(bad).toThrow(/cameras\[1\]\.url: expected rtsp:\/\//);
    expect(() => editCameras('cameras: [\n', 'f.yaml', { replace: null, camera: { name: 'a', url: 'rtsp://h' } })).toThrow(/not valid YAML/);
  });
});

describe('CameraAdmin on a real config file', () => {
  const admin = async (configFile: string | null = file) => {
    const config = loadConfig(configFile ?? undefined, {});
    const secrets = new CameraSecrets(dataDir);
    await secrets.open();
    const { log, lines } = captureLogger();
    const set = new CameraSet({ defaultFps: 5, defaultWidth: 320, log });
    for (const cam of config.cameras) set.start(cam); // as the cameras unit does
    const ended: string[] = [];
    const a = new CameraAdmin({ file: configFile, config, set, secrets, endTracks: (c) => ended.push(c), log });
    return { a, set, config, ended, lines };
  };

  it('keeps URL credentials out of the file: placeholder in the file, secret in a 0600 file, masked everywhere shown', async () => {
    const { a, set, lines } = await admin();
    const [door, yard] = set.cameras;
    const before = (await stat(file)).ino;
    const saved = await a.save({ name: 'gate', url: 'rtsp://admin:s3cr%40t-pw@127.0.0.1:9/gate', fps: 2 }, null);
    expect(saved.url).toBe('rtsp://admin:********@127.0.0.1:9/gate');

    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('s3cr');
    expect(text).toContain('url: rtsp://{secret:gate}@127.0.0.1:9/gate');
    expect(text).toContain('# the door, over the hall switch');
    // Atomic: the file was replaced by a rename (a new inode), no temporary file is left, the old text is the backup.
    expect((await stat(file)).ino).not.toBe(before);
    expect((await readdir(dir)).sort()).toEqual(['data', 'facegate.yaml', 'facegate.yaml.bak']);
    expect(await readFile(`${file}.bak`, 'utf8')).toBe(ORIGINAL.replace('DATA', dataDir));

    const secretsFile = path.join(dataDir, 'camera-secrets.json');
    expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(secretsFile, 'utf8'))).toEqual({ gate: 'admin:s3cr%40t-pw' });

    // The running camera got the full URL; the log, the settings and `config print` never show the password.
    expect(set.cameras.map((c) => c.name)).toEqual(['door', 'yard', 'gate']);
    expect(set.cameras[0]).toBe(door); // the other cameras were not restarted
    expect(set.cameras[1]).toBe(yard);
    expect(a.settings().find((s) => s.name === 'gate')!.url).toBe('rtsp://admin:********@127.0.0.1:9/gate');
    expect(JSON.stringify(lines)).not.toContain('s3cr');
    const printed = JSON.stringify(maskConfig(loadConfig(file, {})));
    expect(printed).not.toContain('s3cr');
    const out: string[] = [];
    await configCommand.run({ values: {}, positionals: ['print', file] }, { stdout: (l) => out.push(l), stderr: () => {} });
    expect(out.join('\n')).toContain('{secret:gate}@127.0.0.1:9/gate');
    expect(out.join('\n')).not.toContain('s3cr');
    await set.stopAll();
  });

  it('a masked password keeps the stored one; a rename moves it; remove forgets it', async () => {
    const { a, set, ended } = await admin();
    await a.save({ name: 'gate', url: 'rtsp://admin:pw1@127.0.0.1:9/gate' }, null);
    await a.save({ name: 'gate2', url: 'rtsp://admin:********@127.0.0.1:9/gate', enabled: false }, 'gate');
    const secrets = JSON.parse(await readFile(path.join(dataDir, 'camera-secrets.json'), 'utf8'));
    expect(secrets).toEqual({ gate2: 'admin:pw1' });
    expect(ended).toEqual(['gate']);
    // Disabled: configured, not running; written as enabled: false.
    expect(set.cameras.map((c) => c.name)).toEqual(['door', 'yard']);
    expect(await readFile(file, 'utf8')).toMatch(/name: gate2\n\s+url: rtsp:\/\/\{secret:gate2\}@127\.0\.0\.1:9\/gate\n\s+enabled: false/);

    // A new user name with the password left masked: the new name, the stored password.
    await a.save({ name: 'gate2', url: 'rtsp://operator:********@127.0.0.1:9/gate' }, 'gate2');
    expect(JSON.parse(await readFile(path.join(dataDir, 'camera-secrets.json'), 'utf8'))).toEqual({ gate2: 'operator:pw1' });
    expect(ended).toEqual(['gate', 'gate2']);

    await a.remove('gate2');
    expect(JSON.parse(await readFile(path.join(dataDir, 'camera-secrets.json'), 'utf8'))).toEqual({});
    expect(loadConfig(file, {}).cameras.map((c) => c.name)).toEqual(['door', 'yard']);
    await set.stopAll();
  });

  it('refuses a change the schema refuses, and leaves the file, the backup and the cameras as they were', async () => {
    const { a, set } = await admin();
    const err = await a.save({ name: 'Bad Name', url: 'ftp://x' }, null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FacegateError);
    expect((err as FacegateError).code).toBe('config_refused');
    expect((err as Error).message).toMatch(/cameras\[2\]\.name: lower-case letters/);
    expect((err as Error).message).toMatch(/cameras\[2\]\.url: expected rtsp:\/\//);
    const dup = await a.save({ name: 'yard', url: 'rtsp://h/x' }, 'door').catch((e: unknown) => e);
    expect((dup as FacegateError).code).toBe('conflict');
    const noPw = await a.save({ name: 'door', url: 'rtsp://me:********@h/x' }, 'door').catch((e: unknown) => e);
    expect((noPw as Error).message).toMatch(/type the camera's password again/);
    expect(await readFile(file, 'utf8')).toBe(ORIGINAL.replace('DATA', dataDir));
    expect(await readdir(dir)).not.toContain('facegate.yaml.bak');
    expect(set.cameras.map((c) => c.name)).toEqual(['door', 'yard']);
    await set.stopAll();
  });

  it('says in one sentence why nothing can be saved without a writable config file', async () => {
    const defaults = await admin(null);
    expect(await defaults.a.source()).toMatchObject({ file: null, writable: false });
    const e1 = await defaults.a.save({ name: 'gate', url: 'rtsp://h/x' }, null).catch((e: unknown) => e);
    expect((e1 as FacegateError).code).toBe('config_not_writable');
    expect((e1 as Error).message).toMatch(/built-in defaults .*--config/);
    await defaults.set.stopAll();

    if (process.getuid?.() === 0) return; // root may write anyway
    await chmod(file, 0o444);
    const ro = await admin();
    const src = await ro.a.source();
    expect(src.writable).toBe(false);
    expect(src.reason).toMatch(/cannot be changed by the appliance \(EACCES on the file\)/);
    const e2 = await ro.a.remove('door').catch((e: unknown) => e);
    expect((e2 as FacegateError).code).toBe('config_not_writable');
    await ro.set.stopAll();
  });
});
