// Events: every decision with its face, person, match strength in words, camera and time; filters; and fixing a
// wrong one (re-assign to the right person, or "not this person", after a confirm). A corrected event shows what was
// done and an Undo instead of the buttons; every correction's toast has an Undo too.
import { confirmButton, fmtTime, h, loading, onSubmit, setView, toast } from './dom.js';
import { eventWord, matchWord } from './words.js';
import { peopleOptions } from './people-options.js';
import { undoAction } from './changes.js';

/** @param {import('./view.js').View} view */
export async function eventsView(view) {
  setView('Events', h('h1', {}, 'Events'), loading('Loading events…'));
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const personSel = h('select', { id: 'f-person' });
  const [people, { cameras }] = await Promise.all([peopleOptions(view.api, personSel, 'Anyone'), view.api('GET', '/api/cameras')]);
  personSel.append(h('option', { value: 'unknown' }, 'Unknown faces'));
  personSel.value = params.get('person') || '';
  const camSel = h(
    'select',
    { id: 'f-camera' },
    h('option', { value: '' }, 'All cameras'),
    cameras.map((c) => h('option', { value: c.camera }, c.camera)),
  );
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
      const [{ events, operatingPoint }, { changes }] = await Promise.all([view.api('GET', `/api/events?${q}`), view.api('GET', '/api/changes')]);
      // The change that corrected each event (for its Undo), and the threshold in use now.
      const byEvent = new Map(changes.filter((c) => c.eventId && c.undoable).map((c) => [c.eventId, c]));
      const ctx = { people, reload: load, threshold: operatingPoint.threshold, byEvent };
      list.replaceChildren(...(events.length ? events.map((e) => eventItem(view, e, ctx)) : [h('li', { class: 'muted' }, 'No events yet.')]));
    } catch (e) {
      list.replaceChildren(h('li', { class: 'error' }, e.message));
    } finally {
      list.removeAttribute('aria-busy');
    }
  };
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load();
  });
  setView('Events', h('h1', {}, 'Events'), filters, h('h2', {}, 'Recent decisions'), list);
  await load();
}

function eventItem(view, e, { people, reload, threshold, byEvent }) {
  const who = e.person ? e.person.name : 'Unknown';
  const out = h('p', { class: 'error', role: 'alert' });
  const m = matchWord(e.similarity, threshold, Boolean(e.person));
  const face = e.snapshotUrl
    ? h('img', { src: e.snapshotUrl, alt: '', loading: 'lazy' })
    : h('span', { class: 'avatar', style: 'width:64px;height:64px;border-radius:6px;font-size:1rem;grid-row:span 2' }, '?');
  const head = (...extra) =>
    h(
      'div',
      {},
      h('span', { class: 'who' }, who),
      ' ',
      h('span', { class: 'tag', title: e.type }, eventWord(e.type)),
      ' ',
      ...extra,
      h(
        'div',
        { class: 'muted small' },
        `${e.camera} · ${fmtTime(e.frameTime)} · `,
        h('span', { title: m.title }, `${m.word} (${typeof e.similarity === 'number' ? e.similarity.toFixed(2) : '—'})`),
      ),
    );
  if (e.correction) {
    // Corrected once, it stays corrected: what was done, and its Undo while the change log holds it.
    const name = people.find((p) => p.id === e.correction.personId)?.name ?? 'another person';
    const done = h('span', { class: 'tag warn' }, e.correction.kind === 'reassigned' ? `given to ${name}` : `marked not ${name}`);
    const change = byEvent.get(e.id);
    const undo = change
      ? h(
          'button',
          {
            type: 'button',
            class: 'secondary small',
            onclick: async () => {
              try {
                await view.api('POST', `/api/changes/${change.id}/undo`);
                toast('Undone: the event is as the camera decided it.');
                reload();
              } catch (err) {
                out.textContent = err.message;
              }
            },
          },
          'Undo',
        )
      : null;
    return h('li', { class: 'event', 'data-event': e.id }, face, head(done), h('div', { class: 'actions' }, undo), out);
  }
  const fix = h('div', { class: 'fix', hidden: true });
  const wrong = h(
    'button',
    {
      type: 'button',
      class: 'secondary small',
      'aria-expanded': 'false',
      onclick: () => {
        fix.hidden = !fix.hidden;
        wrong.setAttribute('aria-expanded', String(!fix.hidden));
        if (!fix.hidden) fix.querySelector('select')?.focus();
      },
    },
    e.person ? 'Wrong person' : 'Who is this?',
  );
  const sel = h(
    'select',
    { id: `re-${e.id}` },
    h('option', { value: '' }, 'Choose the right person'),
    people.filter((p) => p.id !== e.person?.id).map((p) => h('option', { value: p.id }, p.name)),
  );
  const form = h(
    'form',
    { class: 'row' },
    h('div', { class: 'grow' }, h('label', { for: `re-${e.id}` }, 'This is'), sel),
    h('button', { type: 'submit' }, 'Reassign'),
  );
  let force = false;
  onSubmit(form, out, async () => {
    if (!sel.value) throw new Error('Choose a person.');
    const name = sel.selectedOptions[0].textContent;
    try {
      const r = await view.api('POST', `/api/events/${e.id}/reassign`, { personId: sel.value, force });
      toast(r.already ? `This face was already given to ${name}.` : `Thanks: the face was added to ${name}.`, undoAction(view, r.change, reload));
      reload();
    } catch (err) {
      if (err.code !== 'looks_like_other') throw err;
      // Looks like someone else: say who, and let the user confirm.
      force = true;
      form.querySelector('button[type=submit]').textContent = `Add to ${name} anyway`;
      throw err;
    }
  });
  const notBtn = e.person
    ? confirmButton(`Not ${who}`, {
        question: `Mark this face as not ${who}?`,
        yes: `Not ${who}`,
        action: async () => {
          const r = await view.api('POST', `/api/events/${e.id}/not-person`);
          toast(`Noted: this is not ${who}.`, undoAction(view, r.change, reload));
          reload();
        },
      })
    : null;
  fix.append(form, notBtn ? h('div', { class: 'row', style: 'margin-top:.5rem' }, notBtn) : null, out);
  return h('li', { class: 'event', 'data-event': e.id }, face, head(), h('div', { class: 'actions' }, wrong), fix);
}
