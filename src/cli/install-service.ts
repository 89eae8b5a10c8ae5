/**
 * `facegate install-service`: installs the systemd unit, the service user, the data folder and a config.
 * Every step is listed first; --dry-run stops there.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.js';
import { FacegateError } from '../util/errors.js';
import { MIN_PASSWORD_LENGTH } from '../store/auth.js';
import { prepareAdmin, readStdin } from './admin-access.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The package root: dist/cli/ or src/cli/ → two levels up. */
const packageRoot = path.resolve(here, '../..');

export interface InstallPlan {
  user: string;
  unitPath: string;
  unit: string;
  configPath: string;
  /** The config copied when configPath does not exist yet; null when one is already there. */
  configSource: string | null;
  dataDir: string;
  steps: string[];
}

/** The command the unit starts: an installed `facegate` (npm -g), else this node and this package's dist/cli.js. */
export function defaultExecStart(): string {
  for (const bin of ['/usr/bin/facegate', '/usr/local/bin/facegate']) if (existsSync(bin)) return bin;
  return `${process.execPath} ${path.join(packageRoot, 'dist', 'cli.js')}`;
}

/** ProtectHome=yes hides /home, /root and /run/user from the service. */
const underHome = (p: string) => /^\/(home|root|run\/user)(\/|$)/.test(p);

const userExists = (user: string): boolean => {
  try {
    execFileSync('id', ['-u', user], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

export function planInstall(opts: {
  user: string;
  execStart?: string;
  unitDir?: string;
  configDir?: string;
  dataDir?: string;
  adminPassword?: boolean;
}): InstallPlan {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(opts.user)) throw new FacegateError('usage', `"${opts.user}" is not a valid user name`);
  const template = readFileSync(path.join(packageRoot, 'systemd', 'facegate.service'), 'utf8');
  const dataDir = opts.dataDir ?? '/var/lib/facegate';
  const configDir = opts.configDir ?? '/etc/facegate';
  const configPath = path.join(configDir, 'config.yaml');
  const execStart = opts.execStart ?? defaultExecStart();
  const unit = template
    .replace(/^ExecStart=\S+/m, `ExecStart=${execStart}`)
    .replace(/^User=.*$/m, `User=${opts.user}`)
    .replace(/^Group=.*$/m, `Group=${opts.user}`)
    .replace(/\/etc\/facegate\//g, `${configDir}/`)
    .replace(/\/var\/lib\/facegate/g, dataDir);
  const unitPath = path.join(opts.unitDir ?? '/etc/systemd/system', 'facegate.service');
  const configSource = existsSync(configPath) ? null : path.join(packageRoot, 'config', 'default.yaml');
  const steps = [
    userExists(opts.user)
      ? `user ${opts.user} exists`
      : `create system user ${opts.user} (useradd --system --user-group --no-create-home --shell /usr/sbin/nologin)`,
    `add ${opts.user} to groups video, render (those that exist)`,
    `create ${dataDir} (owner ${opts.user}, mode 0750)`,
    opts.adminPassword
      ? `set the admin password from standard input (${dataDir}/auth.json)`
      : `make the admin page's one-time claim code (${dataDir}/auth.json) and print it`,
    configSource ? `copy ${configSource} to ${configPath}` : `keep existing ${configPath}`,
    `give ${configDir} and ${configPath} to ${opts.user} (mode 0750/0640), so cameras can be changed from the admin page`,
    `write ${unitPath} (ExecStart=${execStart})`,
    'systemctl daemon-reload',
  ];
  const program = execStart.split(' ').filter((w) => w.startsWith('/'));
  if (program.some(underHome))
    steps.push(
      `WARNING: ${program.find(underHome)} is under /home or /root, which the unit hides (ProtectHome=yes): install node and facegate system-wide (e.g. /usr or /opt) first`,
    );
  return { user: opts.user, unitPath, unit, configPath, configSource, dataDir, steps };
}

function execute(plan: InstallPlan): void {
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: 'inherit' });
  if (!userExists(plan.user))
    run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', plan.dataDir, '--shell', '/usr/sbin/nologin', plan.user]);
  for (const group of ['video', 'render']) {
    try {
      execFileSync('getent', ['group', group], { stdio: 'ignore' });
      run('usermod', ['-aG', group, plan.user]);
    } catch {
      /* the group does not exist on this machine */
    }
  }
  mkdirSync(plan.dataDir, { recursive: true, mode: 0o750 });
  run('chown', [`${plan.user}:${plan.user}`, plan.dataDir]);
  if (plan.configSource) {
    mkdirSync(path.dirname(plan.configPath), { recursive: true, mode: 0o750 });
    copyFileSync(plan.configSource, plan.configPath);
  }
  // The admin page's camera setup rewrites the config (temp file, rename, <file>.bak) as the service user.
  run('chown', [`${plan.user}:${plan.user}`, path.dirname(plan.configPath), plan.configPath]);
  chmodSync(path.dirname(plan.configPath), 0o750);
  chmodSync(plan.configPath, 0o640);
  writeFileSync(plan.unitPath, plan.unit, { mode: 0o644 });
  run('systemctl', ['daemon-reload']);
}

export const installServiceCommand: Command = {
  name: 'install-service',
  summary: 'Install the systemd service (unit, user, data folder, config)',
  usage: `Usage: facegate install-service [--user facegate] [--dry-run] [--json]

Writes /etc/systemd/system/facegate.service, creates the system user and /var/lib/facegate, and copies
the default config to /etc/facegate/config.yaml unless one exists. Then: systemctl enable --now facegate
The admin page is claimed with a one-time code printed at the end (and by the service when it starts, and by \`sudo facegate status\`, until used), or
give the admin password now on standard input:  printf '%s' 'my admin password' | facegate install-service --admin-password-stdin
  --user <name>              service user (default facegate)
  --admin-password-stdin     set the admin password read from standard input (at least ${MIN_PASSWORD_LENGTH} characters)
  --dry-run                  print what would be done, change nothing`,
  options: { user: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'admin-password-stdin': { type: 'boolean' } },
  async run({ values }, io) {
    const withPassword = Boolean(values['admin-password-stdin']);
    const plan = planInstall({
      user: (values.user as string | undefined) ?? 'facegate',
      dataDir: values['data-dir'] as string | undefined,
      adminPassword: withPassword,
    });
    const dry = Boolean(values['dry-run']);
    let admin: Awaited<ReturnType<typeof prepareAdmin>> | null = null;
    if (!dry) {
      if (process.getuid?.() !== 0) throw new FacegateError('permission', 'install-service must run as root (or use --dry-run to see the steps)');
      const password = withPassword ? await readStdin() : undefined;
      if (password !== undefined && password.length < MIN_PASSWORD_LENGTH)
        throw new FacegateError('usage', `The admin password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
      execute(plan);
      admin = await prepareAdmin(plan.dataDir, password);
    }
    if (values.json) {
      io.stdout(JSON.stringify({ dryRun: dry, steps: plan.steps, unitPath: plan.unitPath, unit: plan.unit, claimCode: admin?.claimCode ?? null }));
      return 0;
    }
    io.stdout(dry ? 'Would do (dry run, nothing changed):' : 'Done:');
    for (const s of plan.steps) io.stdout(`  - ${s}`);
    if (dry) io.stdout(`\n--- ${plan.unitPath}\n${plan.unit}`);
    else {
      io.stdout(`\n${admin!.message}`);
      io.stdout('Start it with: systemctl enable --now facegate');
    }
    return 0;
  },
};
