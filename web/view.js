// What a view is given: the API client, the session status, and timers and clean-ups that end when it is left.
// Each navigation makes a new one, so no view keeps state in module globals.

/**
 * @typedef {import('./api.js').Client & {
 *   status: any,
 *   go: (hash: string) => void,
 *   every: (fn: () => unknown, ms: number) => void,
 *   later: (fn: () => unknown, ms: number) => void,
 *   onLeave: (fn: () => void) => void,
 *   leave: () => void,
 * }} View
 */

/**
 * @param {import('./api.js').Client} client
 * @param {any} status what /api/session-status answered
 * @param {(hash: string) => void} go navigates, re-rendering even when the hash does not change
 * @returns {View}
 */
export function createView(client, status, go) {
  /** @type {Set<() => void>} */
  const cleanups = new Set();
  const later = (fn, ms) => {
    const stop = () => clearTimeout(t);
    const t = setTimeout(() => {
      cleanups.delete(stop);
      fn();
    }, ms);
    cleanups.add(stop);
  };
  const every = (fn, ms) => {
    const t = setInterval(fn, ms);
    cleanups.add(() => clearInterval(t));
  };
  const leave = () => {
    for (const f of cleanups) f();
    cleanups.clear();
  };
  return { ...client, status, go, every, later, onLeave: (fn) => cleanups.add(fn), leave };
}
