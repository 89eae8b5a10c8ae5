// Recent faces: one tile per track (the events of one visit share it) in a gallery; tick several and give them to
// the right person. Tracks already corrected are left out; the toast offers Undo.
import { fmtTime, h, loading, onSubmit, plural, setView, tickCounter, toast } from './dom.js';
import { peopleOptions } from './people-options.js';
import { undoAction } from './changes.js';

/** The newest event with a snapshot of each track (events come newest first), without the corrected tracks. */
function trackTiles(events) {
  const corrected = new Set(events.filter((e) => e.correction).map((e) => `${e.camera}/${e.track}`));
  const seen = new Map();
  for (const e of events) {
    const key = `${e.camera}/${e.track}`;
    if (!e.snapshotUrl || corrected.has(key) || seen.has(key)) continue;
    seen.set(key, e);
  }
  return [...seen.values()];
}

/** @param {import('./view.js').View} view */
export async function facesView(view) {
  setView('Recent faces', h('h1', {}, 'Recent faces'), loading('Loading recent faces…'));
  const select = h('select', { id: 'assign-to' });
  const [{ events }] = await Promise.all([view.api('GET', '/api/events?limit=120'), peopleOptions(view.api, select, 'Choose a person')]);
  const usable = trackTiles(events);
  const tiles = usable.map((e) => {
    const box = h('input', { type: 'checkbox', id: `f-${e.id}`, value: e.id });
    const who = e.person ? e.person.name : 'Unknown';
    return {
      box,
      el: h(
        'label',
        { class: 'pick', for: `f-${e.id}`, title: `${e.camera} · ${fmtTime(e.frameTime)}` },
        box,
        h('img', { src: e.snapshotUrl, alt: `${who}, ${fmtTime(e.frameTime)}`, loading: 'lazy' }),
        h('span', { class: 'small' }, who),
      ),
    };
  });
  const count = h('span', {}, '');
  const assign = h('button', { type: 'submit' }, 'Assign ', count);
  const ticks = tickCounter(
    tiles.map((t) => t.box),
    assign,
    count,
  );
  const out = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'row card sticky' }, h('div', { class: 'grow' }, h('label', { for: 'assign-to' }, 'These faces are'), select), assign);
  onSubmit(form, out, async () => {
    if (!select.value) throw new Error('Choose a person.');
    const ids = ticks.ticked();
    const changes = [];
    const refused = [];
    for (const id of ids) {
      try {
        const r = await view.api('POST', `/api/events/${id}/reassign`, { personId: select.value });
        if (r.change) changes.push(r.change);
      } catch (e) {
        if (e.code !== 'looks_like_other') throw e;
        refused.push(e.message);
      }
    }
    const name = select.selectedOptions[0].textContent;
    const again = () => facesView(view);
    toast(
      `${plural(changes.length, 'face')} added to ${name}.${refused.length ? ` ${plural(refused.length, 'face')} left out: ${refused[0]}` : ''}`,
      undoAction(view, changes, again),
    );
    void again();
  });
  setView(
    'Recent faces',
    h('h1', {}, 'Recent faces'),
    h('p', { class: 'muted' }, 'Faces from recent events, one per visit. Tick the ones of one person and assign them: each becomes a photo of that person.'),
    form,
    out,
    usable.length
      ? h(
          'div',
          { class: 'gallery', role: 'group', 'aria-label': 'Recent faces' },
          tiles.map((t) => t.el),
        )
      : h('p', { class: 'muted' }, 'No recent faces yet.'),
  );
}
