/**
 * The facebank's one owner: the only module that creates, renames and removes people and adds, moves or removes
 * samples. Photo uploads, live capture, event corrections, naming an unknown group, the Faces gallery, the CLI,
 * re-embedding and records from other appliances all come here, and one policy applies to all of them:
 * - a face is checked against everyone else at the live operating point (point.ts); a face closer to another
 *   person than to the one it is added to is left out, with who and how alike, unless the caller forces it;
 * - a face that is already one of the person's photos is not stored twice; a corrected event stays corrected (a
 *   repeat answers what was done). Every action runs alone, one after another, so concurrent calls cannot race;
 * - a person created for an action exists only if the action stored something; a snapshot that is gone refuses
 *   the action (never a placeholder picture);
 * - one name rule (store/names.ts) for every path, replicated records included;
 * - every change is in the change log (changes.ts) and can be undone for a while.
 */
import { rm } from 'node:fs/promises';
import type { Facebank } from '../store/facebank.js';
import type { StoredEvent } from '../store/events.js';
import type { UnknownFace } from '../store/unknowns.js';
import type { Person, RecordOp, Sample, SampleSource } from '../store/types.js';
import { nameTakenMessage, normalizeName, sameNameAs, sameSpelling } from '../store/names.js';
import { decodeCrop } from '../store/crops.js';
import type { ReembedResult } from '../store/reembed.js';
import { FacegateError, type ErrorCode } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { FaceQuality, RgbImage } from '../vision/types.js';
import { ChangeLog, changeView, type ChangeKind, type ChangeLogOptions, type ChangeView, type UndoRecipe } from './changes.js';
import { judgeEnrolment, type Resemblance } from './likeness.js';
import { embedForFacebank, withMirrors, type EmbedAligned } from './mirror.js';
import { OperatingPointSource, type EmbedderFacts, type ExplainedPoint } from './point.js';
import type { MatchConfig } from '../config/schema.js';
import { Bus } from '../events/bus.js';
import { LiveMatcher } from '../match/live.js';

type MaybePromise<T> = T | Promise<T>;

/** A refusal that carries details for the caller (who the face looks like, what was done before). */
export class EnrolRefusal extends FacegateError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly detail: Record<string, unknown>,
  ) {
    super(code, message);
  }
}

export interface EventsPort {
  get(id: string): { event: StoredEvent; embedding: Float32Array | null } | null;
  markCorrected(id: string, kind: 'reassigned' | 'not-person', personId: string): void;
  unmarkCorrected(id: string): void;
}

export interface UnknownsPort {
  list(): UnknownFace[];
  remove(ids: string[]): void;
  restore(faces: UnknownFace[]): void;
}

export interface EnrolmentDeps {
  dataDir: string;
  facebank: Facebank;
  bus?: Bus;
  log?: Logger;
  match: MatchConfig;
  /**
   * The running embedder (throws while the engine is not started). With `embedAligned`, every face stored is
   * averaged with its mirror image (mirror.ts); without it (a facts-only test double), faces are stored as given.
   */
  embedder: () => EmbedderFacts & { embedAligned?: EmbedAligned };
  /** The event history and unknown faces, when they run (not in a CLI job). */
  stores?: () => { events: EventsPort; unknowns: UnknownsPort } | null;
  snapshots?: { path(id: string): MaybePromise<string | null> };
  changes?: ChangeLogOptions;
}

/** A face to add: its embedding (any scale), quality and aligned crop. */
export interface FaceIn {
  embedding: ArrayLike<number>;
  quality: FaceQuality;
  crop: RgbImage;
}

/** Who faces go to: an enrolled person, or a name (created when something is stored). */
export type Target = { personId: string } | { name: unknown; ifExists?: 'refuse' | 'add' };

export interface FaceResult {
  index: number;
  status: 'added' | 'duplicate' | 'looks_like_other' | 'snapshot_gone';
  sampleId?: string;
  message?: string;
  /** For looks_like_other: who the face is more like, and how alike. */
  match?: Resemblance;
}

export interface AddOutcome {
  person: Person | null;
  created: boolean;
  results: FaceResult[];
  change: ChangeView | null;
}

export interface CorrectionOutcome {
  /** True when the event was corrected this way before: nothing was added now. */
  already: boolean;
  correction: { kind: 'reassigned' | 'not-person'; personId: string };
  sampleId: string | null;
  change: ChangeView | null;
}

export interface GroupOutcome extends AddOutcome {
  already: boolean;
  /** Faces left in the unknown list (they look like someone else, or their picture is gone). */
  leftOut: FaceResult[];
}

interface AddOptions {
  source: SampleSource;
  force?: boolean;
  negative?: boolean;
  /** People not counted as look-alikes (the person an event wrongly named). */
  ignore?: ReadonlySet<string>;
}

const toFloat32 = (e: ArrayLike<number>) => (e instanceof Float32Array ? e : Float32Array.from(e));

export class Enrolment {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: ChangeLog;
  readonly point: OperatingPointSource;
  private live: LiveMatcher | null = null;

  constructor(private readonly deps: EnrolmentDeps) {
    this.log = new ChangeLog(deps.dataDir, deps.changes);
    this.point = new OperatingPointSource(deps.facebank, deps.match, deps.embedder, () => this.matcher());
  }

  /**
   * The one scoring index over the facebank (built on first use for the running embedder, then following every
   * change): the pipeline names faces with it, and the look-alike checks, capture hints and the operating point ask it.
   */
  matcher(): LiveMatcher {
    const e = this.deps.embedder();
    const l = this.live;
    if (l && l.modelId === e.embedderId && l.oneToOne === e.defaultThreshold && l.detectorModelId === e.detectorId) return l;
    l?.close();
    // Without the appliance's bus (a test), the index sees the facebank's seq move and rebuilds.
    return (this.live = new LiveMatcher(this.fb, this.deps.bus ?? new Bus(), e.embedderId, this.deps.match, e.defaultThreshold, e.detectorId));
  }

  /**
   * Each enrolled person's best similarity to a face (their positive samples, or with `negative` their negative
   * ones), best first: the `top` most alike and the people in `also`.
   */
  async resemblances(embedding: ArrayLike<number>, opts: { negative?: boolean; top: number; also?: readonly string[] }): Promise<Resemblance[]> {
    const m = await this.matcher().current();
    return m.resemblances(embedding, opts).map((r) => ({ personId: r.person.id, name: r.person.name, similarity: r.similarity }));
  }

  /** Reads the change log. */
  open(): Promise<void> {
    return this.log.open();
  }

  /** Waits for the running action and writes the change log. */
  async close(): Promise<void> {
    await this.queue.catch(() => {});
    await this.log.close();
    this.live?.close();
    this.live = null;
  }

  /** Runs fn after every earlier action, alone. */
  private alone<R>(fn: () => Promise<R>): Promise<R> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => {});
    return p;
  }

  private get fb(): Facebank {
    return this.deps.facebank;
  }

  private stores() {
    const s = this.deps.stores?.() ?? null;
    if (!s) throw new FacegateError('not_found', 'The event history is not running here; correct events from the running appliance.');
    return s;
  }

  // ---- reading (the facebank as it is) ----

  people(): Promise<Person[]> {
    return this.fb.people();
  }

  person(id: string): Promise<Person | null> {
    return this.fb.person(id);
  }

  /** The person whose name is the same name as `name` (store/names.ts), or null. */
  findByName(name: string): Promise<Person | null> {
    return this.nameHolder(name);
  }

  samples(personId?: string): Promise<Sample[]> {
    return this.fb.samples(personId);
  }

  /** Where the aligned JPEG crop of a sample is kept. */
  cropPath(sampleId: string): string {
    return this.fb.cropPath(sampleId);
  }

  // ---- people ----

  /**
   * The person (other than `except`) whose name is the same name as `name`, if any: the store's name index answers
   * (it keys names by the same nameKey); only when that is `except` are the others read (two replicated people may
   * share a name until the sync renames one).
   */
  private async nameHolder(name: string, except?: string): Promise<Person | null> {
    const indexed = await this.fb.findByName(name);
    if (!indexed || indexed.id !== except) return indexed;
    return sameNameAs(name, await this.fb.people(), except);
  }

  private async freeName(input: unknown, except?: string): Promise<string> {
    const name = normalizeName(input);
    const holder = await this.nameHolder(name, except);
    if (holder) throw new EnrolRefusal('duplicate_name', nameTakenMessage(name, holder), { personId: holder.id, name: holder.name });
    return name;
  }

  createPerson(name: unknown): Promise<Person> {
    return this.alone(async () => this.fb.createPerson(await this.freeName(name)));
  }

  /** Renames a person (also the sync's port); the old name is kept for Undo. */
  renamePerson(id: string, name: unknown): Promise<Person> {
    return this.alone(async () => {
      const before = await this.mustPerson(id);
      const after = await this.fb.renamePerson(id, await this.freeName(name, id));
      if (after.name !== before.name)
        this.log.add('rename', `Renamed ${before.name} to ${after.name}.`, id, { renamedFrom: { personId: id, name: before.name } });
      return after;
    });
  }

  deletePerson(id: string): Promise<Person> {
    return this.alone(async () => {
      const p = await this.mustPerson(id);
      await this.fb.deletePerson(id);
      return p;
    });
  }

  private async mustPerson(id: string): Promise<Person> {
    const p = await this.fb.person(id);
    if (!p) throw new FacegateError('not_found', 'There is no such person.');
    return p;
  }

  // ---- samples ----

  /**
   * Adds faces to a person, each checked on its own: duplicates and look-alikes are left out and listed. A new
   * person is created at the first face stored; if storing fails, what this call stored is taken back.
   */
  private async addChecked(
    target: Target,
    faces: readonly FaceIn[],
    opts: AddOptions,
  ): Promise<{ person: Person | null; created: boolean; results: FaceResult[] }> {
    let person: Person | null;
    let name = '';
    if ('personId' in target) person = await this.mustPerson(target.personId);
    else {
      name = normalizeName(target.name);
      person = await this.nameHolder(name);
      if (person && (target.ifExists !== 'add' || !sameSpelling(name, person.name)))
        throw new EnrolRefusal('duplicate_name', nameTakenMessage(name, person), { personId: person.id, name: person.name });
    }
    const embedder = this.deps.embedder();
    const modelId = embedder.embedderId;
    if (embedder.embedAligned) faces = await withMirrors(faces, embedder.embedAligned);
    const { threshold } = await this.point.current();
    let created = false;
    const added: string[] = [];
    const results: FaceResult[] = [];
    try {
      for (const [index, f] of faces.entries()) {
        const me = person ?? { id: '', name };
        // The verdict reads this person and the most alike other not ruled out: no need to rank everyone.
        const found = await this.resemblances(f.embedding, { negative: opts.negative === true, top: (opts.ignore?.size ?? 0) + 2, also: [me.id] });
        const v = opts.negative
          ? (found.find((r) => r.personId === me.id)?.similarity ?? 0) >= 0.995
            ? { kind: 'duplicate' as const, message: `This face is already marked as not ${me.name}.` }
            : { kind: 'ok' as const }
          : judgeEnrolment(me, found, threshold, opts.ignore);
        if (v.kind === 'duplicate') {
          results.push({ index, status: 'duplicate', message: v.message });
          continue;
        }
        if (v.kind === 'looks_like_other' && !opts.force) {
          results.push({ index, status: 'looks_like_other', message: v.message, match: v.match });
          continue;
        }
        if (!person) {
          person = await this.fb.createPerson(name);
          created = true;
        }
        const s = await this.fb.addSample(person.id, {
          embedding: toFloat32(f.embedding),
          modelId,
          quality: f.quality,
          source: opts.source,
          crop: f.crop,
          negative: opts.negative === true,
        });
        added.push(s.id);
        results.push({ index, status: 'added', sampleId: s.id });
      }
    } catch (e) {
      await this.takeBack(added, created ? person?.id : undefined);
      throw e;
    }
    return { person, created, results };
  }

  private async takeBack(sampleIds: readonly string[], personId?: string): Promise<void> {
    try {
      if (personId) await this.fb.deletePerson(personId);
      else for (const id of sampleIds) await this.fb.deleteSample(id);
    } catch (e) {
      this.deps.log?.error({ err: (e as Error).message }, 'enrolment: could not take back a failed action');
    }
  }

  private record(kind: ChangeKind, summary: string, personId: string | null, undo: UndoRecipe): ChangeView {
    return changeView(this.log.add(kind, summary, personId, undo));
  }

  /** Photos or captured faces of a person (or of a new person by name): `source` says which path. */
  addFaces(target: Target, faces: readonly FaceIn[], opts: { source: SampleSource; force?: boolean }): Promise<AddOutcome> {
    return this.alone(async () => {
      const out = await this.addChecked(target, faces, opts);
      const ids = out.results.flatMap((r) => (r.sampleId ? [r.sampleId] : []));
      const change =
        ids.length && out.person
          ? this.record(
              opts.source === 'camera' ? 'capture' : 'photo',
              `Added ${ids.length === 1 ? 'a photo' : `${ids.length} photos`} to ${out.person.name}.`,
              out.person.id,
              {
                sampleIds: ids,
                ...(out.created ? { createdPersonId: out.person.id } : {}),
              },
            )
          : null;
      return { ...out, change };
    });
  }

  /** Removes one sample; its crop is kept for Undo. */
  deleteSample(id: string): Promise<ChangeView> {
    return this.alone(async () => {
      const s = (await this.fb.samples()).find((x) => x.id === id);
      if (!s) throw new FacegateError('not_found', 'There is no such sample.');
      const p = await this.fb.person(s.personId);
      await this.log.keepCrop(s.id, this.fb.cropPath(s.id));
      await this.fb.deleteSample(id);
      const { id: sid, personId, modelId, quality, source, negative } = s;
      return this.record('remove-sample', `Removed a photo of ${p?.name ?? 'someone'}.`, personId, {
        removedSample: { id: sid, personId, embedding: Array.from(s.embedding), modelId, quality: { ...quality }, source, negative },
      });
    });
  }

  // ---- corrections ----

  private async snapshotCrop(id: string | null): Promise<RgbImage> {
    const file = id ? await this.deps.snapshots?.path(id) : null;
    if (file) {
      try {
        return await decodeCrop(file);
      } catch {
        /* gone or unreadable: refused below */
      }
    }
    throw new FacegateError('snapshot_gone', 'The picture of this face is gone (snapshots are kept for a week), so it cannot be learned from.');
  }

  /**
   * "Wrong person → this is X" or "not this person" on an event. Done once: a repeat (or a concurrent call) adds
   * nothing and answers what was done; a different correction of a corrected event is refused until it is undone.
   */
  correctEvent(eventId: string, req: { kind: 'reassigned'; personId: string } | { kind: 'not-person' }, force = false): Promise<CorrectionOutcome> {
    return this.alone(async () => {
      const { events } = this.stores();
      const x = events.get(eventId);
      if (!x) throw new FacegateError('not_found', 'There is no such event (it may have aged out).');
      const { event, embedding } = x;
      const wanted = req.kind === 'reassigned' ? req.personId : event.person?.id;
      if (event.correction) {
        const c = event.correction;
        if (c.kind === req.kind && c.personId === wanted)
          return { already: true, correction: { kind: c.kind, personId: c.personId }, sampleId: null, change: null };
        const who = (await this.fb.person(c.personId))?.name ?? 'someone';
        throw new EnrolRefusal('conflict', `This event was already ${c.kind === 'reassigned' ? `given to ${who}` : `marked as not ${who}`}; undo that first.`, {
          correction: c,
        });
      }
      if (!embedding) throw new FacegateError('no_embedding', 'This event kept no face to learn from.');
      if (req.kind === 'not-person' && !event.person) throw new FacegateError('no_person', 'This event named nobody; there is nothing to undo.');
      const person = await this.fb.person(wanted!);
      if (!person) throw new FacegateError('not_found', req.kind === 'reassigned' ? 'There is no such person.' : 'The person of this event no longer exists.');
      const crop = await this.snapshotCrop(event.snapshot);
      const ignore = new Set(event.person ? [event.person.id] : []);
      const out = await this.addChecked({ personId: person.id }, [{ embedding, quality: event.quality, crop }], {
        source: 'event',
        force,
        negative: req.kind === 'not-person',
        ignore,
      });
      const r = out.results[0]!;
      if (r.status === 'looks_like_other') throw new EnrolRefusal('looks_like_other', r.message!, { match: r.match });
      events.markCorrected(event.id, req.kind, person.id);
      this.deps.bus?.emit('correction', { camera: event.camera, track: event.track, kind: req.kind, person: { id: person.id, name: person.name } });
      const summary =
        req.kind === 'reassigned'
          ? `Gave a face seen by the ${event.camera} camera to ${person.name}.`
          : `Marked a face seen by the ${event.camera} camera as not ${person.name}.`;
      const change = this.record(req.kind === 'reassigned' ? 'reassign' : 'not-person', summary, person.id, {
        eventId: event.id,
        ...(r.sampleId ? { sampleIds: [r.sampleId] } : {}),
      });
      return { already: false, correction: { kind: req.kind, personId: person.id }, sampleId: r.sampleId ?? null, change };
    });
  }

  // ---- unknown faces ----

  /**
   * Names a group of unknown faces (all of `memberIds`). Each face is checked on its own; the faces that look like
   * someone else (or whose picture is gone) stay in the unknown list and are listed. A group named before answers
   * what was done.
   */
  nameGroup(memberIds: readonly string[], target: Target, force = false): Promise<GroupOutcome> {
    return this.alone(async () => {
      const { unknowns } = this.stores();
      const before = this.log.list().find((c) => c.kind === 'name-group' && !c.undone && c.undo.unknowns?.some((u) => memberIds.includes(u.id)));
      const all = unknowns.list();
      const members = memberIds.map((id) => all.find((f) => f.id === id));
      if (members.some((m) => !m)) {
        if (before) {
          const person = before.personId ? await this.fb.person(before.personId) : null;
          return { already: true, person, created: false, results: [], leftOut: [], change: changeView(before) };
        }
        throw new FacegateError('members_gone', 'Some of the chosen faces are no longer in this group; reload.');
      }
      const faces: (FaceIn & { member: UnknownFace })[] = [];
      const gone: FaceResult[] = [];
      for (const [index, m] of (members as UnknownFace[]).entries()) {
        try {
          faces.push({ embedding: m.embedding, quality: m.quality, crop: await this.snapshotCrop(m.snapshot), member: m });
        } catch (e) {
          gone.push({ index, status: 'snapshot_gone', message: (e as Error).message });
        }
      }
      if (!faces.length) throw new FacegateError('snapshot_gone', 'The pictures of these faces are gone, so they cannot be learned from.');
      const out = await this.addChecked(target, faces, { source: 'unknown', force });
      const leftOut = [...gone, ...out.results.filter((r) => r.status === 'looks_like_other')];
      const taken = out.results.filter((r) => r.status === 'added' || r.status === 'duplicate').map((r) => faces[r.index]!.member);
      if (!out.person || !taken.length) {
        const first = leftOut.find((r) => r.match);
        throw new EnrolRefusal(
          'looks_like_other',
          first
            ? `These faces look like ${first.match!.name}, who is already enrolled; nothing was added. Name them ${first.match!.name}, or add them anyway.`
            : 'None of these faces could be added.',
          { leftOut },
        );
      }
      unknowns.remove(taken.map((m) => m.id));
      const ids = out.results.flatMap((r) => (r.sampleId ? [r.sampleId] : []));
      const change = this.record(
        'name-group',
        `Named ${taken.length === 1 ? 'an unknown face' : `${taken.length} unknown faces`} ${out.person.name}.`,
        out.person.id,
        {
          sampleIds: ids,
          unknowns: taken,
          ...(out.created ? { createdPersonId: out.person.id } : {}),
        },
      );
      const results = out.results.map((r) => ({ ...r, index: memberIds.indexOf(faces[r.index]!.member.id) }));
      return { already: false, person: out.person, created: out.created, results, leftOut, change };
    });
  }

  /** Forgets a group of unknown faces (they come back with Undo). */
  dismissGroup(memberIds: readonly string[]): Promise<ChangeView> {
    return this.alone(async () => {
      const { unknowns } = this.stores();
      const ids = new Set(memberIds);
      const faces = unknowns.list().filter((f) => ids.has(f.id));
      if (!faces.length) throw new FacegateError('not_found', 'That group of unknown faces is gone; reload.');
      unknowns.remove(faces.map((f) => f.id));
      return this.record('dismiss', `Dismissed ${faces.length === 1 ? 'an unknown face' : `${faces.length} unknown faces`}.`, null, { unknowns: faces });
    });
  }

  // ---- the change log ----

  changes(): ChangeView[] {
    return this.log.list().map(changeView);
  }

  /** Undoes a change: what it added is removed, what it removed comes back, a corrected event is unmarked. */
  undo(changeId: string): Promise<ChangeView> {
    return this.alone(async () => {
      const c = this.log.get(changeId);
      if (!c) throw new FacegateError('not_found', 'There is no such change (changes can be undone for a day).');
      if (c.undone) throw new FacegateError('cannot_undo', 'This change was undone already.');
      const u = c.undo;
      if (u.renamedFrom) {
        const holder = await this.nameHolder(u.renamedFrom.name, u.renamedFrom.personId);
        if (holder) throw new FacegateError('cannot_undo', `${holder.name} has that name now; rename them first.`);
        await this.fb.renamePerson(u.renamedFrom.personId, u.renamedFrom.name);
      }
      const have = new Set((await this.fb.samples()).map((s) => s.id));
      for (const id of u.sampleIds ?? []) if (have.has(id)) await this.fb.deleteSample(id);
      if (u.createdPersonId && (await this.fb.person(u.createdPersonId)) && !(await this.fb.samples(u.createdPersonId)).length)
        await this.fb.deletePerson(u.createdPersonId);
      if (u.eventId) this.deps.stores?.()?.events.unmarkCorrected(u.eventId);
      if (u.unknowns?.length) this.stores().unknowns.restore(u.unknowns);
      if (u.removedSample) {
        const r = u.removedSample;
        if (!(await this.fb.person(r.personId))) throw new FacegateError('cannot_undo', 'The person of that photo was removed since.');
        const file = this.log.keptCrop(r.id);
        const crop = await decodeCrop(file).catch(() => {
          throw new FacegateError('cannot_undo', 'The kept copy of that photo is gone.');
        });
        await this.fb.addSample(r.personId, { embedding: r.embedding, modelId: r.modelId, quality: r.quality, source: r.source, crop, negative: r.negative });
        await rm(file, { force: true });
      }
      this.log.markUndone(c.id);
      return changeView(c);
    });
  }

  // ---- other writers ----

  /** Re-embeds every sample of another model from its crop (the engine unit, after the models load). */
  reembed(modelId: string, embedAligned: (crops: RgbImage[]) => Promise<Float32Array[]>): Promise<ReembedResult> {
    return this.alone(() => this.fb.reembed(modelId, (crops) => embedForFacebank(crops, embedAligned)));
  }

  /**
   * Records from another appliance (the sync's port). Names follow the one rule: an invalid name is replaced by a
   * readable one, and a name that is the same name as another person's is kept as it is for now, so every box
   * converges: the sync renames the later of the two `<name> (<appliance>)` (sync/names.ts groups by nameKey).
   */
  applyRemote(ops: readonly RecordOp[]): Promise<{ orphans: string[] }> {
    return this.alone(() =>
      this.fb.applyBatch(
        ops.map((o) => {
          if (o.op !== 'person') return o;
          let name: string;
          try {
            name = normalizeName(o.person.name);
          } catch {
            name = `Person ${o.person.id.slice(0, 8)}`;
            this.deps.log?.warn({ person: o.person.id }, 'a replicated person had a name the rule refuses; kept under a readable name');
          }
          return { op: 'person', person: { ...o.person, name } };
        }),
      ),
    );
  }

  /** The current operating point, explained. */
  operatingPoint(): Promise<ExplainedPoint> {
    return this.point.current();
  }
}
