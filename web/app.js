// facegate admin page: a small hash-routed single page over the JSON API. No inline scripts (CSP).

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const toastBox = document.getElementById('toast');
let csrf = null;
let timers = [];

// ---------- helpers ----------

/** Builds an element: h('button', {type: 'button', onclick}, 'text', child...). Text is never parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && k !== 'list' && k !== 'form') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function toast(text) {
  toast.at = Date.now();
  toastBox.textContent = text;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => (toastBox.textContent = ''), 4000);
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `Request failed (${status})`);
    this.status = status;
    this.code = body?.error;
    this.body = body;
  }
}

async function api(method, path, body) {
  const headers = {};
  const init = { method, headers, credentials: 'same-origin' };
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (res.status === 401 && !path.startsWith('/api/login') && !path.startsWith('/api/setup')) {
    csrf = null;
    location.hash = '#/login';
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Navigates, re-rendering even when the hash does not change. */
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const fmtNum = (n, d = 2) => (typeof n === 'number' ? n.toFixed(d) : '—');
const initials = (name) => name.split(/\s+/).map((w) => w[0] || '').join('').slice(0, 2).toUpperCase();

function setView(title, ...children) {
  document.title = `${title} · facegate`;
  main.replaceChildren(...children);
}

/** Runs fn on submit with the button disabled and errors shown in `out`. */
function onSubmit(form, out, fn) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btns = form.querySelectorAll('button');
    btns.forEach((b) => (b.disabled = true));
    out.textContent = '';
    try {
      await fn();
    } catch (e) {
      out.textContent = e.message;
    } finally {
      btns.forEach((b) => (b.disabled = false));
    }
  });
}

function avatar(url, name, size) {
  return url ? h('img', { class: 'avatar', src: url, alt: '', width: size, height: size }) : h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(name));
}

async function peopleOptions(select, placeholder) {
  const { people } = await api('GET', '/api/people');
  select.replaceChildren(h('option', { value: '' }, placeholder), ...people.map((p) => h('option', { value: p.id }, p.name)));
  return people;
}

// ---------- sign-in ----------

function passwordView(setup, minLength) {
  const out = h('p', { class: 'error', role: 'alert' });
  const pw = h('input', { type: 'password', id: 'pw', name: 'password', required: true, autocomplete: setup ? 'new-password' : 'current-password', minLength: setup ? minLength : undefined });
  const pw2 = setup ? h('input', { type: 'password', id: 'pw2', required: true, autocomplete: 'new-password' }) : null;
  const form = h(
    'form',
    { class: 'card narrow stack' },
    h('h1', {}, setup ? 'Set the admin password' : 'Sign in'),
    setup ? h('p', { class: 'muted' }, `First run: choose the password for this appliance (at least ${minLength} characters).`) : null,
    h('div', {}, h('label', { for: 'pw' }, setup ? 'New password' : 'Password'), pw),
    setup ? h('div', {}, h('label', { for: 'pw2' }, 'Repeat the password'), pw2) : null,
    h('button', { type: 'submit' }, setup ? 'Set password' : 'Sign in'),
    out,
  );
  onSubmit(form, out, async () => {
    if (setup && pw.value !== pw2.value) throw new Error('The two passwords differ.');
    const r = await api('POST', setup ? '/api/setup' : '/api/login', { password: pw.value });
    csrf = r.csrfToken;
    go('#/people');
  });
  setView(setup ? 'Set password' : 'Sign in', form);
  pw.focus();
}

// ---------- people ----------

async function peopleView() {
  const { people, operatingPoint: op } = await api('GET', '/api/people');
  const out = h('p', { class: 'error', role: 'alert' });
  const name = h('input', { type: 'text', id: 'new-name', required: true, maxLength: 64, autocomplete: 'off' });
  const form = h('form', { class: 'row card' }, h('div', { class: 'grow' }, h('label', { for: 'new-name' }, 'New person'), name), h('button', { type: 'submit' }, 'Add person'));
  onSubmit(form, out, async () => {
    const p = await api('POST', '/api/people', { name: name.value });
    location.hash = `#/people/${p.id}`;
  });
  const list = people.length
    ? h(
        'ul',
        { class: 'grid', role: 'list', style: 'list-style:none;padding:0;margin:0' },
        people.map((p) =>
          h('li', {}, h('a', { class: 'person', href: `#/people/${p.id}` }, avatar(p.avatarUrl, p.name, 96), h('span', { class: 'name' }, p.name), h('span', { class: 'muted small' }, `${p.samples} photo${p.samples === 1 ? '' : 's'}`))),
        ),
      )
    : h('p', { class: 'muted' }, 'Nobody is enrolled yet. Add a person, then upload a few photos of their face.');
  const point = op ? [h('p', { class: 'muted small', id: 'operating-point' }, `Names need similarity ${op.threshold.toFixed(3)}${op.targetFpir ? `, chosen for ${op.people} people so that about 1 stranger's face in ${Math.round(1 / op.targetFpir)} gets a name` : ''}.`)] : [];
  setView('People', h('h1', {}, 'People'), form, out, h('h2', {}, `Enrolled (${people.length})`), ...point, list);
}

const REASONS = {
  not_image: 'Not a photo',
  too_large: 'File too large',
  too_many_pixels: 'Too many pixels',
  no_face: 'No face found',
  too_small: 'Face too small',
  too_blurry: 'Too blurry',
  bad_pose: 'Head turned away',
  multiple_faces: 'Several faces',
  bad_face_index: 'No such face',
};

async function personView(id) {
  let person;
  try {
    person = await api('GET', `/api/people/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e.status === 404) return setView('Not found', h('h1', {}, 'No such person'), h('a', { href: '#/people' }, 'Back to people'));
    throw e;
  }
  const heading = h('h1', {}, person.name);
  const samplesBox = h('div', { class: 'samples', 'aria-live': 'polite' });
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
                h('div', { class: 'muted' }, `sharpness ${Math.round(s.quality.blur)} · ${Math.round(s.quality.size)} px`),
                h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete this ${s.source} sample`, onclick: async () => {
                  await api('DELETE', `/api/samples/${s.id}`);
                  toast('Sample deleted.');
                  loadSamples();
                } }, 'Delete'),
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
  async function upload(files, face) {
    if (!files.length) return;
    const fd = new FormData();
    for (const f of files) fd.append('photos', f, f.name);
    const pending = h('li', { class: 'muted' }, `Uploading ${files.length} photo${files.length === 1 ? '' : 's'}…`);
    results.prepend(pending);
    try {
      const r = await api('POST', `/api/people/${person.id}/photos${face !== undefined ? `?face=${face}` : ''}`, fd);
      pending.remove();
      r.results.forEach((res, i) => results.prepend(resultItem(res, files[i])));
      toast(`${r.accepted} accepted, ${r.rejected} refused.`);
      if (r.accepted) loadSamples();
    } catch (e) {
      pending.className = 'error';
      pending.textContent = e.message;
    }
  }
  function resultItem(res, file) {
    if (res.status === 'accepted')
      return h('li', {}, h('img', { class: 'thumb', src: res.thumbnail, alt: '' }), h('div', { class: 'what' }, h('strong', {}, res.file), h('div', { class: 'ok' }, `Added · sharpness ${Math.round(res.quality.blur)}`)));
    const local = file && file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
    const item = h(
      'li',
      {},
      local ? h('img', { class: 'thumb', src: local, alt: '' }) : h('span', { class: 'thumb avatar', style: 'width:56px;height:56px;border-radius:6px;font-size:1rem' }, '?'),
      h('div', { class: 'what' }, h('strong', {}, res.file), h('div', { class: 'error' }, `${REASONS[res.reason] || res.reason}: ${res.message}`)),
    );
    if (res.reason === 'multiple_faces' && res.faces && file) {
      // Only faces good enough to enrol are offered; the index is the server's.
      const usable = res.faces.filter((f) => f.ok);
      const skipped = res.faces.length - usable.length;
      item.append(
        h(
          'div',
          { class: 'faces', role: 'group', 'aria-label': 'Pick the face to add' },
          usable.map((f, n) => h('button', { type: 'button', onclick: () => upload([file], f.index), 'aria-label': `Use face ${n + 1}` }, h('img', { src: f.thumbnail, alt: '' }), `Face ${n + 1}`)),
        ),
        skipped ? h('p', { class: 'muted small', style: 'flex-basis:100%;margin:0' }, `${skipped} more face${skipped === 1 ? ' is' : 's are'} too small or unclear to use.`) : null,
      );
    }
    return item;
  }
  const pickAny = h('input', { type: 'file', id: 'pick', accept: 'image/*', multiple: true, class: 'visually-hidden', onchange: (e) => upload([...e.target.files]).then(() => (e.target.value = '')) });
  const pickCam = h('input', { type: 'file', id: 'snap', accept: 'image/*', capture: 'user', multiple: true, class: 'visually-hidden', onchange: (e) => upload([...e.target.files]).then(() => (e.target.value = '')) });
  const drop = h(
    'div',
    { class: 'drop' },
    h('p', {}, 'Drop photos here, or'),
    h(
      'div',
      { class: 'row' },
      h('label', { class: 'button file-button', for: 'pick' }, 'Choose photos', pickAny),
      h('label', { class: 'button secondary file-button', for: 'snap' }, 'Take a photo', pickCam),
    ),
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

// ---------- cameras ----------

async function camerasView() {
  const { cameras } = await api('GET', '/api/cameras');
  const cards = cameras.map((cam) => cameraCard(cam));
  setView('Cameras', h('h1', {}, 'Cameras'), cameras.length ? h('div', { class: 'cameras' }, cards.map((c) => c.el)) : h('p', { class: 'muted' }, 'No cameras are configured.'));
  const tick = async () => {
    try {
      const { cameras: now } = await api('GET', '/api/cameras');
      for (const c of cards) c.update(now.find((x) => x.camera === c.name));
    } catch {
      /* next tick */
    }
  };
  timers.push(setInterval(tick, 1000));
  cards.forEach((c) => c.refresh());
}

function cameraCard(cam) {
  const name = cam.camera;
  const img = h('img', { class: 'frame', alt: `Latest frame of ${name} with recognised faces marked` });
  const state = h('span', { class: 'tag' });
  const meta = h('div', { class: 'meta' });
  const panel = h('div', { class: 'panel', hidden: true });
  let lastUrl = null;
  const refresh = async () => {
    if (!img.isConnected) return;
    try {
      const res = await fetch(`/api/cameras/${encodeURIComponent(name)}/frame.jpg?t=${Date.now()}`, { credentials: 'same-origin' });
      if (res.ok) {
        const url = URL.createObjectURL(await res.blob());
        // Decode off-screen first so the shown frame never blanks between updates.
        const next = new Image();
        next.src = url;
        await next.decode().catch(() => {});
        img.src = url;
        if (lastUrl) URL.revokeObjectURL(lastUrl);
        lastUrl = url;
      }
    } catch {
      /* try again */
    }
    // About once a second, never overlapping.
    if (img.isConnected) timers.push(setTimeout(refresh, 1000));
  };
  const update = (st) => {
    if (!st) return;
    state.textContent = st.state;
    state.className = `tag ${st.state === 'online' ? 'ok' : st.state === 'offline' ? 'bad' : 'warn'}`;
    meta.replaceChildren(
      ...[
      h('span', {}, `${fmtNum(st.fps, 1)} fps`),
      h('span', {}, `${st.restarts} restart${st.restarts === 1 ? '' : 's'}`),
      h('span', { class: 'muted' }, `last frame ${st.lastFrameTime ? new Date(st.lastFrameTime).toLocaleTimeString() : '—'}`),
      st.lastError ? h('span', { class: 'error' }, st.lastError) : null,
      ].filter(Boolean),
    );
  };
  update(cam);
  const captureBtn = h('button', { type: 'button', class: 'secondary', onclick: () => capture() }, 'Capture from camera');
  async function capture() {
    captureBtn.disabled = true;
    panel.hidden = false;
    panel.replaceChildren(h('p', { class: 'muted' }, 'Looking for faces…'));
    try {
      const cap = await api('POST', `/api/cameras/${encodeURIComponent(name)}/capture`);
      if (!cap.faces.length) {
        panel.replaceChildren(h('p', {}, 'No face in this frame. Try again when someone faces the camera.'));
        return;
      }
      let chosen = null;
      const out = h('p', { class: 'error', role: 'alert' });
      const usable = cap.faces.filter((f) => f.ok);
      if (!usable.length) {
        panel.replaceChildren(h('p', {}, `${cap.faces.length} face${cap.faces.length === 1 ? '' : 's'} seen, none sharp, large or frontal enough. Try again.`));
        return;
      }
      const faceButtons = usable.map((f, n) =>
        h('button', { type: 'button', 'aria-pressed': 'false', onclick: (e) => {
          chosen = f.index;
          faceButtons.forEach((b) => b.setAttribute('aria-pressed', String(b === e.currentTarget)));
        } }, h('img', { src: f.thumbnail, alt: '' }), `Face ${n + 1}`),
      );
      const select = h('select', { id: `who-${name}` });
      await peopleOptions(select, 'New person…');
      const newName = h('input', { type: 'text', id: `newname-${name}`, maxLength: 64, placeholder: 'Name of the new person' });
      const form = h(
        'form',
        { class: 'stack' },
        h('div', { class: 'faces', role: 'group', 'aria-label': 'Faces in the frame' }, faceButtons),
        h('div', {}, h('label', { for: `who-${name}` }, 'Add to'), select),
        h('div', {}, h('label', { for: `newname-${name}` }, 'New person’s name'), newName),
        h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Add face'), h('button', { type: 'button', class: 'secondary', onclick: () => (panel.hidden = true) }, 'Cancel')),
        out,
      );
      select.addEventListener('change', () => (newName.parentElement.hidden = select.value !== ''));
      onSubmit(form, out, async () => {
        if (chosen === null) throw new Error('Pick a face first.');
        let personId = select.value;
        if (!personId) personId = (await api('POST', '/api/people', { name: newName.value })).id;
        await api('POST', `/api/people/${personId}/capture`, { camera: name, captureId: cap.captureId, face: chosen });
        toast('Face added.');
        panel.hidden = true;
      });
      panel.replaceChildren(h('h3', { style: 'margin:0 0 .5rem' }, 'Pick a face'), form);
    } catch (e) {
      panel.replaceChildren(h('p', { class: 'error' }, e.message));
    } finally {
      captureBtn.disabled = false;
    }
  }
  const el = h('article', { class: 'card camera' }, h('div', { class: 'row', style: 'justify-content:space-between;align-items:center' }, h('h2', { style: 'margin:0' }, name), state), img, meta, captureBtn, panel);
  return { el, name, update, refresh };
}

// ---------- events ----------

async function eventsView() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const personSel = h('select', { id: 'f-person' });
  const people = await peopleOptions(personSel, 'Anyone');
  personSel.append(h('option', { value: 'unknown' }, 'Unknown faces'));
  personSel.value = params.get('person') || '';
  const { cameras } = await api('GET', '/api/cameras');
  const camSel = h('select', { id: 'f-camera' }, h('option', { value: '' }, 'All cameras'), cameras.map((c) => h('option', { value: c.camera }, c.camera)));
  camSel.value = params.get('camera') || '';
  const list = h('ul', { class: 'events', 'aria-live': 'polite' });
  const filters = h(
    'form',
    { class: 'row card' },
    h('div', { class: 'grow' }, h('label', { for: 'f-person' }, 'Person'), personSel),
    h('div', { class: 'grow' }, h('label', { for: 'f-camera' }, 'Camera'), camSel),
    h('button', { type: 'submit', class: 'secondary' }, 'Show'),
  );
  const load = async () => {
    const q = new URLSearchParams({ limit: '100' });
    if (personSel.value) q.set('person', personSel.value);
    if (camSel.value) q.set('camera', camSel.value);
    const { events } = await api('GET', `/api/events?${q}`);
    list.replaceChildren(...(events.length ? events.map((e) => eventItem(e, people, load)) : [h('li', { class: 'muted' }, 'No events yet.')]));
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
  return h(
    'li',
    { class: 'event' },
    e.snapshotUrl ? h('img', { src: e.snapshotUrl, alt: '', loading: 'lazy' }) : h('span', { class: 'avatar', style: 'width:64px;height:64px;border-radius:6px;font-size:1rem;grid-row:span 2' }, '?'),
    h(
      'div',
      {},
      h('span', { class: 'who' }, who),
      ' ',
      h('span', { class: 'tag' }, e.type),
      ' ',
      correction,
      h('div', { class: 'muted small' }, `${e.camera} · ${fmtTime(e.frameTime)} · similarity ${fmtNum(e.similarity)}`),
    ),
    h('div', { class: 'actions' }, wrong),
    fix,
  );
}

// ---------- unknowns ----------

async function unknownsView() {
  const [{ clusters }, { people }] = await Promise.all([api('GET', '/api/unknowns'), api('GET', '/api/people')]);
  const names = h('datalist', { id: 'people-names' }, people.map((p) => h('option', { value: p.name })));
  const cards = clusters.map((c) => {
    const input = h('input', { type: 'text', id: `cl-${c.id}`, required: true, maxLength: 64, autocomplete: 'off' });
    input.setAttribute('list', 'people-names');
    const out = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'row' }, h('div', { class: 'grow' }, h('label', { for: `cl-${c.id}` }, 'Who is this?'), input), h('button', { type: 'submit' }, 'Name'));
    onSubmit(form, out, async () => {
      const existing = people.find((p) => p.name.toLowerCase() === input.value.trim().toLowerCase());
      const r = await api('POST', `/api/unknowns/${c.id}/name`, existing ? { personId: existing.id } : { name: input.value });
      toast(`${r.sampleIds.length} face${r.sampleIds.length === 1 ? '' : 's'} added to ${input.value.trim()}.`);
      unknownsView();
    });
    const dismiss = h('button', { type: 'button', class: 'danger small', onclick: async () => {
      await api('POST', `/api/unknowns/${c.id}/dismiss`);
      toast('Dismissed.');
      unknownsView();
    } }, 'Dismiss');
    return h(
      'article',
      { class: 'card' },
      h('h2', { style: 'margin-top:0' }, `${c.size} sighting${c.size === 1 ? '' : 's'}`),
      h('p', { class: 'muted small' }, `${c.cameras.join(', ')} · ${fmtTime(c.first)} – ${fmtTime(c.last)}`),
      h('div', { class: 'strip' }, c.members.map((m) => (m.snapshotUrl ? h('img', { src: m.snapshotUrl, alt: '', loading: 'lazy' }) : null))),
      form,
      out,
      h('div', { class: 'row' }, dismiss),
    );
  });
  setView(
    'Unknowns',
    h('h1', {}, 'Unknown faces'),
    h('p', { class: 'muted' }, 'Faces the cameras saw but could not name, grouped by likeness. Name a group to enrol all its faces.'),
    names,
    clusters.length ? h('div', { class: 'clusters' }, cards) : h('p', { class: 'muted' }, 'No unknown faces right now.'),
  );
}

// ---------- tokens ----------

async function tokensView() {
  const { tokens } = await api('GET', '/api/tokens');
  const out = h('p', { class: 'error', role: 'alert' });
  const shown = h('div', { 'aria-live': 'polite' });
  const name = h('input', { type: 'text', id: 'token-name', required: true, maxLength: 64, placeholder: 'e.g. home-assistant' });
  const form = h('form', { class: 'row card' }, h('div', { class: 'grow' }, h('label', { for: 'token-name' }, 'New token for'), name), h('button', { type: 'submit' }, 'Create token'));
  onSubmit(form, out, async () => {
    const t = await api('POST', '/api/tokens', { name: name.value });
    await tokensView();
    main.querySelector('[data-new-token]').replaceChildren(
      h('div', { class: 'card stack' }, h('strong', {}, `Token "${t.name}" — copy it now, it is shown only once:`), h('code', { class: 'secret' }, t.token), h('p', { class: 'muted small' }, 'Send it as: Authorization: Bearer <token>')),
    );
  });
  const table = tokens.length
    ? h(
        'table',
        { class: 'tokens' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'opt' }, 'Created'), h('th', {}, 'Last used'), h('th', {}, h('span', { class: 'visually-hidden' }, 'Actions')))),
        h(
          'tbody',
          {},
          tokens.map((t) =>
            h(
              'tr',
              {},
              h('td', {}, t.name),
              h('td', { class: 'opt' }, fmtTime(t.created)),
              h('td', {}, t.lastUsed ? fmtTime(t.lastUsed) : 'never'),
              h('td', {}, h('button', { type: 'button', class: 'danger small', 'aria-label': `Revoke token ${t.name}`, onclick: async () => {
                if (!confirm(`Revoke the token "${t.name}"?`)) return;
                await api('DELETE', `/api/tokens/${t.id}`);
                tokensView();
              } }, 'Revoke')),
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, 'No tokens yet.');
  shown.dataset.newToken = '';
  setView('Tokens', h('h1', {}, 'API tokens'), h('p', { class: 'muted' }, 'Tokens let automation use the API without the password.'), form, out, shown, h('h2', {}, 'Tokens'), table);
}

// ---------- router ----------

const routes = [
  [/^#\/people\/([A-Za-z0-9_-]+)$/, (m) => personView(m[1]), 'people'],
  [/^#\/people$/, peopleView, 'people'],
  [/^#\/cameras$/, camerasView, 'cameras'],
  [/^#\/events(\?.*)?$/, eventsView, 'events'],
  [/^#\/unknowns$/, unknownsView, 'unknowns'],
  [/^#\/tokens$/, tokensView, 'tokens'],
];

async function route() {
  timers.forEach((t) => (clearInterval(t), clearTimeout(t)));
  timers = [];
  // A message from the page before stays only when it came just now (e.g. "deleted" then back to the list).
  if (Date.now() - (toast.at || 0) > 1000) toastBox.textContent = '';
  const hash = location.hash || '#/people';
  try {
    const st = await api('GET', '/api/session-status');
    if (st.setupRequired) {
      nav.hidden = true;
      return passwordView(true, st.minPasswordLength);
    }
    if (!st.authenticated) {
      nav.hidden = true;
      return passwordView(false);
    }
    csrf = st.csrfToken;
    nav.hidden = false;
    if (hash === '#/login' || hash === '#/setup') {
      location.hash = '#/people';
      return;
    }
    const hit = routes.find(([re]) => re.test(hash));
    for (const a of nav.querySelectorAll('a')) a.toggleAttribute('aria-current', false);
    if (!hit) return setView('Not found', h('h1', {}, 'Page not found'), h('a', { href: '#/people' }, 'Go to people'));
    nav.querySelector(`a[href="#/${hit[2]}"]`)?.setAttribute('aria-current', 'page');
    await hit[1](hash.match(hit[0]));
    main.focus({ preventScroll: true });
  } catch (e) {
    if (e.status === 401) return;
    setView('Error', h('h1', {}, 'Something went wrong'), h('p', { class: 'error' }, e.message), h('button', { type: 'button', onclick: route }, 'Try again'));
  }
}

document.getElementById('signout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/logout');
  } finally {
    csrf = null;
    location.hash = '#/login';
    route();
  }
});
window.addEventListener('hashchange', route);
route();
