/**
 * Last-writer-wins merge of replicated records (pure). The highest HLC version wins per (kind, id), a tombstone
 * included, so applying the same records in any order, any number of times, ends in the same state.
 */
import { compareHlc, parseHlc } from './hlc.js';
import type { SyncRecord } from './records.js';

export type MergeDecision = 'apply' | 'stale' | 'same';

/** Whether `incoming` replaces `current` (the record this appliance holds for the same kind and id, if any). */
export function decide(current: Pick<SyncRecord, 'version'> | undefined, incoming: Pick<SyncRecord, 'version'>): MergeDecision {
  if (!current) return 'apply';
  const a = parseHlc(current.version);
  const b = parseHlc(incoming.version);
  if (!b) return 'stale';
  if (!a) return 'apply';
  const c = compareHlc(b, a);
  return c > 0 ? 'apply' : c === 0 ? 'same' : 'stale';
}

/** A tombstone past its expiry: cleared from the broker and forgotten. */
export function expired(r: SyncRecord, nowMs: number): boolean {
  return r.deleted && r.expires <= nowMs;
}

/** Key of a record in the version table. */
export const recordKey = (kind: SyncRecord['kind'], id: string): string => `${kind}/${id}`;
