// Recent changes to the facebank (corrections, naming and dismissing unknown faces, photos added or removed,
// renames), newest first, each with an Undo for a day; and the Undo action the other views put in their toasts.
import { fmtTime, h, loading, setView, toast } from './dom.js';

/**
 * The toast action that undoes `change` (from an API answer), then runs `after` (e.g. reload the view).
 * @param {import('./view.js').View} view
 * @param {{ id: string } | { id: string }[] | null | undefined} change
 * @param {() => unknown} [after]
 */
export function undoAction(view, change, after) {
  const list = (Array.isArray(change) ? change : [change]).filter(Boolean);
  if (!list.length) return null;
  return {
    label: 'Undo',
    run: async () => {
      try {
        for (const c of list) await view.api('POST', `/api/changes/${c.id}/undo`);
        toast('Undone.');
      } catch (e) {
        toast(e.message);
      }
      await after?.();
    },
  };
}

/** @param {import('./view.js').View} view */
export async function changesView(view) {
  setView('Changes', h('h1', {}, 'Recent changes'), loading('Loading changes…'));
  const { changes } = await view.api('GET', '/api/changes');
  const item = (c) => {
    const undo = h('button', { type: 'button', class: 'secondary small' }, 'Undo');
    undo.addEventListener('click', async () => {
      undo.disabled = true;
      try {
        await view.api('POST', `/api/changes/${c.id}/undo`);
        toast(`Undone: ${c.summary}`);
        void changesView(view);
      } catch (e) {
        toast(e.message);
        undo.disabled = false;
      }
    });
    return h(
      'li',
      { class: 'row', 'data-change': c.id },
      h('span', { class: 'grow' }, c.summary, ' ', h('span', { class: 'muted small' }, fmtTime(c.time))),
      c.undone ? h('span', { class: 'tag' }, 'undone') : c.undoable ? undo : null,
    );
  };
  setView(
    'Changes',
    h('h1', {}, 'Recent changes'),
    h(
      'p',
      { class: 'muted' },
      'What was changed in the last day, newest first. Undo takes a change back: added photos are removed, removed ones come back, a corrected event is as the camera decided it again.',
    ),
    changes.length ? h('ul', { class: 'changes', style: 'list-style:none;padding:0' }, changes.map(item)) : h('p', { class: 'muted' }, 'No changes yet.'),
  );
}
