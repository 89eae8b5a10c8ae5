/**
 * LFW files some people under two names (another spelling, a nickname, a title, a full name). A "stranger" who is
 * really the enrolled person under the other name is not a false name, yet these few pairs are the strangers most
 * alike the galleries and decide the 1e-3 tail. Only pairs whose names denote the same person are listed (no pair
 * judged by its faces: twins, look-alikes and misfiled photos stay as they are); each is merged into one identity.
 */
export const LFW_SAME_PERSON: readonly (readonly [string, string])[] = [
  ['Hassan_Wirajuda', 'Hasan_Wirayuda'], // Indonesian foreign minister, two transliterations
  ['Chyung_Dai-chul', 'Dai_Chul_Chyung'], // Korean name in both orders
  ['Felipe_De_Borbon', 'Prince_Felipe'], // Felipe de Borbón, then Prince of Asturias
  ['Uday_Hussein', 'Odai_Hussein'], // two transliterations
  ['Sepp_Blatter', 'Joseph_Blatter'], // nickname and given name
  ['Nan_Wang', 'Wang_Nan'], // Chinese name in both orders
  ['Mireya_Moscoso', 'Mireya_Elisa_Moscoso_Rodriguez'], // short and full name
  ['Jon_Gruden', 'John_Gruden'], // two spellings
  ['Noer_Muis', 'Noer_Moeis'], // two spellings
  ['Yingfan_Wang', 'Wang_Yingfan'], // Chinese name in both orders
  ['Sung_Hong_Choi', 'Choi_Sung-hong'], // Korean name in both orders
];

/** `listed` (name → files, in name order) with each alias's files under the first name of its pair. */
export function mergeSamePerson(listed: readonly [string, string[]][]): { merged: [string, string[]][]; pairs: number } {
  const byName = new Map(listed.map(([n, f]) => [n, f]));
  const into = new Map<string, string>();
  let pairs = 0;
  for (const [a, b] of LFW_SAME_PERSON) {
    if (!byName.has(a) || !byName.has(b)) continue;
    into.set(b, a);
    pairs++;
  }
  const merged: [string, string[]][] = [];
  for (const [n, f] of listed) {
    if (into.has(n)) continue;
    const extra = [...into].filter(([, to]) => to === n).flatMap(([from]) => byName.get(from)!);
    merged.push([n, [...f, ...extra]]);
  }
  return { merged, pairs };
}
