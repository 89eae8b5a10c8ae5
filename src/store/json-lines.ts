/**
 * JSON-lines files checked on load (the event and unknown-face journals, the MQTT queue): each line is parsed and
 * checked against the file's schema. A torn last line (a crash or a full disk mid-write) is cut off; lines that are
 * not valid records are skipped, counted and reported once, and the file is kept aside as <name>.corrupt-<time>
 * (never deleted) so its owner rewrites it with the good records.
 */
import { readFileSync, renameSync, truncateSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { FacegateError } from '../util/errors.js';
import type { StorageReporter } from './storage-health.js';

/** Where a broken file is kept: beside it, named after it and the time it was found. */
export const asideName = (file: string, now = new Date()) => `${file}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;

/** Renames a broken file aside (never deletes it); returns the new path. */
export function setAsideSync(file: string): string {
  const aside = asideName(file);
  renameSync(file, aside);
  return aside;
}

export interface ParsedLines<R> {
  records: R[];
  /** Whole lines that are not JSON objects passing the schema. */
  bad: number;
  /** The text does not end with a newline: its last line was cut short. */
  torn: boolean;
  /** Length of the text up to and with its last newline (where a torn line starts). */
  whole: number;
}

/** The records of a JSON-lines text, in order; bad lines and a torn last line are counted, not returned. */
export function parseJsonLines<R>(text: string, schema?: z.ZodType<R>): ParsedLines<R> {
  const whole = text.lastIndexOf('\n') + 1;
  const out: ParsedLines<R> = { records: [], bad: 0, torn: whole < text.length, whole };
  for (const line of text.slice(0, whole).split('\n')) {
    if (!line) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      out.bad++;
      continue;
    }
    const ok = schema ? schema.safeParse(r) : { success: r !== null && typeof r === 'object', data: r };
    if (ok.success) out.records.push(ok.data as R);
    else out.bad++;
  }
  return out;
}

export interface LoadedLines<R> {
  records: R[];
  /** The file was set aside (bad lines) or could not be cut: its owner must write its state anew. */
  rewrite: boolean;
}

/**
 * Reads a JSON-lines file (none: no records) and repairs it as the header says; `what` names it in the reports
 * ("The event history"). Throws FacegateError 'store_corrupt' only when the file cannot be read at all.
 */
export function loadJsonLines<R>(file: string, schema: z.ZodType<R>, report: StorageReporter, what: string): LoadedLines<R> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], rewrite: false };
    throw new FacegateError(
      'store_corrupt',
      `${what} (${file}) cannot be read (${(e as Error).message}); check the disk, or move the file away to start it empty.`,
      {
        cause: e,
      },
    );
  }
  const p = parseJsonLines(text, schema);
  const name = path.basename(file);
  if (p.bad > 0) {
    let kept: string;
    try {
      kept = `the file is kept as ${path.basename(setAsideSync(file))}`;
    } catch (e) {
      kept = `it could not be kept aside (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    }
    report.reportRepair(
      file,
      `${what} (${name}) had ${p.bad} line${p.bad === 1 ? '' : 's'} that ${p.bad === 1 ? 'is' : 'are'} not a valid record${p.torn ? ' and a torn last line' : ''}: ` +
        `skipped, ${kept}, and ${p.records.length} good record${p.records.length === 1 ? ' is' : 's are'} written anew; look at the kept file to see what was lost.`,
    );
    return { records: p.records, rewrite: true };
  }
  if (p.torn) {
    try {
      truncateSync(file, Buffer.byteLength(text.slice(0, p.whole)));
    } catch {
      return { records: p.records, rewrite: true };
    }
    report.reportRepair(file, `${what} (${name}) ended in a line torn by a crash or a full disk: cut off, ${p.records.length} whole records kept.`);
  }
  return { records: p.records, rewrite: false };
}
