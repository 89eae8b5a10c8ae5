/**
 * `facegate enroll <name> <image...>`: adds one sample per photo to a person, creating the person if new.
 * With the appliance running the photos go to it (local/session.ts), so it sees the enrolment at once.
 */
import { engineOptions, engineOptionsUsage } from './engine-options.js';
import { FacegateError } from '../util/errors.js';
import { facebankJobs } from '../local/session.js';
import type { Command } from './command.js';
import { configWithDataDir } from './context.js';

const usage = `Usage: facegate enroll <name> <image...> [--face N] [--force] [--data-dir <dir>] [--json]

Detects the face in each photo, checks its quality (size, sharpness, pose: pipeline.quality in the config),
and stores its embedding and aligned crop as a sample of <name> (created if new). A photo with no usable
face or with several faces is refused with the reason; --face N picks face N (left to right, from 0).
A face that looks more like someone else enrolled is refused, saying who; --force adds it anyway. A name
that only looks like an enrolled one (another alphabet's letters) is refused; the exact name adds to them.
Exit code 1 when any photo was refused. --json: {"person":{id,name},"created":bool,"via":...,"results":[...]}.
While \`facegate run\` uses the same data directory, the photos are sent to it and it enrols them (via
"appliance"); otherwise this command enrols them itself (via "local"), one writer at a time.

${engineOptionsUsage}`;

export const enrollCommand: Command = {
  name: 'enroll',
  summary: 'Enrol a person from photos',
  usage,
  allowPositionals: true,
  options: { ...engineOptions, face: { type: 'string' }, force: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const [name, ...files] = positionals;
    if (!name || files.length === 0) throw new FacegateError('usage', `enroll needs a name and at least one image\n\n${usage}`);
    const faceIndex = values.face === undefined ? undefined : Number(values.face);
    if (faceIndex !== undefined && !(Number.isInteger(faceIndex) && faceIndex >= 0)) throw new FacegateError('usage', '--face must be a whole number from 0');
    const config = configWithDataDir(values);
    const jobs = await facebankJobs(config, 'enroll');
    const { person, created, results } = await jobs.enrol(name, files, faceIndex, values.force === true);
    const failed = results.filter((r) => r.error).length;
    if (values.json) io.stdout(JSON.stringify({ person, created, via: jobs.where, results }));
    else {
      for (const r of results) io.stdout(r.error ? `${r.file}: refused: ${r.message}` : `${r.file}: enrolled as sample ${r.sampleId}`);
      io.stdout(
        person
          ? `${person.name}: ${results.length - failed} sample(s) added${jobs.where === 'appliance' ? ' by the running appliance' : ''}`
          : `${name}: nothing enrolled`,
      );
    }
    return failed ? 1 : 0;
  },
};
