// facegate admin page: a small hash-routed single page over the JSON API. No inline scripts (CSP).
// This file is the router only; every view lives in its own module and gets its state from a view context
// (view.js) made for each navigation: the API client, the session status, and timers that end when it is left.
import { createClient, rememberPlace, takePlace } from './api.js';
import { h, main, setView, staleToast } from './dom.js';
import { createView } from './view.js';
import { passwordView } from './signin.js';
import { peopleView } from './people.js';
import { personView } from './person.js';
import { eventsView } from './events.js';
import { camerasView } from './live.js';
import { cameraSetupView } from './cameras.js';
import { unknownsView } from './unknowns.js';
import { changesView } from './changes.js';
import { facesView } from './faces.js';
import { accountView, tokensView } from './account.js';
import { storageBanner } from './storage-banner.js';

/** @type {Array<[RegExp, (view: import('./view.js').View, m: RegExpMatchArray) => unknown, string]>} */
const ROUTES = [
  [/^#\/people\/([A-Za-z0-9_-]+)$/, (v, m) => personView(v, m[1]), 'people'],
  [/^#\/people$/, (v) => peopleView(v), 'people'],
  [/^#\/cameras$/, (v) => camerasView(v), 'cameras'],
  [/^#\/cameras\/setup$/, (v) => cameraSetupView(v), 'cameras/setup'],
  [/^#\/events(\?.*)?$/, (v) => eventsView(v), 'events'],
  [/^#\/faces$/, (v) => facesView(v), 'faces'],
  [/^#\/unknowns$/, (v) => unknownsView(v), 'unknowns'],
  [/^#\/changes$/, (v) => changesView(v), 'changes'],
  [/^#\/tokens$/, (v) => tokensView(v), 'tokens'],
  [/^#\/account$/, (v) => accountView(v), 'account'],
];

/** Starts the page: one API client for the page load, a new view context for every navigation. */
function startPage() {
  const nav = document.getElementById('nav');
  const client = createClient();
  const storage = storageBanner(client);
  /** @type {import('./view.js').View | null} */
  let current = null;

  /** Navigates, re-rendering even when the hash does not change. */
  const go = (hash) => {
    if (location.hash === hash) void route();
    else location.hash = hash;
  };

  async function route() {
    current?.leave();
    current = null;
    staleToast();
    const hash = location.hash || '#/people';
    try {
      const status = await client.api('GET', '/api/session-status');
      Object.assign(client.settings, {
        quality: status.quality ?? client.settings.quality,
        threshold: status.threshold ?? client.settings.threshold,
        nameRule: status.nameRule ?? null,
      });
      const view = createView(client, status, go);
      current = view;
      storage.follow(Boolean(status.authenticated) && !status.setupRequired);
      if (status.setupRequired) {
        nav.hidden = true;
        return passwordView(view, true);
      }
      if (!status.authenticated) {
        nav.hidden = true;
        rememberPlace(hash);
        return passwordView(view, false);
      }
      client.setCsrf(status.csrfToken);
      nav.hidden = false;
      if (hash === '#/login' || hash === '#/setup') {
        location.hash = takePlace();
        return;
      }
      const hit = ROUTES.find(([re]) => re.test(hash));
      for (const a of nav.querySelectorAll('a')) a.toggleAttribute('aria-current', false);
      if (!hit) return setView('Not found', h('h1', {}, 'Page not found'), h('a', { href: '#/people' }, 'Go to people'));
      nav.querySelector(`a[href="#/${hit[2]}"]`)?.setAttribute('aria-current', 'page');
      await hit[1](view, hash.match(hit[0]));
      main.focus({ preventScroll: true });
    } catch (e) {
      if (e.status === 401 && location.hash === '#/login') return;
      const unreachable = e.code === 'unreachable';
      setView(
        unreachable ? 'Cannot reach the appliance' : 'Error',
        h('h1', {}, unreachable ? 'Cannot reach the appliance' : 'Something went wrong'),
        h('p', { class: 'error', role: 'alert' }, e.message),
        h('button', { type: 'button', onclick: route }, 'Try again'),
      );
    }
  }

  document.getElementById('signout').addEventListener('click', async () => {
    try {
      await client.api('POST', '/api/logout');
    } finally {
      client.setCsrf(null);
      sessionStorage.clear();
      location.hash = '#/login';
      void route();
    }
  });
  window.addEventListener('hashchange', () => void route());
  void route();
}

startPage();
