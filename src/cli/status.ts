/**
 * `facegate status`: what the running appliance says about itself over its local socket (set-up state and the
 * claim code while unclaimed, the page's addresses, cameras, broker, sync, disk), or, when none runs, that it
 * does not and what the data directory holds.
 */
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import type { ApplianceStatus } from '../local/api.js';
import { applianceCall } from '../local/session.js';
import { readJson } from '../store/atomic.js';
import { lockHolder } from '../store/lock.js';
import type { Command } from './command.js';
import { configWithDataDir } from './context.js';
import { humanBytes } from '../util/bytes.js';

const usage = `Usage: facegate status [--config <file>] [--data-dir <dir>] [--json]

Asks the appliance running on the data directory for its state: whether the admin page is set up (and its
one-time claim code until it is), the addresses the page answers on and its certificate fingerprint, each
camera, the MQTT broker, the facebank sync and the free disk space. Run it as root (sudo) or as the service
user: the appliance's socket is theirs alone. Exit code 0 when the appliance runs, 3 when none runs.`;

/** Exit code when no appliance runs (as `systemctl status` and LSB init scripts use it). */
export const NOT_RUNNING = 3;

const diskLine = (d: ApplianceStatus['disk']) => (d ? `${humanBytes(d.freeBytes)} free of ${humanBytes(d.totalBytes)} in ${d.path}` : 'unknown');

function setupLine(s: ApplianceStatus['setup']): string {
  if (!s) return 'the admin page is off (web.enabled: false)';
  if (s.claimed) return s.passwordFixed ? 'set up (admin password from the config)' : 'set up (admin password chosen)';
  return s.claimCode ? 'not set up: open the admin page and enter the claim code below' : 'not set up';
}

function describe(s: ApplianceStatus): string[] {
  const lines = [`Appliance: running (pid ${s.pid}, since ${s.since}), data in ${s.dataDir}`, `Set-up:    ${setupLine(s.setup)}`];
  if (s.setup && !s.setup.claimed && s.setup.claimCode) lines.push(`Claim code: ${s.setup.claimCode}`);
  if (s.page) {
    lines.push(`Page:      ${s.page.urls.join('  ')}`);
    if (s.page.fingerprint) lines.push(`           certificate SHA-256 ${s.page.fingerprint}`);
  }
  if (!s.cameras.length) lines.push('Cameras:   none configured');
  for (const [i, c] of s.cameras.entries())
    lines.push(
      `${i ? '          ' : 'Cameras:  '} ${c.name}: ${c.state}${c.state === 'online' ? `, ${c.fps.toFixed(1)} fps` : ''}${c.lastError && c.state !== 'online' ? ` (${c.lastError})` : ''}`,
    );
  const b = s.broker;
  lines.push(
    b
      ? `Broker:    ${b.url} ${b.connected ? 'connected' : 'NOT connected'}, ${b.queued} event${b.queued === 1 ? '' : 's'} queued${b.dropped ? `, ${b.dropped} dropped` : ''}`
      : 'Broker:    the MQTT transport did not start (see the log)',
  );
  const y = s.sync;
  lines.push(
    y
      ? `Sync:      ${y.connected ? 'connected' : 'NOT connected'}, ${y.pending} change${y.pending === 1 ? '' : 's'} pending, last exchange ${y.lastSync ?? 'never'}${y.refused ? `, ${y.refused} records refused` : ''}`
      : 'Sync:      off',
  );
  lines.push(`Disk:      ${diskLine(s.disk)}`);
  return lines;
}

/** What the data directory says while no appliance runs (auth.json read, never written). */
async function offline(dataDir: string, fixedPassword: boolean) {
  let setup: ApplianceStatus['setup'] | string;
  try {
    const auth = await readJson<{ passwordHash?: string | null; claimCode?: string | null }>(path.join(dataDir, 'auth.json'));
    setup = fixedPassword
      ? { claimed: true, passwordFixed: true, claimCode: null }
      : auth?.passwordHash
        ? { claimed: true, passwordFixed: false, claimCode: null }
        : { claimed: false, passwordFixed: false, claimCode: auth?.claimCode ?? null };
  } catch (e) {
    setup = `auth.json cannot be read (${(e as Error).message}); \`facegate passwd --reset\` makes a new one`;
  }
  let disk: ApplianceStatus['disk'] = null;
  try {
    const s = await statfs(dataDir);
    disk = { path: dataDir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    disk = null;
  }
  return { setup, disk };
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show the running appliance: set-up and claim code, page, cameras, broker, sync, disk',
  usage,
  options: {},
  async run({ values }, io) {
    const config = configWithDataDir(values);
    const holder = await lockHolder(config.dataDir);
    if (holder?.role === 'run') {
      const s = await applianceCall(config, holder)<ApplianceStatus>('GET', '/v1/status');
      if (values.json) io.stdout(JSON.stringify({ running: true, ...s }));
      else for (const l of describe(s)) io.stdout(l);
      return 0;
    }
    const { setup, disk } = await offline(config.dataDir, Boolean(config.web.passwordHash));
    const why = holder ? `; ${holder.role} (pid ${holder.pid}) is using it` : '';
    if (values.json) io.stdout(JSON.stringify({ running: false, dataDir: config.dataDir, busyWith: holder, setup, disk }));
    else {
      io.stdout(`Appliance: NOT running on ${config.dataDir}${why} (start it with: systemctl start facegate)`);
      if (typeof setup === 'string') io.stdout(`Set-up:    ${setup}`);
      else {
        io.stdout(`Set-up:    ${setup.claimed ? 'set up' : 'not set up'}`);
        if (setup.claimCode) io.stdout(`Claim code: ${setup.claimCode} (valid once the appliance runs)`);
      }
      io.stdout(`Disk:      ${diskLine(disk)}`);
    }
    return NOT_RUNNING;
  },
};
