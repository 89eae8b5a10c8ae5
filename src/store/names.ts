/**
 * The one rule for person names, used by the enrolment service, the facebank, the CLI, the HTTP API, replicated
 * records and (via /api/session's nameRule) the page: NFC-normalised, whitespace collapsed, 1 to 64 characters,
 * at least one letter or digit, and no invisible, filler or direction-changing characters. Two names are the same
 * name when their keys match: case-insensitive and by their Unicode TR39 confusable skeleton, so a Cyrillic
 * "Shеldon" is the same name as "Sheldon" (the skeleton data is unicode.org's confusables.txt, via unhomoglyph).
 */
import { createRequire } from 'node:module';
import { FacegateError } from '../util/errors.js';

export const NAME_MAX = 64;

/**
 * Characters a name may not hold: controls (Cc), format characters (Cf: bidi overrides and isolates, zero-width
 * space/joiners, BOM, soft hyphen), line/paragraph separators, lone surrogates, private use, unassigned points,
 * the fillers that draw nothing (Default_Ignorable code points such as U+3164, U+115F, U+1160, U+FFA0, U+034F)
 * and the blank braille pattern U+2800. Variation selectors are allowed after a visible character (emoji style).
 */
export const FORBIDDEN_NAME_CHARS =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}\u2800]|(?![\uFE00-\uFE0F\u{E0100}-\u{E01EF}])\p{Default_Ignorable_Code_Point}/u;

/** A name needs at least one of these: a letter or a digit (fillers above are letters, hence refused first). */
export const VISIBLE_NAME_CHAR = /[\p{L}\p{N}]/u;

const describe = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** The name as stored; throws FacegateError('bad_name') with a sentence saying what is wrong. */
export function normalizeName(input: unknown): string {
  if (typeof input !== 'string') throw new FacegateError('bad_name', 'Give the person a name.');
  const bad = FORBIDDEN_NAME_CHARS.exec(input.replace(/[\t\n\r]/g, ' '));
  if (bad) throw new FacegateError('bad_name', `A name cannot hold invisible or direction-changing characters (${describe(bad[0])} found).`);
  const name = input.normalize('NFC').trim().replace(/\s+/gu, ' ');
  const length = [...name].length;
  if (length < 1) throw new FacegateError('bad_name', 'Give the person a name.');
  if (length > NAME_MAX) throw new FacegateError('bad_name', `A name has 1 to ${NAME_MAX} characters (this one has ${length}).`);
  if (!VISIBLE_NAME_CHAR.test(name)) throw new FacegateError('bad_name', 'A name needs at least one letter or digit that can be seen.');
  return name;
}

/** TR39's confusables.txt as code point → prototype (the data of the unhomoglyph package), loaded on first use. */
let prototypes: Map<string, string> | null = null;
const prototypeOf = (): Map<string, string> =>
  (prototypes ??= new Map(Object.entries(createRequire(import.meta.url)('unhomoglyph/data.json') as Record<string, string>)));

/** Keys already computed (names are compared against every person's on each create and rename). */
const keys = new Map<string, string>();

/** TR39 skeleton: NFD, each character mapped to its prototype, NFD again. */
export function skeleton(input: string): string {
  const map = prototypeOf();
  let out = '';
  for (const ch of input.normalize('NFD')) out += map.get(ch) ?? ch;
  return out.normalize('NFD');
}

/** The key names are compared by (case-insensitive, then by confusable skeleton, after normalising); never throws. */
export function nameKey(input: string): string {
  const text = String(input);
  let key = keys.get(text);
  if (key === undefined) {
    key = skeleton(text.normalize('NFC').trim().replace(/\s+/gu, ' ').toLowerCase());
    if (keys.size >= 100_000) keys.clear();
    keys.set(text, key);
  }
  return key;
}

/** The person (other than `except`) whose name is the same name as `name` by nameKey, or null. */
export function sameNameAs<P extends { id: string; name: string }>(name: string, people: readonly P[], except?: string): P | null {
  const key = nameKey(name);
  return people.find((p) => p.id !== except && nameKey(p.name) === key) ?? null;
}

/** The same spelling, but for case (a name that is the same name by nameKey may only look the same). */
export const sameSpelling = (a: string, b: string): boolean => a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase();

/** The sentence for a name that is taken: names the person, and says when it only looks the same. */
export function nameTakenMessage(name: string, holder: { name: string }): string {
  if (sameSpelling(holder.name, name))
    return `There is already a person called "${holder.name}"; pick them from the list to add to them, or choose another name.`;
  return `"${name}" looks the same as "${holder.name}", who is already enrolled (some letters come from another alphabet); choose a name that can be told apart.`;
}

/** The rule in a form the page can apply before sending (the server checks again). */
export const nameRule = {
  maxLength: NAME_MAX,
  forbidden: FORBIDDEN_NAME_CHARS.source,
  flags: FORBIDDEN_NAME_CHARS.flags,
  required: VISIBLE_NAME_CHAR.source,
};
