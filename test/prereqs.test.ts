/** Strict mode: the prerequisite finder fails a CI run with the package to install, and announces a local skip. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findAll, isStrict } from './helpers/prereqs.mjs';
import { repoRoot } from './helpers/data.js';

const mod = path.join(repoRoot, 'test', 'helpers', 'prereqs.mjs');
const run = (args: string[], env: Record<string, string | undefined>) => {
  const clean = { ...process.env, CI: undefined, FACEGATE_STRICT: undefined, ...env };
  return spawnSync(process.execPath, args, { env: clean as NodeJS.ProcessEnv, encoding: 'utf8' });
};
const needData = ['--input-type=module', '-e', `import { need } from ${JSON.stringify(mod)}; console.log(need('the data suite', 'data'));`];

describe('test prerequisites', () => {
  it('strict when CI=true or FACEGATE_STRICT=1, and FACEGATE_STRICT=0 wins', () => {
    expect(isStrict({ CI: 'true' })).toBe(true);
    expect(isStrict({ FACEGATE_STRICT: '1' })).toBe(true);
    expect(isStrict({ CI: 'true', FACEGATE_STRICT: '0' })).toBe(false);
    expect(isStrict({})).toBe(false);
    expect(isStrict({ CI: 'false' })).toBe(false);
  });

  it('in CI a missing prerequisite fails with what to do; locally the skip is announced', () => {
    const ci = run(needData, { CI: 'true', FACEGATE_TEST_DATA: '/nonexistent' });
    expect(ci.status).not.toBe(0);
    expect(ci.stderr).toMatch(/the data suite cannot run: the shared face data at \/nonexistent is missing: .*FACEGATE_TEST_DATA/);
    const local = run(needData, { FACEGATE_TEST_DATA: '/nonexistent' });
    expect(local.status).toBe(0);
    expect(local.stdout.trim()).toBe('false');
    expect(local.stderr).toMatch(/SKIPPED the data suite: the shared face data at \/nonexistent is missing/);
    const check = run([mod, '--check'], { FACEGATE_TEST_DATA: '/nonexistent' });
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/^MISSING {2}data: /m);
  });

  it('finds tools on the PATH, then in the sbin folders, as .ci/run does', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'facegate-prereq-'));
    writeFileSync(path.join(dir, 'fg-tool'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(path.join(dir, 'fg-not-executable'), '', { mode: 0o644 });
    expect(findAll('fg-tool', { PATH: `/nonexistent:${dir}` })).toEqual([path.join(dir, 'fg-tool')]);
    expect(findAll('fg-not-executable', { PATH: dir })).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
    // With an empty PATH, what the sbin folders hold is still found (Debian's mosquitto is /usr/sbin/mosquitto).
    const sbin = ['/usr/local/sbin', '/usr/sbin', '/sbin'].map((d) => path.join(d, 'mosquitto')).filter((f) => existsSync(f));
    expect(findAll('mosquitto', { PATH: '' })).toEqual(sbin);
    expect(run([mod, '--packages'], {}).status).toBe(0);
  });
});
