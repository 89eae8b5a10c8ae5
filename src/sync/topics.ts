/** Topic layout of facebank sync (pure): `<prefix>/facebank/<kind>/<id>`, one retained message per record. */
import type { RecordKind } from './records.js';

export const syncTopic = (prefix: string, kind: RecordKind, id: string): string => `${prefix}/facebank/${kind}/${id}`;

export const syncFilter = (prefix: string): string => `${prefix}/facebank/+/+`;

export function parseSyncTopic(prefix: string, topic: string): { kind: RecordKind; id: string } | null {
  const head = `${prefix}/facebank/`;
  if (!topic.startsWith(head)) return null;
  const [kind, id, ...rest] = topic.slice(head.length).split('/');
  if (rest.length || !id || (kind !== 'person' && kind !== 'sample')) return null;
  return { kind, id };
}

/** Where an appliance sends the probe that tells it the retained records have all arrived (matched by syncFilter, not a record). */
export const probeTopic = (prefix: string, applianceId: string): string => `${prefix}/facebank/probe/${applianceId}`;
