// Unknown faces grouped by likeness: tick the faces to name (all by default), or dismiss a group after a confirm.
// Faces that look like someone already enrolled are left out and listed (or added after "Add anyway"); a name that
// is taken offers to add the faces to that person. Every toast has an Undo.
import { confirmButton, fmtTime, h, loading, onSubmit, plural, setView, tickCounter, toast } from './dom.js';
import { undoAction } from './changes.js';
import { alikeWords } from './words.js';

/** @param {import('./view.js').View} view */
export async function unknownsView(view) {
  setView('Unknowns', h('h1', {}, 'Unknown faces'), loading('Loading unknown faces…'));
  const [{ clusters }, { people }] = await Promise.all([view.api('GET', '/api/unknowns'), view.api('GET', '/api/people')]);
  const names = h(
    'datalist',
    { id: 'people-names' },
    people.map((p) => h('option', { value: p.name })),
  );
  const cards = clusters.map((c) => clusterCard(view, c, people));
  setView(
    'Unknowns',
    h('h1', {}, 'Unknown faces'),
    h('p', { class: 'muted' }, 'Faces the cameras saw but could not name, grouped by likeness. Untick the faces that are someone else, then name the group.'),
    names,
    clusters.length ? h('div', { class: 'clusters' }, cards) : h('p', { class: 'muted' }, 'No unknown faces right now.'),
  );
}

function clusterCard(view, c, people) {
  const boxes = c.members.map((m, i) => {
    const box = h('input', { type: 'checkbox', checked: true, id: `m-${m.id}`, value: m.id });
    return {
      box,
      el: h(
        'label',
        { class: 'pick', for: `m-${m.id}`, title: `${m.camera} · ${fmtTime(m.time)}` },
        box,
        m.snapshotUrl ? h('img', { src: m.snapshotUrl, alt: `Face ${i + 1}`, loading: 'lazy' }) : h('span', { class: 'avatar' }, '?'),
      ),
    };
  });
  const count = h('span', {}, '');
  const nameBtn = h('button', { type: 'submit' }, 'Name ', count);
  const ticks = tickCounter(
    boxes.map((b) => b.box),
    nameBtn,
    count,
  );
  const input = h('input', { type: 'text', id: `cl-${c.id}`, required: true, maxLength: 64, autocomplete: 'off' });
  input.setAttribute('list', 'people-names');
  const out = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'row' }, h('div', { class: 'grow' }, h('label', { for: `cl-${c.id}` }, 'Who is this?'), input), nameBtn);
  const notes = h('ul', { class: 'muted small', 'aria-live': 'polite' });
  let choice = null; // { force } after a look-alike warning, { personId } after "add to that person"
  const again = () => unknownsView(view);
  onSubmit(form, out, async () => {
    const memberIds = ticks.ticked();
    notes.replaceChildren();
    const typed = input.value.trim();
    const existing = people.find((p) => p.name.toLowerCase() === typed.toLowerCase());
    const target = choice?.personId ? { personId: choice.personId } : existing ? { personId: existing.id } : { name: input.value };
    try {
      const r = await view.api('POST', `/api/unknowns/${c.id}/name`, { ...target, memberIds, force: Boolean(choice?.force) });
      const who = choice?.name ?? existing?.name ?? typed;
      const left = r.leftOut?.length ? ` ${plural(r.leftOut.length, 'face')} left out (see the list).` : '';
      toast(
        r.already ? `These faces were already named ${who}.` : `${plural(r.sampleIds.length, 'face')} added to ${who}.${left}`,
        undoAction(view, r.change, again),
      );
      if (r.leftOut?.length) {
        notes.replaceChildren(
          ...r.leftOut.map((x) =>
            h('li', {}, x.match ? `Face ${x.index + 1} looks like ${x.match.name} (${alikeWords(x.match.similarity)}): left out.` : x.message),
          ),
        );
        return;
      }
      void again();
    } catch (e) {
      if (e.code === 'looks_like_other') {
        const match = e.body?.leftOut?.find((x) => x.match)?.match;
        notes.replaceChildren(
          ...(e.body?.leftOut ?? []).map((x) =>
            h('li', {}, x.match ? `Face ${x.index + 1} looks like ${x.match.name} (${alikeWords(x.match.similarity)}).` : x.message),
          ),
        );
        choice = { force: true };
        nameBtn.replaceChildren('Add anyway');
        if (match)
          notes.append(
            h(
              'li',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary small',
                  onclick: () => ((input.value = match.name), (choice = { personId: match.personId, name: match.name }), form.requestSubmit()),
                },
                `Name them ${match.name}`,
              ),
            ),
          );
      } else if (e.code === 'duplicate_name' && e.body?.personId) {
        choice = { personId: e.body.personId, name: e.body.name };
        nameBtn.replaceChildren(`Add to ${e.body.name}`);
      }
      throw e;
    }
  });
  const all = (v) => () => {
    boxes.forEach((b) => (b.box.checked = v));
    ticks.recount();
  };
  const dismiss = confirmButton('Dismiss', {
    question: `Forget all ${plural(c.size, 'face')} of this group?`,
    yes: `Dismiss ${plural(c.size, 'face')}`,
    action: async () => {
      const r = await view.api('POST', `/api/unknowns/${c.id}/dismiss`);
      toast(`${plural(c.size, 'face')} dismissed.`, undoAction(view, r.change, again));
      void again();
    },
  });
  return h(
    'article',
    { class: 'card' },
    h('h2', { style: 'margin-top:0' }, plural(c.size, 'sighting')),
    h('p', { class: 'muted small' }, `${c.cameras.join(', ')} · ${fmtTime(c.first)} – ${fmtTime(c.last)}`),
    h(
      'div',
      { class: 'row small' },
      h('button', { type: 'button', class: 'secondary small', onclick: all(true) }, 'Tick all'),
      h('button', { type: 'button', class: 'secondary small', onclick: all(false) }, 'Untick all'),
    ),
    h(
      'div',
      { class: 'strip', role: 'group', 'aria-label': 'Faces in this group' },
      boxes.map((b) => b.el),
    ),
    form,
    out,
    notes,
    h('div', { class: 'row' }, dismiss),
  );
}
