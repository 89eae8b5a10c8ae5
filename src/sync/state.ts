/**
 * What the sync remembers, in <dataDir>/sync-state.jsonl: the version of every record it has published or applied
 * (so nothing is applied twice and a local change gets a newer version), the keys still to publish (local changes
 * made while the broker was away), the time of the last exchange with the broker, and whether this appliance's key
 * opened none of the site's records at its last catch-up (what `facegate people list` shows).
 *
 * One line per change (store/journal.ts: written together within 200 ms, compacted when the file holds twice the
 * lines the state needs), so a rename costs a line, not the whole table. Every line is checked against its schema
 * on load. The older whole-file `sync-state.json` is imported once; a broken one (or a journal with broken lines) is
 * kept aside as `<name>.corrupt-<time>` and the sync rebuilds what it lacks from the broker and the facebank.
 */
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { Journal } from '../store/journal.js';
import { parseJsonLines } from '../store/json-lines.js';
import type { StorageReporter } from '../store/storage-health.js';
import { FacegateError } from '../util/errors.js';

/** `sum`: a digest of a person's name as last published or applied, so a rename the state missed (a crash between the facebank save and the state's write) is found at the next start. */
const entrySchema = z
  .object({ version: z.string().min(1), origin: z.string().min(1), deleted: z.boolean(), expires: z.number().optional(), sum: z.string().optional() })
  .strict();
const mismatchSchema = z.object({ unreadable: z.number().int().nonnegative(), since: z.string() }).strict();
/** The older whole-file format (sync-state.json). */
const legacySchema = z.object({
  records: z.record(z.string(), entrySchema),
  pending: z.array(z.string()),
  lastSync: z.string().nullable(),
  keyMismatch: mismatchSchema.optional(),
});
/** One journal line: a record's entry (null: forgotten) and whether it waits to be published, or a setting. */
const lineSchema = z.union([
  z.object({ k: z.string().min(1), e: entrySchema.nullable(), p: z.literal(true).optional() }).strict(),
  z.object({ lastSync: z.string().nullable() }).strict(),
  z.object({ keyMismatch: mismatchSchema.nullable() }).strict(),
]);
export type SyncEntry = z.infer<typeof entrySchema>;
export type KeyMismatch = z.infer<typeof mismatchSchema>;
type Line = z.infer<typeof lineSchema>;

export const syncStateFile = (dataDir: string): string => path.join(dataDir, 'sync-state.jsonl');
export const legacySyncStateFile = (dataDir: string): string => path.join(dataDir, 'sync-state.json');

/** The state as read (what the CLI shows, and what SyncState starts from). */
export interface SyncStateView {
  records: Map<string, SyncEntry>;
  pending: Set<string>;
  lastSync: string | null;
  keyMismatch: KeyMismatch | null;
}

const emptyView = (): SyncStateView => ({ records: new Map(), pending: new Set(), lastSync: null, keyMismatch: null });

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Replays journal lines; returns how many did not match the schema (a torn last line is not counted: parseJsonLines drops it). */
function replay(view: SyncStateView, text: string): { bad: number; firstProblem: string | null } {
  let bad = 0;
  let firstProblem: string | null = null;
  // Lines that do not parse, apart from a torn last one, count as broken too.
  const parsed = parseJsonLines<unknown>(text);
  bad += parsed.bad;
  if (bad) firstProblem = 'a line is not JSON';
  for (const r of parsed.records) {
    const p = lineSchema.safeParse(r);
    if (!p.success) {
      bad++;
      firstProblem ??= `a line breaks the schema (${p.error.issues[0]?.message ?? 'unknown'})`;
      continue;
    }
    apply(view, p.data);
  }
  return { bad, firstProblem };
}

function apply(view: SyncStateView, line: Line): void {
  if ('k' in line) {
    if (line.e) view.records.set(line.k, line.e);
    else view.records.delete(line.k);
    if (line.p) view.pending.add(line.k);
    else view.pending.delete(line.k);
  } else if ('lastSync' in line) view.lastSync = line.lastSync;
  else view.keyMismatch = line.keyMismatch;
}

/** The older whole file, or why it cannot be used. */
function parseLegacy(text: string): { view: SyncStateView } | { broken: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { broken: `it is not JSON (${(e as Error).message})` };
  }
  const r = legacySchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    return { broken: `it breaks the schema${first ? ` at ${first.path.join('.') || 'the top'}: ${first.message}` : ''}` };
  }
  return {
    view: {
      records: new Map(Object.entries(r.data.records)),
      pending: new Set(r.data.pending),
      lastSync: r.data.lastSync,
      keyMismatch: r.data.keyMismatch ?? null,
    },
  };
}

/** Reads the state without changing any file (the CLI); broken files or lines are an error naming the file. */
export async function readSyncState(dataDir: string): Promise<SyncStateView | null> {
  const file = syncStateFile(dataDir);
  const text = await readText(file);
  if (text !== null) {
    const view = emptyView();
    const { bad, firstProblem } = replay(view, text);
    if (bad)
      throw new FacegateError(
        'sync_state',
        `The sync state ${file} cannot be used: ${firstProblem}; the appliance keeps it aside and resyncs at its next start.`,
      );
    return view;
  }
  const legacy = legacySyncStateFile(dataDir);
  const old = await readText(legacy);
  if (old === null) return null;
  const r = parseLegacy(old);
  if ('broken' in r)
    throw new FacegateError('sync_state', `The sync state ${legacy} cannot be used: ${r.broken}; the appliance keeps it aside and resyncs at its next start.`);
  return r.view;
}

const asideName = (file: string) => `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;

/** The sync's state, kept in memory and journalled one line per change. */
export class SyncState {
  private journal: Journal<Line> | null = null;
  /** The last exchange as last journalled (it changes with every record: written at most once a second, and at flush). */
  private journalledLastSync: string | null = null;

  private constructor(
    private readonly dataDir: string,
    private readonly view: SyncStateView,
    private readonly storage: StorageReporter | undefined,
  ) {}

  /**
   * Loads the state at the sync's start. A broken file is kept aside (renamed, or copied when only some lines are
   * broken) and what is left used; `setAside` then says where it went and why.
   */
  static async open(
    dataDir: string,
    /** A background write failed (e.g. disk full); the journal rewrites the whole state at its next write. */
    storage?: StorageReporter,
  ): Promise<{ state: SyncState; setAside?: { file: string; reason: string } }> {
    const file = syncStateFile(dataDir);
    const text = await readText(file);
    const view = emptyView();
    let setAside: { file: string; reason: string } | undefined;
    let compact = false;
    if (text !== null) {
      const { bad, firstProblem } = replay(view, text);
      if (bad) {
        // Moved aside (the journal then starts from the good lines kept in the view, written by the compaction).
        const aside = asideName(file);
        await rename(file, aside);
        setAside = { file: aside, reason: `${bad} broken line(s): ${firstProblem}` };
        compact = true;
      }
    } else {
      const legacy = legacySyncStateFile(dataDir);
      const old = await readText(legacy);
      if (old !== null) {
        const r = parseLegacy(old);
        const aside = 'broken' in r ? asideName(legacy) : `${legacy}.imported`;
        if ('broken' in r) setAside = { file: aside, reason: r.broken };
        else Object.assign(view, r.view);
        // The journal is written before the old file goes, so a crash here imports it again.
        const state = new SyncState(dataDir, view, storage);
        await state.openJournal(true);
        await rename(legacy, aside);
        return { state, ...(setAside ? { setAside } : {}) };
      }
    }
    const state = new SyncState(dataDir, view, storage);
    await state.openJournal(compact);
    return { state, ...(setAside ? { setAside } : {}) };
  }

  private async openJournal(compact: boolean): Promise<void> {
    this.journal = new Journal<Line>(
      syncStateFile(this.dataDir),
      { records: () => this.lines(), size: () => this.view.records.size + 2 },
      lineSchema,
      'The sync state',
      { flushMs: 200, storage: this.storage },
    );
    // Counts the lines already there (for compaction); the view was built from them above.
    await this.journal.open(() => {});
    if (compact) await this.journal.compact();
  }

  /** Every line the current state needs (what a compaction writes). */
  private lines(): Line[] {
    const out: Line[] = [{ lastSync: this.view.lastSync }, { keyMismatch: this.view.keyMismatch }];
    for (const [k, e] of this.view.records) out.push(this.pending.has(k) ? { k, e, p: true } : { k, e });
    for (const k of this.view.pending) if (!this.view.records.has(k)) out.push({ k, e: null, p: true });
    return out;
  }

  get records(): ReadonlyMap<string, SyncEntry> {
    return this.view.records;
  }

  get pending(): ReadonlySet<string> {
    return this.view.pending;
  }

  get lastSync(): string | null {
    return this.view.lastSync;
  }

  get keyMismatch(): KeyMismatch | null {
    return this.view.keyMismatch;
  }

  entry(key: string): SyncEntry | undefined {
    return this.view.records.get(key);
  }

  /** Sets (or, with undefined, forgets) a record's entry, and whether it waits to be published (default: as it was). */
  set(key: string, e: SyncEntry | undefined, pending = this.view.pending.has(key)): void {
    if (e) this.view.records.set(key, e);
    else this.view.records.delete(key);
    if (pending) this.view.pending.add(key);
    else this.view.pending.delete(key);
    this.journal?.append(pending ? { k: key, e: e ?? null, p: true } : { k: key, e: e ?? null });
  }

  /** Marks a record as waiting to be published, or as published. */
  setPending(key: string, pending: boolean): void {
    if (this.view.pending.has(key) === pending) return;
    this.set(key, this.view.records.get(key), pending);
  }

  setLastSync(time: string): void {
    this.view.lastSync = time;
    if (this.journalledLastSync !== null && Date.parse(time) - Date.parse(this.journalledLastSync) < 1000) return;
    this.journalledLastSync = time;
    this.journal?.append({ lastSync: time });
  }

  setKeyMismatch(m: KeyMismatch | null): void {
    if (m === null && this.view.keyMismatch === null) return;
    this.view.keyMismatch = m;
    this.journal?.append({ keyMismatch: m });
  }

  /** Writes what is queued now. */
  flush(): Promise<void> {
    if (this.view.lastSync !== this.journalledLastSync) {
      this.journalledLastSync = this.view.lastSync;
      this.journal?.append({ lastSync: this.view.lastSync });
    }
    return this.journal?.flush() ?? Promise.resolve();
  }
}
