/**
 * The one place that finds the test suite's system prerequisites. `.ci/run` runs this file (before npm install)
 * to learn which Debian packages to install, and the tests import it to find the same binaries, so CI and the
 * suite cannot disagree about where a tool is.
 *
 *   node test/helpers/prereqs.mjs --packages   the Debian packages still missing, space-separated
 *   node test/helpers/prereqs.mjs --check      one line per prerequisite; exit 1 when one is missing
 *
 * Strict mode (CI=true, or FACEGATE_STRICT=1 locally; FACEGATE_STRICT=0 turns it off): a missing prerequisite
 * fails the run with the package to install. Otherwise the suites that need it are skipped with a message.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where Debian puts daemons and admin tools; often missing from a user's PATH. */
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const executable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Every executable called `name` on the PATH, then in the sbin folders, in that order, without duplicates. */
export function findAll(name, env = process.env) {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SBIN];
  const seen = new Set();
  const out = [];
  for (const d of dirs) {
    const f = path.join(d, name);
    if (seen.has(f)) continue;
    seen.add(f);
    if (executable(f)) out.push(f);
  }
  return out;
}

/** The first executable called `name` (PATH, then sbin folders), or null. */
export const findTool = (name, env = process.env) => findAll(name, env)[0] ?? null;

/** A python3 that can import GStreamer's RTSP server bindings: Debian's /usr/bin/python3 first (pyenv shims lack gi). */
function findGstPython() {
  const candidates = [...new Set(['/usr/bin/python3', ...findAll('python3')])].filter(executable);
  const probe = "import gi; gi.require_version('GstRtspServer','1.0'); from gi.repository import GstRtspServer";
  return candidates.find((p) => spawnSync(p, ['-c', probe], { stdio: 'ignore', timeout: 20_000 }).status === 0) ?? null;
}

/** Root of the shared face data: FACEGATE_TEST_DATA, else ../shared/data beside the checkout. */
export const testDataRoot = process.env.FACEGATE_TEST_DATA ?? path.resolve(repoRoot, '../shared/data');

/**
 * Every prerequisite: what it is, how it is found, and what installs it. `find` returns the path found or null.
 * @type {ReadonlyArray<{id: string, what: string, packages: string[], install?: string, find: () => string | null}>}
 */
export const PREREQS = [
  { id: 'mosquitto', what: 'the mosquitto MQTT broker', packages: ['mosquitto'], find: () => findTool('mosquitto') },
  {
    id: 'chromium',
    what: 'Chromium for the admin page tests',
    packages: ['chromium', 'fonts-dejavu-core'],
    find: () => findTool('chromium') ?? findTool('chromium-browser'),
  },
  {
    id: 'rtsp',
    what: "python3 with GStreamer's RTSP server bindings",
    packages: [
      'python3-gi',
      'gir1.2-gst-rtsp-server-1.0',
      'gstreamer1.0-plugins-base',
      'gstreamer1.0-plugins-good',
      'gstreamer1.0-plugins-bad',
      'gstreamer1.0-plugins-ugly',
      'gstreamer1.0-libav',
    ],
    find: findGstPython,
  },
  {
    id: 'python3',
    what: 'python3 (the systemd notify socket)',
    packages: ['python3'],
    find: () => (executable('/usr/bin/python3') ? '/usr/bin/python3' : findTool('python3')),
  },
  { id: 'systemd-analyze', what: 'systemd-analyze (unit file checks)', packages: ['systemd'], find: () => findTool('systemd-analyze') },
  { id: 'systemd-notify', what: 'systemd-notify (notify fallback)', packages: ['systemd'], find: () => findTool('systemd-notify') },
  {
    id: 'data',
    what: `the shared face data at ${testDataRoot}`,
    packages: [],
    install:
      'put the shared data beside the checkout (../shared/data) or set FACEGATE_TEST_DATA to the folder that holds lfw/, detection/, identity/, video/, models/',
    find: () => (existsSync(path.join(testDataRoot, 'README.md')) ? testDataRoot : null),
  },
];

/** True when a missing prerequisite must fail the run: FACEGATE_STRICT=1, or CI=true unless FACEGATE_STRICT=0. */
export function isStrict(env = process.env) {
  if (env.FACEGATE_STRICT !== undefined && env.FACEGATE_STRICT !== '') return env.FACEGATE_STRICT !== '0';
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
}

const found = new Map();
/** The path of a prerequisite, or null (looked up once per process). */
export function locate(id) {
  if (!found.has(id)) {
    const p = PREREQS.find((x) => x.id === id);
    if (!p) throw new Error(`unknown prerequisite ${id}`);
    found.set(id, p.find());
  }
  return found.get(id);
}

/** The sentence that says how to get a missing prerequisite. */
export function howToInstall(id) {
  const p = PREREQS.find((x) => x.id === id);
  return p.packages.length
    ? `${p.what} is missing: install the Debian package(s) ${p.packages.join(' ')} (apt-get install ${p.packages.join(' ')})`
    : `${p.what} is missing: ${p.install}`;
}

/**
 * For a suite that needs these prerequisites: true when all are there. When one is missing, strict mode throws
 * (the test file fails with the package to install); otherwise it prints what is skipped and why, and returns false.
 */
export function need(suite, ...ids) {
  const missing = ids.filter((id) => !locate(id));
  if (missing.length === 0) return true;
  const why = missing.map(howToInstall).join('; ');
  if (isStrict()) throw new Error(`[facegate tests] ${suite} cannot run: ${why}. Strict mode (CI=true or FACEGATE_STRICT=1) fails instead of skipping.`);
  console.warn(`[facegate tests] SKIPPED ${suite}: ${why}.`);
  return false;
}

/** The Debian packages that would install every missing prerequisite. */
export function missingPackages() {
  return [...new Set(PREREQS.filter((p) => !locate(p.id)).flatMap((p) => p.packages))];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  if (arg === '--packages') {
    process.stdout.write(missingPackages().join(' ') + '\n');
  } else if (arg === '--check') {
    let bad = 0;
    for (const p of PREREQS) {
      const at = locate(p.id);
      if (!at) bad++;
      process.stdout.write(at ? `ok       ${p.id}: ${at}\n` : `MISSING  ${p.id}: ${howToInstall(p.id)}\n`);
    }
    process.exit(bad ? 1 : 0);
  } else {
    process.stderr.write('usage: node test/helpers/prereqs.mjs --packages | --check\n');
    process.exit(2);
  }
}
