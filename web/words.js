// Plain words for numbers: face quality, match strength, event kinds (against the server's `settings`).

/** good / fair / poor from size and sharpness against the quality gate; the numbers go in the tooltip. */
export function qualityWord(q, settings) {
  const { minSize, minBlur } = settings.quality;
  const size = q?.size ?? 0;
  const blur = q?.blur ?? 0;
  const word = size >= 2 * minSize && blur >= 3 * minBlur ? 'good' : size >= minSize && blur >= minBlur ? 'fair' : 'poor';
  return { word, title: `sharpness ${Math.round(blur)} (at least ${minBlur} needed), face ${Math.round(size)} px (at least ${minSize})` };
}

/** How sure a match is, against the threshold; the number stays visible for those who want it. */
export function matchWord(similarity, settings) {
  if (typeof similarity !== 'number') return { word: 'not compared', title: '' };
  const t = settings.threshold;
  const word = similarity >= t + 0.15 ? 'sure match' : similarity >= t ? 'match' : similarity >= t - 0.1 ? 'near miss' : 'no match';
  return { word, title: `similarity ${similarity.toFixed(2)}; ${t.toFixed(2)} or more names a person` };
}

const EVENT_WORDS = { new: 'Arrived', update: 'Still there', end: 'Left' };
export const eventWord = (type) => EVENT_WORDS[type] || type;
