// Events: every decision with its face, person, match strength in words, camera and time; filters; and fixing a
// wrong one (re-assign to the right person, or "not this person").
import { fmtTime, h, loading, onSubmit, setView, toast } from './dom.js';
import { eventWord, matchWord } from './words.js';
import { peopleOptions } from './people-options.js';

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
      const { events } = await view.api('GET', `/api/events?${q}`);
      list.replaceChildren(...(events.length ? events.map((e) => eventItem(view, e, people, load)) : [h('li', { class: 'muted' }, 'No events yet.')]));
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

function eventItem(view, e, people, reload) {
  const who = e.person ? e.person.name : 'Unknown';
  const fix = h('div', { class: 'fix', hidden: true });
  const correction = e.correction
    ? h(
        'span',
        { class: 'tag warn' },
        e.correction.kind === 'reassigned'
          ? `given to ${people.find((p) => p.id === e.correction.personId)?.name ?? 'another person'}`
          : 'marked not this person',
      )
    : null;
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
  const out = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'row' },
    h('div', { class: 'grow' }, h('label', { for: `re-${e.id}` }, 'This is'), sel),
    h('button', { type: 'submit' }, 'Reassign'),
  );
  onSubmit(form, out, async () => {
    if (!sel.value) throw new Error('Choose a person.');
    await view.api('POST', `/api/events/${e.id}/reassign`, { personId: sel.value });
    toast('Thanks: the face was added to the right person.');
    reload();
  });
  const notBtn = e.person
    ? h(
        'button',
        {
          type: 'button',
          class: 'danger small',
          onclick: async () => {
            try {
              await view.api('POST', `/api/events/${e.id}/not-person`);
              toast(`Noted: this is not ${who}.`);
              reload();
            } catch (err) {
              out.textContent = err.message;
            }
          },
        },
        `Not ${who}`,
      )
    : null;
  fix.append(form, notBtn ? h('div', { class: 'row', style: 'margin-top:.5rem' }, notBtn) : null, out);
  const m = matchWord(e.similarity, view.settings);
  return h(
    'li',
    { class: 'event' },
    e.snapshotUrl
      ? h('img', { src: e.snapshotUrl, alt: '', loading: 'lazy' })
      : h('span', { class: 'avatar', style: 'width:64px;height:64px;border-radius:6px;font-size:1rem;grid-row:span 2' }, '?'),
    h(
      'div',
      {},
      h('span', { class: 'who' }, who),
      ' ',
      h('span', { class: 'tag', title: e.type }, eventWord(e.type)),
      ' ',
      correction,
      h(
        'div',
        { class: 'muted small' },
        `${e.camera} · ${fmtTime(e.frameTime)} · `,
        h('span', { title: m.title }, `${m.word} (${typeof e.similarity === 'number' ? e.similarity.toFixed(2) : '—'})`),
      ),
    ),
    h('div', { class: 'actions' }, wrong),
    fix,
  );
}
