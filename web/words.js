// Plain words for numbers: face quality, match strength, event kinds (against the server's `settings`).

/** good / fair / poor from size and sharpness against the quality gate; the numbers go in the tooltip. */
export function qualityWord(q, settings) {
  const { minSize, minBlur } = settings.quality;
  const size = q?.size ?? 0;
  const blur = q?.blur ?? 0;
  const word = size >= 2 * minSize && blur >= 3 * minBlur ? 'good' : size >= minSize && blur >= minBlur ? 'fair' : 'poor';
  return { word, title: `sharpness ${Math.round(blur)} (at least ${minBlur} needed), face ${Math.round(size)} px (at least ${minSize})` };
}

/**
 * How sure a match is, against the threshold in use (the live operating point); the number stays visible for those
 * who want it. A face the matcher left unknown is never called a match, whatever its similarity.
 * @param {number | null | undefined} similarity
 * @param {number} threshold
 * @param {boolean} [named] whether the matcher gave the face a name
 */
export function matchWord(similarity, threshold, named = true) {
  if (typeof similarity !== 'number') return { word: 'not compared', title: '' };
  const t = threshold;
  const title = `similarity ${similarity.toFixed(2)}; ${t.toFixed(2)} or more names a person`;
  if (!named) return { word: similarity >= t - 0.1 ? 'near miss' : 'no match', title: `${title}; the camera did not name this face` };
  return { word: similarity >= t + 0.15 ? 'sure match' : 'match', title };
}

/** A similarity in words: "59 % alike", or "not alike" for small and negative ones (never "0 %"). */
export const alikeWords = (similarity) => (similarity < 0.05 ? 'not alike' : `${Math.round(similarity * 100)} % alike`);

const EVENT_WORDS = { new: 'Arrived', update: 'Still there', end: 'Left' };
export const eventWord = (type) => EVENT_WORDS[type] || type;
