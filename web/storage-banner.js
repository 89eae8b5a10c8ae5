// A banner above every view while the appliance cannot keep what it writes (disk full or failing): live
// recognition goes on, but history, unknown faces and snapshots are not kept. It follows GET /api/storage while
// someone is signed in, so it appears and goes away without a navigation.
import { h, main } from './dom.js';

const POLL_MS = 15_000;

/**
 * @param {import('./api.js').Client} client
 * @returns {{ follow: (signedIn: boolean) => void }} call on every navigation with whether the session is signed in
 */
export function storageBanner(client) {
  const banner = h('p', { class: 'card error', role: 'alert', id: 'storage-banner', hidden: true });
  main.before(banner);
  /** @type {ReturnType<typeof setInterval> | null} */
  let timer = null;

  const check = async () => {
    try {
      const s = await client.api('GET', '/api/storage');
      banner.textContent = s.ok ? '' : `Storage: ${s.reason}`;
      banner.hidden = s.ok;
    } catch {
      // Unreachable or signed out: the view says so; the banner keeps its last word.
    }
  };

  return {
    follow(signedIn) {
      if (!signedIn) {
        if (timer !== null) clearInterval(timer);
        timer = null;
        banner.hidden = true;
        return;
      }
      void check();
      timer ??= setInterval(() => void check(), POLL_MS);
    },
  };
}
