/** `facegate people list|rename|rm`: manage the facebank from the shell (through the running appliance when it runs). */
import { FacegateError } from '../util/errors.js';
import { facebankJobs } from '../local/session.js';
import type { Command } from './command.js';
import { configWithDataDir } from './context.js';
import { syncSummary } from '../sync/summary.js';

const usage = `Usage: facegate people list [--json]
       facegate people rename <name|id> <new name>
       facegate people rm <name|id>
Options: --data-dir <dir>, --config <file>
While \`facegate run\` uses the same data directory, the change is made by it.`;

export const peopleCommand: Command = {
  name: 'people',
  summary: 'List, rename or remove enrolled people',
  usage,
  allowPositionals: true,
  options: {},
  async run({ values, positionals }, io) {
    const [verb, ...args] = positionals;
    const arity: Record<string, number> = { list: 0, rename: 2, rm: 1 };
    if (verb === undefined || arity[verb] !== args.length) throw new FacegateError('usage', usage);
    const config = configWithDataDir(values);
    const jobs = await facebankJobs(config, `people ${verb}`);
    switch (verb) {
      case 'list': {
        const sync = await syncSummary(config.dataDir); // facebank sync (issue 16)
        const rows = (await jobs.list()).map((r) => (sync ? { ...r, origin: sync.origin(r.id) } : r));
        const state = sync ? { lastSync: sync.lastSync, pending: sync.pending, keyMismatch: sync.keyMismatch } : null;
        if (values.json) io.stdout(JSON.stringify({ people: rows, sync: state }));
        else if (!rows.length) io.stdout('No people enrolled.');
        else
          for (const r of rows)
            io.stdout(`${r.id}  ${r.name}  (${r.samples} sample${r.samples === 1 ? '' : 's'})${'origin' in r && r.origin ? `  from ${r.origin}` : ''}`);
        if (state && !values.json)
          io.stdout(`Sync: last exchange ${state.lastSync ?? 'never'}, ${state.pending} change${state.pending === 1 ? '' : 's'} pending.`);
        if (state?.keyMismatch && !values.json)
          io.stdout(
            `Sync: not sending: this appliance's key opened none of the ${state.keyMismatch.unreadable} records on the broker (since ${state.keyMismatch.since}); restart it with the site's key (FACEGATE_SYNC_KEY).`,
          );
        return 0;
      }
      case 'rename': {
        const r = await jobs.rename(args[0]!, args[1]!);
        if (values.json) io.stdout(JSON.stringify({ id: r.id, name: r.name }));
        else io.stdout(`Renamed ${r.from} to ${r.name}.`);
        return 0;
      }
      default: {
        const p = await jobs.remove(args[0]!);
        if (values.json) io.stdout(JSON.stringify({ removed: p }));
        else io.stdout(`Removed ${p.name} and their samples.`);
        return 0;
      }
    }
  },
};
