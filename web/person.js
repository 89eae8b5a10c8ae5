// One person: their photos (with quality, delete), rename and delete, and the upload area (uploads.js).
import { confirmButton, h, loading, onSubmit, setView, toast } from './dom.js';
import { undoAction } from './changes.js';
import { qualityTag } from './tags.js';
import { uploadArea } from './uploads.js';

/**
 * @param {import('./view.js').View} view
 * @param {string} id
 */
export async function personView(view, id) {
  setView('Person', loading('Loading…'));
  let person;
  try {
    person = await view.api('GET', `/api/people/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e.status === 404) return setView('Not found', h('h1', {}, 'No such person'), h('a', { href: '#/people' }, 'Back to people'));
    throw e;
  }
  const heading = h('h1', {}, person.name);
  const samplesBox = h('div', { class: 'samples', 'aria-live': 'polite' }, loading('Loading photos…'));
  const results = h('ul', { class: 'results', 'aria-live': 'polite', 'aria-label': 'Upload results' });

  async function loadSamples() {
    const { samples } = await view.api('GET', `/api/people/${person.id}/samples`);
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
                h('div', {}, qualityTag(s.quality, view.settings)),
                confirmButton('Delete', {
                  ariaLabel: `Delete this ${s.source} sample`,
                  question: 'Delete this photo?',
                  yes: 'Delete photo',
                  action: async () => {
                    const r = await view.api('DELETE', `/api/samples/${s.id}`);
                    toast('Photo deleted.', undoAction(view, r.change, loadSamples));
                    void loadSamples();
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
  const renameForm = h(
    'form',
    { class: 'row' },
    h('div', { class: 'grow' }, h('label', { for: 'rename' }, 'Name'), nameInput),
    h('button', { type: 'submit', class: 'secondary' }, 'Rename'),
  );
  onSubmit(renameForm, renameOut, async () => {
    const problem = view.nameProblem(nameInput.value);
    if (problem) throw new Error(problem);
    person = await view.api('PATCH', `/api/people/${person.id}`, { name: nameInput.value });
    heading.textContent = person.name;
    toast('Renamed.');
  });
  const del = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        if (!confirm(`Delete ${person.name} and all their photos?`)) return;
        await view.api('DELETE', `/api/people/${person.id}`);
        toast(`${person.name} deleted.`);
        location.hash = '#/people';
      },
    },
    'Delete person',
  );

  const drop = uploadArea(view, () => person, results, loadSamples);

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
