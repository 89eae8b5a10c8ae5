/**
 * `npm run bench:backup`: a benchmark, not a test. Backs up a data directory with `facegate backup` and restores the
 * archive into a hard-linked copy of it (`cp -al`, so the source is never written) with `facegate restore`, each CLI
 * run as a child under /usr/bin/time for its wall time and peak RSS. The baseline, in the same run, is another
 * build of facegate (`--baseline <dist dir>`, e.g. a copy of main's dist/ with a package.json and node_modules beside
 * it), run the same way, alternating with this build round by round.
 *
 *   npm run bench:backup -- --data-dir <dir> [--baseline <dist dir>] [--rounds 1] [--work <dir under /tmp>] [--json]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const option = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const dataDir = path.resolve(option('data-dir') ?? '');
const baseline = option('baseline');
const rounds = Number(option('rounds') ?? 1);
const work = mkdtempSync(path.join(option('work') ?? os.tmpdir(), 'facegate-bench-backup-'));
const json = process.argv.includes('--json');
const THIS_CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli.js');

interface Run {
  wallS: number;
  peakRssMB: number;
  out: string;
}

/** One CLI run under /usr/bin/time: wall seconds and max resident set. */
function timed(cli: string, args: string[]): Run {
  const r = spawnSync('/usr/bin/time', ['-f', 'FGTIME %e %M', process.execPath, cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /FGTIME ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cli} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { wallS: Number(m[1]), peakRssMB: Number(m[2]) / 1024, out: r.stdout.trim() };
}

interface Round {
  build: string;
  backup: Run;
  restore: Run;
  archiveMB: number;
  load: string;
}

function round(build: string, cli: string, i: number): Round {
  const archive = path.join(work, `${build}-${i}.fgbak`);
  const copy = path.join(work, `${build}-${i}-copy`);
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const backup = timed(cli, ['backup', archive, '--data-dir', dataDir]);
  const archiveMB = statSync(archive).size / 1e6;
  const cp = spawnSync('cp', ['-al', dataDir, copy], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`cp -al failed: ${cp.stderr}`);
  const restore = timed(cli, ['restore', archive, '--data-dir', copy]);
  rmSync(copy, { recursive: true, force: true });
  rmSync(archive, { force: true });
  return { build, backup, restore, archiveMB, load };
}

if (!option('data-dir')) throw new Error('usage: bench:backup -- --data-dir <dir> [--baseline <dist dir>] [--rounds N]');
const results: Round[] = [];
const pairs: Array<[Round, Round]> = [];
try {
  for (let i = 0; i < rounds; i++) {
    const base = baseline ? round('baseline', path.join(path.resolve(baseline), 'cli.js'), i) : null;
    const ours = round('this', THIS_CLI, i);
    results.push(...(base ? [base, ours] : [ours]));
    if (base) pairs.push([base, ours]);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const ratio = (a: number, b: number) => `×${(a / b).toFixed(2)}`;
if (json) console.log(JSON.stringify({ dataDir, results }));
else {
  for (const r of results)
    console.log(
      `${r.build.padEnd(8)} backup ${r.backup.wallS.toFixed(1)} s, peak ${r.backup.peakRssMB.toFixed(0)} MB RSS; ` +
        `restore ${r.restore.wallS.toFixed(1)} s, peak ${r.restore.peakRssMB.toFixed(0)} MB RSS; archive ${r.archiveMB.toFixed(0)} MB (load ${r.load})`,
    );
  for (const [b, t] of pairs)
    console.log(
      `this/baseline: backup time ${ratio(t.backup.wallS, b.backup.wallS)}, RSS ${ratio(t.backup.peakRssMB, b.backup.peakRssMB)}; ` +
        `restore time ${ratio(t.restore.wallS, b.restore.wallS)}, RSS ${ratio(t.restore.peakRssMB, b.restore.peakRssMB)}`,
    );
}
