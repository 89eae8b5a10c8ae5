import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envSettings, loadConfig, notifyEnv } from '../../src/config/load.js';
import { describeOptions } from '../../src/config/describe.js';
import { configCommand } from '../../src/cli/config.js';
import { FacegateError } from '../../src/util/errors.js';
import { repoRoot } from '../helpers/data.js';

const configDir = path.join(repoRoot, 'config');
const tmp = mkdtempSync(path.join(tmpdir(), 'facegate-config-'));
const write = (name: string, text: string) => {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
};
const noEnv = {};

async function runConfig(args: string[], json = false) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await configCommand.run({ values: { json }, positionals: args }, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('shipped config files', () => {
  it('config/default.yaml loads: no cameras, embedded broker, default dataDir', () => {
    const c = loadConfig(path.join(configDir, 'default.yaml'), noEnv);
    expect(c.cameras).toEqual([]);
    expect(c.mqtt.url).toBeUndefined();
    expect(c.dataDir).toBe('/var/lib/facegate');
    expect(c.engine.providers).toEqual(['cpu']);
  });

  it('config/example.yaml loads with every camera kind and paths resolved against config/', () => {
    const c = loadConfig(path.join(configDir, 'example.yaml'), noEnv);
    const urls = c.cameras.map((cam) => cam.url);
    expect(urls.some((u) => u.startsWith('rtsp://'))).toBe(true);
    expect(urls.some((u) => u.startsWith('http://'))).toBe(true);
    expect(urls).toContain('/dev/video0');
    expect(urls).toContain(path.join(configDir, 'videos/visitors.mp4'));
    expect(c.engine.detector.model).toBe(path.join(configDir, 'models/scrfd_2.5g_bnkps.onnx'));
    expect(c.engine.embedder.model).toBe(path.join(configDir, 'models/w600k_r50.onnx'));
    expect(c.mqtt.tls?.ca).toBe(path.join(configDir, 'certs/ca.pem'));
    expect(c.mqtt.tls?.key).toBe(path.join(configDir, 'certs/facegate.key'));
    expect(c.mqtt.homeAssistant.enabled).toBe(true);
  });
});

describe('loadConfig', () => {
  it('without a file gives the defaults', () => {
    const c = loadConfig(undefined, noEnv);
    expect(c.web.port).toBe(8080);
    expect(c.cameras).toEqual([]);
  });

  it('applies environment overrides over the file', () => {
    const file = write('env.yaml', 'mqtt:\n  url: mqtt://file-broker:1883\n  password: fromfile\nlog:\n  level: warn\n');
    const c = loadConfig(file, {
      FACEGATE_MQTT_URL: 'mqtts://env-broker:8883',
      FACEGATE_MQTT_USERNAME: 'envuser',
      FACEGATE_MQTT_PASSWORD: 'envpass',
      FACEGATE_ADMIN_PASSWORD_HASH: 'scrypt$abc',
      FACEGATE_DATA_DIR: '/srv/facegate-data',
      FACEGATE_LOG_LEVEL: 'debug',
    });
    expect(c.mqtt.url).toBe('mqtts://env-broker:8883');
    expect(c.mqtt.username).toBe('envuser');
    expect(c.mqtt.password).toBe('envpass');
    expect(c.web.passwordHash).toBe('scrypt$abc');
    expect(c.dataDir).toBe('/srv/facegate-data');
    expect(c.log.level).toBe('debug');
  });

  it('resolves a relative dataDir against the file folder', () => {
    const c = loadConfig(write('rel.yaml', 'dataDir: ./data\n'), noEnv);
    expect(c.dataDir).toBe(path.join(tmp, 'data'));
  });

  it('a bad environment value is reported like a bad file value', () => {
    expect(() => loadConfig(undefined, { FACEGATE_LOG_LEVEL: 'loud' })).toThrow(/log\.level: /);
  });

  it('lists every problem by path, one per line', () => {
    const file = write(
      'bad.yaml',
      [
        'cameras:',
        '  - name: ok',
        '    url: rtsp://a/b',
        '  - name: Bad Name',
        '    url: ftp://x',
        '    colour: red',
        'engine:',
        '  providers: [gpu]',
        '  detector:',
        '    kind: scrfd',
        'web:',
        '  port: 70000',
        'unknownTop: 1',
      ].join('\n'),
    );
    let err: unknown;
    try {
      loadConfig(file, noEnv);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).toBe('config');
    const lines = e.message.split('\n');
    expect(lines).toContain('cameras[1].url: expected rtsp://, http(s)://, file or /dev/video path');
    expect(lines).toContain('cameras[1].colour: unknown option');
    expect(lines).toContain('unknownTop: unknown option');
    expect(lines.some((l) => l.startsWith('cameras[1].name: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('engine.providers[0]: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('web.port: '))).toBe(true);
    expect(e.problems.length).toBe(6);
  });

  it('reports cross-field problems (model required, duplicate camera)', () => {
    const file = write('cross.yaml', 'cameras:\n  - {name: a, url: /dev/video0}\n  - {name: a, url: /dev/video1}\nengine:\n  embedder: {kind: arcface}\n');
    expect(() => loadConfig(file, noEnv)).toThrow(/cameras\[1\]\.name: duplicate camera name "a"[\s\S]*engine\.embedder\.model: required/);
  });

  it('reports YAML syntax errors with line and column', () => {
    const file = write('syntax.yaml', 'web:\n  port: 8080\n   host: x\n');
    expect(() => loadConfig(file, noEnv)).toThrow(/invalid YAML[\s\S]*line [23], column \d+: /);
    expect(() => loadConfig(write('list.yaml', '- a\n- b\n'), noEnv)).toThrow(FacegateError);
  });

  it('a missing file is a clear error', () => {
    expect(() => loadConfig(path.join(tmp, 'nope.yaml'), noEnv)).toThrow(/does not exist/);
  });
});

describe('facegate config', () => {
  it('check prints ok for a good file and the problems for a bad one', async () => {
    expect(await runConfig(['check', path.join(configDir, 'example.yaml')])).toMatchObject({ code: 0, out: 'ok' });
    const bad = await runConfig(['check', write('bad2.yaml', 'cameras:\n  - {name: a, url: nope}\n')]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('cameras[0].url: expected rtsp://, http(s)://, file or /dev/video path');
    const json = await runConfig(['check', write('bad3.yaml', 'web: {port: -1}\n')], true);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).problems).toEqual([expect.stringMatching(/^web\.port: /)]);
  });

  it('print masks secrets', async () => {
    const file = write(
      'secret.yaml',
      'mqtt:\n  url: mqtt://bob:hunter2@broker:1883\n  password: hunter2\nweb:\n  passwordHash: scrypt$deadbeef\ncameras:\n  - {name: c, url: "rtsp://cam:camsecret@host/s"}\n',
    );
    const r = await runConfig(['print', file]);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/hunter2|deadbeef|camsecret/);
    expect(r.out).toContain('mqtt://bob:********@broker:1883');
    const j = JSON.parse((await runConfig(['print', file], true)).out);
    expect(j.mqtt.password).toBe('********');
    expect(j.web.passwordHash).toBe('********');
  });

  it('schema lists every option with a description', async () => {
    const options = describeOptions();
    expect(options.filter((o) => !o.description).map((o) => o.path)).toEqual([]);
    const paths = options.map((o) => o.path);
    for (const p of ['dataDir', 'cameras[].url', 'engine.detector.kind', 'mqtt.tls.ca', 'mqtt.homeAssistant.enabled', 'web.passwordHash'])
      expect(paths).toContain(p);
    const r = await runConfig(['schema']);
    expect(r.out).toMatch(/^pipeline\.fps {2}<number \(> 0, <= 30\)> {2}default: 5$/m);
    expect(JSON.parse((await runConfig(['schema'], true)).out).type).toBe('object');
    const md = await configCommand.run({ values: { markdown: true }, positionals: ['schema'] }, { stdout: (l) => (r.out = l), stderr: () => {} });
    expect(md).toBe(0);
    const rows = r.out.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.length).toBe(options.length);
    expect(rows).toContain('| `mqtt.qos` | 0 \\| 1 \\| 2 | `1` | MQTT quality of service of published events. |');
  });
});

describe('process settings from the environment', () => {
  it('reads FACEGATE_MODEL_MIRROR and FACEGATE_DEBUG, empty meaning unset', () => {
    expect(envSettings({ FACEGATE_MODEL_MIRROR: '/srv/mirror', FACEGATE_DEBUG: '1' })).toEqual({ modelMirror: '/srv/mirror', debug: true });
    expect(envSettings({ FACEGATE_MODEL_MIRROR: '', FACEGATE_DEBUG: '' })).toEqual({ debug: false });
  });

  it('hands on only systemd notify variables and PATH', () => {
    expect(notifyEnv({ NOTIFY_SOCKET: '/run/n.sock', WATCHDOG_USEC: '5000000', PATH: '/bin', FACEGATE_MQTT_PASSWORD: 'secret', HOME: '/root' })).toEqual({
      NOTIFY_SOCKET: '/run/n.sock',
      WATCHDOG_USEC: '5000000',
      PATH: '/bin',
    });
  });
});
