/** `facegate people list|rename|rm`: manage the facebank from the shell. */
import { FacegateError } from '../util/errors.js';
import type { Command } from './command.js';
import { configWithDataDir, withFacebank } from './context.js';

const usage = `Usage: facegate people list [--json]
       facegate people rename <name|id> <new name>
       facegate people rm <name|id>
Options: --data-dir <dir>, --config <file>`;

export const peopleCommand: Command = {
  name: 'people',
  summary: 'List, rename or remove enrolled people',
  usage,
  allowPositionals: true,
  options: {},
  async run({ values, positionals }, io) {
    const [verb, ...args] = positionals;
    const config = configWithDataDir(values);
    return withFacebank(config, async (fb) => {
      const find = async (ref: string | undefined) => {
        if (!ref) throw new FacegateError('usage', usage);
        const p = (await fb.person(ref)) ?? (await fb.findByName(ref));
        if (!p) throw new FacegateError('not-found', `No person named or with id "${ref}".`);
        return p;
      };
      switch (verb) {
        case 'list': {
          const people = await fb.people();
          const samples = await fb.samples();
          const rows = people.map((p) => ({ id: p.id, name: p.name, created: p.created, samples: samples.filter((s) => s.personId === p.id && !s.negative).length }));
          if (values.json) io.stdout(JSON.stringify({ people: rows }));
          else if (!rows.length) io.stdout('No people enrolled.');
          else for (const r of rows) io.stdout(`${r.id}  ${r.name}  (${r.samples} sample${r.samples === 1 ? '' : 's'})`);
          return 0;
        }
        case 'rename': {
          if (args.length !== 2) throw new FacegateError('usage', usage);
          const p = await find(args[0]);
          await fb.renamePerson(p.id, args[1]!);
          if (values.json) io.stdout(JSON.stringify({ id: p.id, name: args[1] }));
          else io.stdout(`Renamed ${p.name} to ${args[1]}.`);
          return 0;
        }
        case 'rm': {
          if (args.length !== 1) throw new FacegateError('usage', usage);
          const p = await find(args[0]);
          await fb.deletePerson(p.id);
          if (values.json) io.stdout(JSON.stringify({ removed: { id: p.id, name: p.name } }));
          else io.stdout(`Removed ${p.name} and their samples.`);
          return 0;
        }
        default:
          throw new FacegateError('usage', usage);
      }
    });
  },
};
