import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installServiceCommand, planInstall } from '../../src/cli/install-service.js';
import { repoRoot } from '../helpers/data.js';
import { locate, need } from '../helpers/prereqs.mjs';

const unitFile = path.join(repoRoot, 'systemd', 'facegate.service');
const unit = readFileSync(unitFile, 'utf8');
const analyze = need('the systemd-analyze unit checks', 'systemd-analyze') ? locate('systemd-analyze') : null;

/** All values of a key in the [Service] section. */
const values = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());

/**
 * `systemd-analyze verify` fails when ExecStart's binary is missing (it is, until installed), so a copy
 * with ExecStart pointed at this node binary is verified; every other line is the shipped unit's.
 * verify exits 0 even for unknown keys and unparsable values (it only warns), so stderr must be empty too.
 */
function verifyCopy(text: string, name = 'facegate.service') {
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-unit-'));
  const copy = path.join(dir, name);
  writeFileSync(copy, text.replace(/^ExecStart=\/usr\/bin\/facegate/m, `ExecStart=${process.execPath}`));
  const r = spawnSync(analyze!, ['verify', copy], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr.trim(), copy };
}

describe('systemd/facegate.service', () => {
  it('has the settings the appliance relies on', () => {
    expect(values('Type')).toEqual(['notify']);
    expect(values('NotifyAccess')).toEqual(['all']);
    expect(values('WatchdogSec')).toEqual(['30']);
    expect(values('Restart')).toEqual(['on-failure']);
    expect(values('RestartSec')).toEqual(['5']);
    expect(values('User')).toEqual(['facegate']);
    expect(values('Group')).toEqual(['facegate']);
    expect(values('SupplementaryGroups')).toEqual(['video render']);
    expect(values('ExecStart')).toEqual(['/usr/bin/facegate run --config /etc/facegate/config.yaml']);
    expect(values('Environment')).toContain('FACEGATE_DATA_DIR=/var/lib/facegate');
    // Two malloc arenas and a fixed mmap threshold keep RSS from growing for good (README, "Faults").
    expect(values('Environment')).toContain('MALLOC_ARENA_MAX=2');
    expect(values('Environment')).toContain('MALLOC_MMAP_THRESHOLD_=131072');
    expect(values('StateDirectory')).toEqual(['facegate']);
    for (const [k, v] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      // The config folder too: cameras are changed from the admin page, which rewrites the config file.
      ['ReadWritePaths', '/var/lib/facegate /etc/facegate/'],
      ['PrivateTmp', 'yes'],
      ['ProtectHome', 'yes'],
    ]) {
      expect(values(k!), k).toEqual([v]);
    }
    expect(values('DeviceAllow')).toEqual(expect.arrayContaining(['char-video4linux rw', 'char-nvidia* rw', 'char-nvhost* rw']));
    // These would break CUDA or V8 and must stay off.
    for (const k of ['PrivateDevices', 'MemoryDenyWriteExecute', 'PrivateUsers', 'ProcSubset']) expect(values(k), k).toEqual([]);
  });

  describe.skipIf(!analyze)('systemd-analyze', () => {
    it('verify passes without a single warning', () => {
      const r = verifyCopy(unit);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });

    it('verify catches a broken unit (control: the check above can fail)', () => {
      const r = verifyCopy(unit.replace('Type=notify', 'Type=notfy').replace('WatchdogSec=30', 'WatchdogSecs=30'));
      expect(r.stderr).toMatch(/Failed to parse service type/);
      expect(r.stderr).toMatch(/Unknown key 'WatchdogSecs'/);
    });

    it('security exposure stays at 3.0 ("OK") or below', () => {
      const r = verifyCopy(unit);
      const s = spawnSync(analyze!, ['security', '--offline=true', '--threshold=30', r.copy], { encoding: 'utf8' });
      expect(s.stdout).toMatch(/Overall exposure level for facegate\.service: \d/);
      expect(s.status, s.stdout.split('\n').slice(-3).join('\n')).toBe(0);
    });
  });
});

describe('facegate install-service --dry-run', () => {
  it('plans user, data folder, config and unit without changing anything', async () => {
    const out: string[] = [];
    const code = await installServiceCommand.run(
      { values: { 'dry-run': true, user: 'camsvc' }, positionals: [] },
      { stdout: (l) => out.push(l), stderr: (l) => out.push(l) },
    );
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^Would do \(dry run, nothing changed\):/);
    expect(text).toMatch(/(create system user camsvc|user camsvc exists)/);
    expect(text).toContain('create /var/lib/facegate (owner camsvc');
    expect(text).toContain('/etc/systemd/system/facegate.service');
    expect(text).toMatch(/^User=camsvc$/m);
    expect(text).toMatch(/^Group=camsvc$/m);
    expect(text).toMatch(/^Environment=MALLOC_ARENA_MAX=2$/m);
    expect(text).toMatch(/^Environment=MALLOC_MMAP_THRESHOLD_=131072$/m);
    expect(existsSync('/etc/systemd/system/facegate.service') && readFileSync('/etc/systemd/system/facegate.service', 'utf8').includes('User=camsvc')).toBe(
      false,
    );
  });

  it('the planned unit (real ExecStart) still verifies', () => {
    const plan = planInstall({ user: 'facegate', execStart: `${process.execPath} ${path.join(repoRoot, 'dist/cli.js')}` });
    expect(plan.unit).toMatch(/^ExecStart=\S+node\S* \S+dist\/cli\.js run --config \/etc\/facegate\/config\.yaml$/m);
    if (analyze) expect(verifyCopy(plan.unit).stderr).toBe('');
  });

  it('warns when the program lives under /home or /root (hidden by ProtectHome)', () => {
    const plan = planInstall({ user: 'facegate', execStart: '/root/.nvm/versions/node/v20/bin/node /opt/facegate/dist/cli.js' });
    expect(plan.steps.at(-1)).toMatch(/^WARNING: \/root\/\.nvm\S+ is under \/home or \/root/);
    expect(planInstall({ user: 'facegate', execStart: '/usr/bin/node /opt/facegate/dist/cli.js' }).steps.join('\n')).not.toMatch(/WARNING/);
  });

  it('refuses a bad user name', () => {
    expect(() => planInstall({ user: 'Bad User' })).toThrow(/not a valid user name/);
  });
});
