/** `facegate people list|rename|rm`: manage the facebank from the shell (through the running appliance when it runs). */
import { FacegateError } from '../util/errors.js';
import { facebankJobs } from '../local/session.js';
import type { Command } from './command.js';
import { configWithDataDir } from './context.js';

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
    const jobs = await facebankJobs(configWithDataDir(values), `people ${verb}`);
    switch (verb) {
      case 'list': {
        const rows = await jobs.list();
        if (values.json) io.stdout(JSON.stringify({ people: rows }));
        else if (!rows.length) io.stdout('No people enrolled.');
        else for (const r of rows) io.stdout(`${r.id}  ${r.name}  (${r.samples} sample${r.samples === 1 ? '' : 's'})`);
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
