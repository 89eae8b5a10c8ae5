/**
 * Edits the cameras of a config file's text with the yaml Document API, so comments, key order and the other
 * sections stay as the user wrote them. The edited text is validated as a whole before anyone writes it.
 */
import { isMap, isSeq, parseDocument, type Document, YAMLMap, YAMLSeq } from 'yaml';
import { FacegateError } from '../util/errors.js';
import { ConfigError, validateConfig } from './load.js';
import type { CameraConfig, Config } from './schema.js';

/** A camera as written to the file: the fields the user gave (defaults are not written out). */
export type CameraEntry = Partial<CameraConfig> & { name: string; url: string };

/** The order fields are written in for a new camera. */
const FIELDS = ['name', 'url', 'enabled', 'loop', 'fps', 'width', 'inputOptions'] as const;

function parse(text: string, file: string): Document {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new FacegateError('config', `${file} is not valid YAML (${doc.errors[0]!.message.split('\n')[0]}); fix it by hand first.`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new FacegateError('config', `${file}: the top level must be a mapping of options.`);
  return doc;
}

/** The `cameras:` list of the document, created when missing. */
function cameraSeq(doc: Document, file: string): YAMLSeq {
  const seq = doc.get('cameras', true);
  if (seq === undefined || seq === null) {
    const fresh = new YAMLSeq();
    doc.set('cameras', fresh);
    return fresh;
  }
  if (!isSeq(seq)) throw new FacegateError('config', `${file}: cameras must be a list; fix it by hand first.`);
  // `cameras: []` becomes a block list, keeping its comment.
  if (seq.flow && seq.items.length === 0) seq.flow = false;
  return seq;
}

function indexOf(seq: YAMLSeq, name: string): number {
  return seq.items.findIndex((it) => isMap(it) && it.get('name') === name);
}

/** Writes `cam` into the map in place: changed fields change, fields left out are deleted, the others keep their comments. */
function fill(doc: Document, map: YAMLMap, cam: CameraEntry): void {
  for (const key of FIELDS) {
    const v = cam[key];
    if (v === undefined || (key === 'inputOptions' && Array.isArray(v) && v.length === 0)) {
      map.delete(key);
      continue;
    }
    const cur: unknown = map.get(key, false);
    if (JSON.stringify((cur as { toJSON?: () => unknown })?.toJSON?.() ?? cur) === JSON.stringify(v)) continue;
    map.set(key, doc.createNode(v));
  }
}

export interface CameraEdit {
  /** The camera to replace (its old name when renamed); null adds one. */
  replace: string | null;
  /** The new camera; null removes `replace`. */
  camera: CameraEntry | null;
}

/**
 * Applies one camera change to the config text and validates the result. Returns the new text and the validated
 * config (paths not yet resolved). A change the schema refuses throws ConfigError with one `path: reason` per problem.
 */
export function editCameras(text: string, file: string, edit: CameraEdit): { text: string; config: Config } {
  const doc = parse(text, file);
  const seq = cameraSeq(doc, file);
  const at = edit.replace === null ? -1 : indexOf(seq, edit.replace);
  if (edit.replace !== null && at < 0) throw new FacegateError('not_found', `There is no camera "${edit.replace}" in ${file}.`);
  if (edit.camera === null) seq.items.splice(at, 1);
  else if (at >= 0) {
    const map = seq.items[at];
    if (!isMap(map)) throw new FacegateError('config', `${file}: cameras[${at}] is not a mapping; fix it by hand first.`);
    fill(doc, map, edit.camera);
  } else {
    const map = new YAMLMap();
    fill(doc, map, edit.camera);
    seq.items.push(map);
  }
  const out = doc.toString();
  try {
    return { text: out, config: validateConfig(parseDocument(out).toJS() ?? {}, file) };
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(e.problems, 'the changed config');
    throw e;
  }
}
