// Recent faces: the snapshots of recent events in a gallery; tick several and give them to the right person.
import { fmtTime, h, loading, onSubmit, plural, setView, tickCounter, toast } from './dom.js';
import { peopleOptions } from './people-options.js';

/** @param {import('./view.js').View} view */
export async function facesView(view) {
  setView('Recent faces', h('h1', {}, 'Recent faces'), loading('Loading recent faces…'));
  const select = h('select', { id: 'assign-to' });
  const [{ events }] = await Promise.all([view.api('GET', '/api/events?limit=120'), peopleOptions(view.api, select, 'Choose a person')]);
  const usable = events.filter((e) => e.snapshotUrl && !e.correction);
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
    let done = 0;
    for (const id of ids) {
      await view.api('POST', `/api/events/${id}/reassign`, { personId: select.value });
      done++;
    }
    toast(`${plural(done, 'face')} added to ${select.selectedOptions[0].textContent}.`);
    void facesView(view);
  });
  setView(
    'Recent faces',
    h('h1', {}, 'Recent faces'),
    h('p', { class: 'muted' }, 'Faces from recent events. Tick the ones of one person and assign them: each becomes a photo of that person.'),
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
