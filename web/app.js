// facegate admin page: a small hash-routed single page over the JSON API. No inline scripts (CSP).
// Views live in their own modules (live.js, unknowns.js, faces.js, account.js); this file holds the router,
// sign-in and claiming, people and events.
import { api, nameProblem, rememberPlace, setCsrf, settings, takePlace } from './api.js';
import { confirmButton, fmtTime, h, loading, main, onSubmit, plural, setView, staleToast, toast } from './dom.js';
import { qualityWord, matchWord, eventWord } from './words.js';
import { camerasView } from './live.js';
import { unknownsView } from './unknowns.js';
import { facesView } from './faces.js';
import { accountView, tokensView } from './account.js';
import { peopleOptions } from './people-options.js';
import { REASONS } from './errors.js';

const nav = document.getElementById('nav');
let timers = [];
let status = null;

/** Navigates, re-rendering even when the hash does not change. */
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

const initials = (name) => name.split(/\s+/).map((w) => w[0] || '').join('').slice(0, 2).toUpperCase();

function avatar(url, name, size) {
  return url ? h('img', { class: 'avatar', src: url, alt: '', width: size, height: size }) : h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(name));
}

function qualityTag(q) {
  const { word, title } = qualityWord(q);
  return h('span', { class: `tag quality q-${word}`, title, tabIndex: 0 }, `quality ${word}`);
}

// ---------- sign-in and claiming ----------

function passwordView(setup, minLength) {
  const out = h('p', { class: 'error', role: 'alert' });
  const code = setup ? h('input', { type: 'text', id: 'claim', required: true, autocomplete: 'one-time-code', spellcheck: false, placeholder: 'XXXX-XXXX-XXXX', maxLength: 20 }) : null;
  const pw = h('input', { type: 'password', id: 'pw', name: 'password', required: true, autocomplete: setup ? 'new-password' : 'current-password', minLength: setup ? minLength : undefined });
  const pw2 = setup ? h('input', { type: 'password', id: 'pw2', required: true, autocomplete: 'new-password' }) : null;
  const form = h(
    'form',
    { class: 'card narrow stack' },
    h('h1', {}, setup ? 'Claim this appliance' : 'Sign in'),
    setup
      ? h(
          'p',
          { class: 'muted' },
          'Enter the one-time claim code, then choose the admin password (at least ',
          String(minLength),
          ' characters). The code is in the appliance log (',
          h('code', {}, 'journalctl -u facegate | grep claimCode'),
          ') and in the output of ',
          h('code', {}, 'facegate install-service'),
          '.',
        )
      : null,
    setup ? h('div', {}, h('label', { for: 'claim' }, 'Claim code'), code) : null,
    h('div', {}, h('label', { for: 'pw' }, setup ? 'New password' : 'Password'), pw),
    setup ? h('div', {}, h('label', { for: 'pw2' }, 'Repeat the password'), pw2) : null,
    h('button', { type: 'submit' }, setup ? 'Set password' : 'Sign in'),
    out,
  );
  onSubmit(form, out, async () => {
    if (setup && pw.value !== pw2.value) throw new Error('The two passwords differ.');
    const r = await api('POST', setup ? '/api/setup' : '/api/login', setup ? { password: pw.value, claimCode: code.value } : { password: pw.value });
    setCsrf(r.csrfToken);
    go(takePlace());
  });
  setView(setup ? 'Claim this appliance' : 'Sign in', form);
  (code ?? pw).focus();
}

// ---------- people ----------

async function peopleView() {
  setView('People', h('h1', {}, 'People'), loading('Loading people…'));
  const { people, operatingPoint: op, sync } = await api('GET', '/api/people');
  const out = h('p', { class: 'error', role: 'alert' });
  const name = h('input', { type: 'text', id: 'new-name', required: true, maxLength: 64, autocomplete: 'off' });
  const form = h('form', { class: 'row card' }, h('div', { class: 'grow' }, h('label', { for: 'new-name' }, 'New person'), name), h('button', { type: 'submit' }, 'Add person'));
  onSubmit(form, out, async () => {
    const problem = nameProblem(name.value);
    if (problem) throw new Error(problem);
    const p = await api('POST', '/api/people', { name: name.value });
    location.hash = `#/people/${p.id}`;
  });
  const list = people.length
    ? h(
        'ul',
        { class: 'grid', role: 'list', style: 'list-style:none;padding:0;margin:0' },
        people.map((p) => h('li', {}, h('a', { class: 'person', href: `#/people/${p.id}` }, avatar(p.avatarUrl, p.name, 96), h('span', { class: 'name' }, p.name), h('span', { class: 'muted small' }, plural(p.samples, 'photo')), ...(sync && p.origin && p.origin !== sync.applianceId ? [h('span', { class: 'muted small' }, `from ${p.origin}`)] : [])))),
      )
    : h('p', { class: 'muted' }, 'Nobody is enrolled yet. Add a person, then upload a few photos of their face.');
  const point = op ? [h('p', { class: 'muted small', id: 'operating-point' }, `Names need similarity ${op.threshold.toFixed(3)}${op.targetFpir ? `, chosen for ${op.people} people so that about 1 stranger's face in ${Math.round(1 / op.targetFpir)} gets a name` : ''}.`)] : [];
  setView('People', h('h1', {}, 'People'), form, out, h('h2', {}, `Enrolled (${people.length})`), ...point, ...syncLine(sync), list);
}

/** The facebank sync state (issue 16): connected or not, last sync, changes not yet sent. */
function syncLine(sync) {
  if (!sync) return [];
  const when = sync.lastSync ? new Date(sync.lastSync).toLocaleString() : 'never';
  const state = sync.connected ? (sync.pending ? `${plural(sync.pending, 'change')} waiting to be sent` : 'in sync') : `not connected${sync.pending ? `, ${plural(sync.pending, 'change')} waiting` : ''}`;
  return [h('p', { class: 'muted small', id: 'sync-state' }, `Shared with the site's other appliances as ${sync.applianceId}: ${state}; last sync ${when}${sync.refused ? `; ${sync.refused} record(s) refused` : ''}.`)];
}

async function personView(id) {
  setView('Person', loading('Loading…'));
  let person;
  try {
    person = await api('GET', `/api/people/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e.status === 404) return setView('Not found', h('h1', {}, 'No such person'), h('a', { href: '#/people' }, 'Back to people'));
    throw e;
  }
  const heading = h('h1', {}, person.name);
  const samplesBox = h('div', { class: 'samples', 'aria-live': 'polite' }, loading('Loading photos…'));
  const results = h('ul', { class: 'results', 'aria-live': 'polite', 'aria-label': 'Upload results' });

  async function loadSamples() {
    const { samples } = await api('GET', `/api/people/${person.id}/samples`);
    samplesBox.replaceChildren(
      ...(samples.length
        ? samples.map((s) =>
            h(
              'figure',
              { class: `sample${s.negative ? ' negative' : ''}`, style: 'margin:0' },
              h('img', { src: s.url, alt: `Sample from ${s.source}`, loading: 'lazy' }),
              h(
                'figcaption',
                { class: 'small' },
                s.negative ? h('span', { class: 'tag bad' }, 'not this person') : h('span', { class: 'tag' }, s.source),
                h('div', {}, qualityTag(s.quality)),
                confirmButton('Delete', {
                  ariaLabel: `Delete this ${s.source} sample`,
                  question: 'Delete this photo?',
                  yes: 'Delete photo',
                  action: async () => {
                    await api('DELETE', `/api/samples/${s.id}`);
                    toast('Photo deleted.');
                    loadSamples();
                  },
                }),
              ),
            ),
          )
        : [h('p', { class: 'muted' }, 'No photos yet.')]),
    );
  }

  // Rename / delete.
  const renameOut = h('p', { class: 'error', role: 'alert' });
  const nameInput = h('input', { type: 'text', id: 'rename', value: person.name, required: true, maxLength: 64 });
  const renameForm = h('form', { class: 'row' }, h('div', { class: 'grow' }, h('label', { for: 'rename' }, 'Name'), nameInput), h('button', { type: 'submit', class: 'secondary' }, 'Rename'));
  onSubmit(renameForm, renameOut, async () => {
    const problem = nameProblem(nameInput.value);
    if (problem) throw new Error(problem);
    person = await api('PATCH', `/api/people/${person.id}`, { name: nameInput.value });
    heading.textContent = person.name;
    toast('Renamed.');
  });
  const del = h('button', { type: 'button', class: 'danger', onclick: async () => {
    if (!confirm(`Delete ${person.name} and all their photos?`)) return;
    await api('DELETE', `/api/people/${person.id}`);
    toast(`${person.name} deleted.`);
    location.hash = '#/people';
  } }, 'Delete person');

  // Uploads: drag and drop, or the two pickers (gallery, camera).
  async function upload(files, opts = {}, target = person) {
    if (!files.length) return;
    const fd = new FormData();
    for (const f of files) fd.append('photos', f, f.name);
    const pending = h('li', { class: 'muted', role: 'status' }, `Uploading ${plural(files.length, 'photo')}…`);
    results.prepend(pending);
    const q = new URLSearchParams();
    if (opts.face !== undefined && opts.face !== null) q.set('face', String(opts.face));
    if (opts.force) q.set('force', '1');
    try {
      const r = await api('POST', `/api/people/${target.id}/photos${q.size ? `?${q}` : ''}`, fd);
      pending.remove();
      r.results.forEach((res, i) => results.prepend(resultItem(res, files[i], target)));
      toast(`${r.accepted} accepted, ${r.rejected} refused.`);
      if (r.accepted && target.id === person.id) loadSamples();
      return r;
    } catch (e) {
      pending.className = 'error';
      pending.textContent = e.message;
      return null;
    }
  }
  /** Runs a one-shot choice: every button of `group` is disabled at once, so a double click sends one request. */
  const once = (group, fn) => async (ev) => {
    if (group.dataset.busy) return;
    group.dataset.busy = '1';
    group.querySelectorAll('button').forEach((b) => (b.disabled = true));
    const r = await fn(ev);
    if (r && r.accepted) group.replaceChildren(h('p', { class: 'ok small', style: 'margin:0' }, 'Added.'));
    else {
      delete group.dataset.busy;
      group.querySelectorAll('button').forEach((b) => (b.disabled = false));
    }
  };
  function resultItem(res, file, target) {
    const prefix = target.id === person.id ? '' : `${target.name}: `;
    if (res.status === 'accepted')
      return h('li', {}, h('img', { class: 'thumb', src: res.thumbnail, alt: '' }), h('div', { class: 'what' }, h('strong', {}, res.file), h('div', { class: 'ok' }, `${prefix}Added · `, qualityTag(res.quality))));
    // A preview only for real images (the server decoded it, or refused it for a reason other than "not a photo").
    const local = file && res.reason !== 'not_image' && res.reason !== 'too_many_pixels' && file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
    const item = h(
      'li',
      {},
      local ? h('img', { class: 'thumb', src: local, alt: '' }) : h('span', { class: 'thumb avatar', style: 'width:56px;height:56px;border-radius:6px;font-size:1rem' }, '?'),
      h('div', { class: 'what' }, h('strong', {}, res.file), h('div', { class: res.reason === 'looks_like_other' ? 'warn' : 'error' }, `${prefix}${REASONS[res.reason] || res.reason}: ${res.message}`)),
    );
    if (res.reason === 'multiple_faces' && res.faces && file) {
      // Only faces good enough to enrol are offered; the index is the server's.
      const usable = res.faces.filter((f) => f.ok);
      const skipped = res.faces.length - usable.length;
      const group = h('div', { class: 'faces', role: 'group', 'aria-label': 'Pick the face to add' });
      group.append(...usable.map((f, n) => h('button', { type: 'button', onclick: once(group, () => upload([file], { face: f.index })), 'aria-label': `Use face ${n + 1}` }, h('img', { src: f.thumbnail, alt: '' }), `Face ${n + 1}`)));
      item.append(group, skipped ? h('p', { class: 'muted small', style: 'flex-basis:100%;margin:0' }, `${skipped} more face${skipped === 1 ? ' is' : 's are'} too small or unclear to use.`) : null);
    }
    if (res.reason === 'looks_like_other' && file) {
      const group = h('div', { class: 'row choice', role: 'group', 'aria-label': 'Who is it?' });
      const other = { id: res.match.personId, name: res.match.name };
      group.append(
        h('button', { type: 'button', class: 'secondary small', onclick: once(group, () => upload([file], { face: res.faceIndex, force: true })) }, `Add to ${person.name} anyway`),
        h('button', { type: 'button', class: 'small', onclick: once(group, () => upload([file], { face: res.faceIndex }, other)) }, `Add to ${other.name} instead`),
      );
      item.append(group);
    }
    return item;
  }
  const pickAny = h('input', { type: 'file', id: 'pick', accept: 'image/*', multiple: true, class: 'visually-hidden', onchange: (e) => upload([...e.target.files]).then(() => (e.target.value = '')) });
  const pickCam = h('input', { type: 'file', id: 'snap', accept: 'image/*', capture: 'user', multiple: true, class: 'visually-hidden', onchange: (e) => upload([...e.target.files]).then(() => (e.target.value = '')) });
  const drop = h(
    'div',
    { class: 'drop' },
    h('p', {}, 'Drop photos here, or'),
    h('div', { class: 'row' }, h('label', { class: 'button file-button', for: 'pick' }, 'Choose photos', pickAny), h('label', { class: 'button secondary file-button', for: 'snap' }, 'Take a photo', pickCam)),
    h('p', { class: 'muted small' }, 'One face per photo, facing the camera, in good light. Several photos of different days help.'),
  );
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    upload([...e.dataTransfer.files]);
  });

  setView(
    person.name,
    h('p', {}, h('a', { href: '#/people' }, '← People')),
    heading,
    h('section', { class: 'card stack', 'aria-label': 'Add photos' }, h('h2', { style: 'margin-top:0' }, 'Add photos'), drop, results),
    h('h2', {}, 'Photos'),
    samplesBox,
    h('h2', {}, 'Settings'),
    h('section', { class: 'card stack' }, renameForm, renameOut, h('div', {}, del)),
  );
  await loadSamples();
}

// ---------- events ----------

async function eventsView() {
  setView('Events', h('h1', {}, 'Events'), loading('Loading events…'));
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const personSel = h('select', { id: 'f-person' });
  const [people, { cameras }] = await Promise.all([peopleOptions(personSel, 'Anyone'), api('GET', '/api/cameras')]);
  personSel.append(h('option', { value: 'unknown' }, 'Unknown faces'));
  personSel.value = params.get('person') || '';
  const camSel = h('select', { id: 'f-camera' }, h('option', { value: '' }, 'All cameras'), cameras.map((c) => h('option', { value: c.camera }, c.camera)));
  camSel.value = params.get('camera') || '';
  const list = h('ul', { class: 'events', 'aria-live': 'polite', 'aria-busy': 'true' }, h('li', { class: 'muted loading' }, 'Loading events…'));
  const filters = h(
    'form',
    { class: 'row card' },
    h('div', { class: 'grow' }, h('label', { for: 'f-person' }, 'Person'), personSel),
    h('div', { class: 'grow' }, h('label', { for: 'f-camera' }, 'Camera'), camSel),
    h('button', { type: 'submit', class: 'secondary' }, 'Show'),
  );
  const load = async () => {
    list.setAttribute('aria-busy', 'true');
    const q = new URLSearchParams({ limit: '100' });
    if (personSel.value) q.set('person', personSel.value);
    if (camSel.value) q.set('camera', camSel.value);
    try {
      const { events } = await api('GET', `/api/events?${q}`);
      list.replaceChildren(...(events.length ? events.map((e) => eventItem(e, people, load)) : [h('li', { class: 'muted' }, 'No events yet.')]));
    } catch (e) {
      list.replaceChildren(h('li', { class: 'error' }, e.message));
    } finally {
      list.removeAttribute('aria-busy');
    }
  };
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  setView('Events', h('h1', {}, 'Events'), filters, h('h2', {}, 'Recent decisions'), list);
  await load();
}

function eventItem(e, people, reload) {
  const who = e.person ? e.person.name : 'Unknown';
  const fix = h('div', { class: 'fix', hidden: true });
  const correction = e.correction
    ? h('span', { class: 'tag warn' }, e.correction.kind === 'reassigned' ? `given to ${people.find((p) => p.id === e.correction.personId)?.name ?? 'another person'}` : 'marked not this person')
    : null;
  const wrong = h('button', { type: 'button', class: 'secondary small', 'aria-expanded': 'false', onclick: () => {
    fix.hidden = !fix.hidden;
    wrong.setAttribute('aria-expanded', String(!fix.hidden));
    if (!fix.hidden) fix.querySelector('select')?.focus();
  } }, e.person ? 'Wrong person' : 'Who is this?');
  const sel = h('select', { id: `re-${e.id}` }, h('option', { value: '' }, 'Choose the right person'), people.filter((p) => p.id !== e.person?.id).map((p) => h('option', { value: p.id }, p.name)));
  const out = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'row' }, h('div', { class: 'grow' }, h('label', { for: `re-${e.id}` }, 'This is'), sel), h('button', { type: 'submit' }, 'Reassign'));
  onSubmit(form, out, async () => {
    if (!sel.value) throw new Error('Choose a person.');
    await api('POST', `/api/events/${e.id}/reassign`, { personId: sel.value });
    toast('Thanks: the face was added to the right person.');
    reload();
  });
  const notBtn = e.person
    ? h('button', { type: 'button', class: 'danger small', onclick: async () => {
        try {
          await api('POST', `/api/events/${e.id}/not-person`);
          toast(`Noted: this is not ${who}.`);
          reload();
        } catch (err) {
          out.textContent = err.message;
        }
      } }, `Not ${who}`)
    : null;
  fix.append(form, notBtn ? h('div', { class: 'row', style: 'margin-top:.5rem' }, notBtn) : null, out);
  const m = matchWord(e.similarity);
  return h(
    'li',
    { class: 'event' },
    e.snapshotUrl ? h('img', { src: e.snapshotUrl, alt: '', loading: 'lazy' }) : h('span', { class: 'avatar', style: 'width:64px;height:64px;border-radius:6px;font-size:1rem;grid-row:span 2' }, '?'),
    h(
      'div',
      {},
      h('span', { class: 'who' }, who),
      ' ',
      h('span', { class: 'tag', title: e.type }, eventWord(e.type)),
      ' ',
      correction,
      h('div', { class: 'muted small' }, `${e.camera} · ${fmtTime(e.frameTime)} · `, h('span', { title: m.title }, `${m.word} (${typeof e.similarity === 'number' ? e.similarity.toFixed(2) : '—'})`)),
    ),
    h('div', { class: 'actions' }, wrong),
    fix,
  );
}

// ---------- router ----------

/** @type {Array<[RegExp, (m: RegExpMatchArray) => unknown, string]>} */
const routes = [
  [/^#\/people\/([A-Za-z0-9_-]+)$/, (m) => personView(m[1]), 'people'],
  [/^#\/people$/, peopleView, 'people'],
  [/^#\/cameras$/, () => camerasView(timers), 'cameras'],
  [/^#\/events(\?.*)?$/, eventsView, 'events'],
  [/^#\/faces$/, facesView, 'faces'],
  [/^#\/unknowns$/, unknownsView, 'unknowns'],
  [/^#\/tokens$/, () => tokensView(), 'tokens'],
  [/^#\/account$/, () => accountView(status), 'account'],
];

async function route() {
  timers.forEach((t) => (clearInterval(t), clearTimeout(t)));
  timers = [];
  staleToast();
  const hash = location.hash || '#/people';
  try {
    status = await api('GET', '/api/session-status');
    Object.assign(settings, { quality: status.quality ?? settings.quality, threshold: status.threshold ?? settings.threshold, nameRule: status.nameRule ?? null });
    if (status.setupRequired) {
      nav.hidden = true;
      return passwordView(true, status.minPasswordLength);
    }
    if (!status.authenticated) {
      nav.hidden = true;
      rememberPlace(hash);
      return passwordView(false);
    }
    setCsrf(status.csrfToken);
    nav.hidden = false;
    if (hash === '#/login' || hash === '#/setup') {
      location.hash = takePlace();
      return;
    }
    const hit = routes.find(([re]) => re.test(hash));
    for (const a of nav.querySelectorAll('a')) a.toggleAttribute('aria-current', false);
    if (!hit) return setView('Not found', h('h1', {}, 'Page not found'), h('a', { href: '#/people' }, 'Go to people'));
    nav.querySelector(`a[href="#/${hit[2]}"]`)?.setAttribute('aria-current', 'page');
    await hit[1](hash.match(hit[0]));
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
    await api('POST', '/api/logout');
  } finally {
    setCsrf(null);
    sessionStorage.clear();
    location.hash = '#/login';
    route();
  }
});
window.addEventListener('hashchange', route);
route();
