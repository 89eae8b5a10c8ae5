/**
 * The enrolment service's recent changes, each with what it takes to undo it: kept in memory and journalled to
 * <dataDir>/enrol-changes.jsonl (store/journal.ts) so Undo survives a restart; bounded by count and age. Crops a
 * sample removal would lose are kept in <dataDir>/undo/ until the change ages out.
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Journal } from '../store/journal.js';
import type { StorageReporter } from '../store/storage-health.js';
import type { FaceQuality } from '../vision/types.js';
import type { SampleSource } from '../store/types.js';
import type { UnknownFace } from '../store/unknowns.js';

export const CHANGE_KINDS = ['photo', 'capture', 'reassign', 'not-person', 'name-group', 'dismiss', 'remove-sample', 'rename'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** What undoing a change does, in the order listed. */
export interface UndoRecipe {
  /** Samples this change added: removed again (those still there). */
  sampleIds?: string[];
  /** A person this change created: removed again when no sample of theirs is left. */
  createdPersonId?: string;
  /** An event this change marked corrected: the mark is taken off. */
  eventId?: string;
  /** Unknown faces this change took out of the list: put back. */
  unknowns?: UnknownFace[];
  /** A sample this change removed: added again from its kept crop (<dataDir>/undo/<id>.jpg). */
  removedSample?: { id: string; personId: string; embedding: number[]; modelId: string; quality: FaceQuality; source: SampleSource; negative: boolean };
  /** A rename: the name before. */
  renamedFrom?: { personId: string; name: string };
}

export interface ChangeEntry {
  id: string;
  time: string;
  kind: ChangeKind;
  /** What was done, in a sentence for the page. */
  summary: string;
  personId: string | null;
  /** When it was undone, or null. */
  undone: string | null;
  undo: UndoRecipe;
}

/** A change as the API shows it (without the undo recipe's embeddings): the event it corrected, if any. */
export type ChangeView = Omit<ChangeEntry, 'undo'> & { undoable: boolean; eventId: string | null };

type Line = { c: ChangeEntry } | { u: { id: string; time: string } };

export interface ChangeLogOptions {
  /** Most changes kept (default 200). */
  maxCount?: number;
  /** Longest a change stays undoable, ms (default 24 h). */
  maxAgeMs?: number;
  /** Where a write the disk refuses is reported (the appliance's storage health). */
  storage?: StorageReporter;
}

/** A journal line as read back: checked for the fields the log relies on; the undo recipe is kept as written. */
const lineSchema = z.union([
  z.object({
    c: z.object({
      id: z.string(),
      time: z.string(),
      kind: z.enum(CHANGE_KINDS),
      summary: z.string(),
      personId: z.string().nullable(),
      undone: z.string().nullable(),
      undo: z.object({}).loose(),
    }),
  }),
  z.object({ u: z.object({ id: z.string(), time: z.string() }) }),
]) as unknown as z.ZodType<Line>;

export class ChangeLog {
  private entries: ChangeEntry[] = [];
  private readonly journal: Journal<Line>;
  readonly undoDir: string;
  private readonly maxCount: number;
  private readonly maxAgeMs: number;

  constructor(dataDir: string, opts: ChangeLogOptions = {}) {
    this.maxCount = opts.maxCount ?? 200;
    this.maxAgeMs = opts.maxAgeMs ?? 24 * 3600_000;
    this.undoDir = path.join(dataDir, 'undo');
    this.journal = new Journal<Line>(
      path.join(dataDir, 'enrol-changes.jsonl'),
      { records: () => this.entries.map((c) => ({ c })), size: () => this.entries.length },
      lineSchema,
      'The enrolment change log',
      { storage: opts.storage },
    );
  }

  /** Reads the journal, drops what aged out, removes kept crops nobody needs. */
  async open(): Promise<void> {
    this.entries = [];
    await this.journal.open((line) => {
      if ('c' in line) this.entries.push(line.c);
      else {
        const e = this.entries.find((x) => x.id === line.u.id);
        if (e) e.undone = line.u.time;
      }
    });
    this.prune();
    await this.journal.compact();
    await mkdir(this.undoDir, { recursive: true });
    const kept = new Set(this.entries.map((e) => e.undo.removedSample && !e.undone && `${e.undo.removedSample.id}.jpg`).filter(Boolean));
    for (const name of await readdir(this.undoDir)) if (!kept.has(name)) await rm(path.join(this.undoDir, name), { force: true });
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  private prune(now = Date.now()): string[] {
    const gone: ChangeEntry[] = [];
    while (this.entries.length > this.maxCount) gone.push(this.entries.shift()!);
    while (this.entries.length && now - Date.parse(this.entries[0]!.time) > this.maxAgeMs) gone.push(this.entries.shift()!);
    return gone.map((e) => e.undo.removedSample?.id).filter((x): x is string => !!x);
  }

  /** Keeps a copy of a crop that a removal would delete (before the removal). */
  async keepCrop(sampleId: string, from: string): Promise<void> {
    await mkdir(this.undoDir, { recursive: true });
    await copyFile(from, this.keptCrop(sampleId));
  }

  keptCrop(sampleId: string): string {
    return path.join(this.undoDir, `${sampleId}.jpg`);
  }

  /** Records a change; returns it. */
  add(kind: ChangeKind, summary: string, personId: string | null, undo: UndoRecipe): ChangeEntry {
    const e: ChangeEntry = { id: randomUUID(), time: new Date().toISOString(), kind, summary, personId, undone: null, undo };
    this.entries.push(e);
    this.journal.append({ c: e });
    for (const id of this.prune()) void rm(this.keptCrop(id), { force: true });
    return e;
  }

  markUndone(id: string): void {
    const e = this.entries.find((x) => x.id === id);
    if (!e || e.undone) return;
    e.undone = new Date().toISOString();
    this.journal.append({ u: { id, time: e.undone } });
  }

  get(id: string): ChangeEntry | null {
    this.prune();
    return this.entries.find((x) => x.id === id) ?? null;
  }

  /** Newest first. */
  list(): ChangeEntry[] {
    this.prune();
    return this.entries.slice().reverse();
  }

  /** Writes what is queued now. */
  flush(): Promise<void> {
    return this.journal.flush();
  }
}

export const changeView = (e: ChangeEntry): ChangeView => {
  const { undo, ...rest } = e;
  return { ...rest, undoable: !e.undone && Object.keys(undo).length > 0, eventId: undo.eventId ?? null };
};
