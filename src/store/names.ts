/**
 * The one rule for person names, used by the facebank, the CLI, the HTTP API and (via /api/name-rule) the page:
 * NFC-normalised, whitespace collapsed, 1 to 64 characters, and no invisible or direction-changing characters.
 */
import { FacegateError } from '../util/errors.js';

export const NAME_MAX = 64;

/**
 * Characters a name may not hold: controls (Cc), format characters (Cf: bidi overrides and isolates, zero-width
 * space/joiners, BOM, soft hyphen), line/paragraph separators, lone surrogates, private use and unassigned points.
 */
export const FORBIDDEN_NAME_CHARS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u;

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
  return name;
}

/** The key names are compared by (case-insensitive, after normalising); never throws. */
export function nameKey(input: string): string {
  return String(input).normalize('NFC').trim().replace(/\s+/gu, ' ').toLowerCase();
}

/** The rule in a form the page can apply before sending (the server checks again). */
export const nameRule = { maxLength: NAME_MAX, forbidden: FORBIDDEN_NAME_CHARS.source, flags: FORBIDDEN_NAME_CHARS.flags };
