/**
 * LFW files some people under two names (another spelling, a nickname, a title, a full name), and a few photos
 * under the wrong name. A "stranger" who is really the enrolled person under the other name is not a false name,
 * yet these few pairs are the strangers most alike the galleries and decide the 1e-3 tail. Listed: pairs whose
 * names denote the same person, and pairs found by an audit of the strangers most alike anyone (every stranger
 * face at 0.70 or more at N = everyone, src/eval/README.md) whose photos are plainly one person by eye. Twins,
 * look-alikes and pairs that are not certain stay strangers. Each pair is merged into one identity.
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
  // From the audit (cosine of the stranger face to the other name's photo):
  ['Martha_Bowen', 'Gabrielle_Rose'], // Gabrielle_Rose_0001 is the same photo as Martha_Bowen_0002 (0.98)
  ['Diana_Taurasi', 'Shavon_Earp'], // Shavon_Earp_0001 is Diana Taurasi, same face and game (0.79-0.87)
  ['John_Barnett', 'John_Burnett'], // one man, the surname spelt two ways (0.86-0.87)
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
