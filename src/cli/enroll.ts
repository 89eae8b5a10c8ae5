/** `facegate enroll <name> <image...>`: adds one sample per photo to a person, creating the person if new. */
import { engineFromConfig, engineOptions, engineOptionsUsage } from '../engine/setup.js';
import { decodePhoto } from '../ingest/still.js';
import { analyzePhoto, photoSide } from '../engine/photo.js';
import { FacegateError, isFacegateError } from '../util/errors.js';
import { chooseFace } from '../engine/choose-face.js';
import type { Command } from './command.js';
import { configWithDataDir, withFacebank } from './context.js';

const usage = `Usage: facegate enroll <name> <image...> [--face N] [--data-dir <dir>] [--json]

Detects the face in each photo, checks its quality (size, sharpness, pose: pipeline.quality in the config),
and stores its embedding and aligned crop as a sample of <name> (created if new). A photo with no usable
face or with several faces is refused with the reason; --face N picks face N (left to right, from 0).
Exit code 1 when any photo was refused. --json: {"person":{id,name},"created":bool,"results":[...]}.

${engineOptionsUsage}`;

export const enrollCommand: Command = {
  name: 'enroll',
  summary: 'Enrol a person from photos',
  usage,
  allowPositionals: true,
  options: { ...engineOptions, face: { type: 'string' } },
  async run({ values, positionals }, io) {
    const [name, ...files] = positionals;
    if (!name || files.length === 0) throw new FacegateError('usage', `enroll needs a name and at least one image\n\n${usage}`);
    const faceIndex = values.face === undefined ? undefined : Number(values.face);
    if (faceIndex !== undefined && !(Number.isInteger(faceIndex) && faceIndex >= 0)) throw new FacegateError('usage', '--face must be a whole number from 0');
    const config = configWithDataDir(values);
    const engine = await engineFromConfig(config);
    try {
      return await withFacebank(config, async (fb) => {
        const results: { file: string; sampleId?: string; quality?: object; error?: string; message?: string }[] = [];
        let person = await fb.findByName(name);
        const created = !person;
        for (const file of files) {
          try {
            const photo = await decodePhoto(file, { maxBytes: config.web.maxUploadBytes * 10, maxPixels: config.web.maxPixels, maxSide: photoSide(config.engine.detector) });
            const analysed = await analyzePhoto(engine, photo, config.pipeline.quality);
            const choice = chooseFace(analysed!, faceIndex);
            if (choice.kind === 'reject') {
              results.push({ file, error: choice.reason, message: choice.message });
              continue;
            }
            person ??= await fb.createPerson(name);
            const f = choice.face;
            const sample = await fb.addSample(person.id, { embedding: f.embedding, modelId: engine.embedderId, quality: f.quality, source: 'cli', crop: f.aligned });
            results.push({ file, sampleId: sample.id, quality: f.quality });
          } catch (e) {
            if (!isFacegateError(e)) throw e;
            results.push({ file, error: e.code, message: e.message });
          }
        }
        const failed = results.filter((r) => r.error).length;
        if (values.json) io.stdout(JSON.stringify({ person: person ? { id: person.id, name: person.name } : null, created: created && !!person, results }));
        else {
          for (const r of results) io.stdout(r.error ? `${r.file}: refused: ${r.message}` : `${r.file}: enrolled as sample ${r.sampleId}`);
          io.stdout(person ? `${person.name}: ${results.length - failed} sample(s) added` : `${name}: nothing enrolled`);
        }
        return failed ? 1 : 0;
      });
    } finally {
      await engine.close();
    }
  },
};
