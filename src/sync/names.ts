/**
 * Names across appliances (pure apart from node:crypto's hash). Two boxes may each create a different person with
 * the same name while they cannot see each other; both people are kept (they may be two people, and merging faces
 * cannot be undone), and the one who took the name last is renamed `<name> (<appliance>)` by the appliance that
 * gave it that name, so exactly one box acts and every box ends with the same, distinct names.
 */
import { createHash } from 'node:crypto';
import { NAME_MAX, nameKey } from '../store/names.js';
import { compareHlc, parseHlc } from './hlc.js';

/** Digest of a name as published or applied (kept in the sync state to find renames it missed). */
export const nameSum = (name: string): string => createHash('sha256').update(name).digest('base64url').slice(0, 16);

export interface NameHolder {
  id: string;
  name: string;
  /** HLC text of the person record's last change (create or rename); undefined: never synced. */
  version: string | undefined;
}

/** Oldest first: unversioned, then by version, then by id. */
function byVersion(a: NameHolder, b: NameHolder): number {
  const x = a.version ? parseHlc(a.version) : null;
  const y = b.version ? parseHlc(b.version) : null;
  if (!x || !y) return x ? 1 : y ? -1 : a.id < b.id ? -1 : 1;
  return compareHlc(x, y) || (a.id < b.id ? -1 : 1);
}

/** The people who must give up their name: in every group sharing a name, all but the one who took it first. */
export function nameClashes(people: readonly NameHolder[]): NameHolder[] {
  const groups = new Map<string, NameHolder[]>();
  for (const p of people) groups.set(nameKey(p.name), [...(groups.get(nameKey(p.name)) ?? []), p]);
  return [...groups.values()].filter((g) => g.length > 1).flatMap((g) => g.sort(byVersion).slice(1));
}

/** `<name> (<appliance>)`, or `(<appliance> <n>)` for the n-th try; the name is cut to keep within NAME_MAX. */
export function suffixedName(name: string, appliance: string, n = 1): string {
  const tail = n > 1 ? ` (${appliance} ${n})` : ` (${appliance})`;
  const room = Math.max(1, NAME_MAX - [...tail].length);
  return [...name].slice(0, room).join('').trimEnd() + [...tail].slice(0, NAME_MAX - 1).join('');
}
