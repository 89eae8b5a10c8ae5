// People: the list with photo counts and where each came from, the facebank sync state, and adding a person.
import { h, loading, onSubmit, plural, setView } from './dom.js';
import { avatar } from './tags.js';

/** Enrolment strength in words (match/enrolment-strength.ts levels). */
const STRENGTH = { none: 'no usable photo', weak: 'weak enrolment', fair: 'fair enrolment', strong: 'strong enrolment' };

/** @param {import('./view.js').View} view */
export async function peopleView(view) {
  setView('People', h('h1', {}, 'People'), loading('Loading people…'));
  const { people, operatingPoint: op, sync } = await view.api('GET', '/api/people');
  const out = h('p', { class: 'error', role: 'alert' });
  const name = h('input', { type: 'text', id: 'new-name', required: true, maxLength: 64, autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'row card' },
    h('div', { class: 'grow' }, h('label', { for: 'new-name' }, 'New person'), name),
    h('button', { type: 'submit' }, 'Add person'),
  );
  onSubmit(form, out, async () => {
    const problem = view.nameProblem(name.value);
    if (problem) throw new Error(problem);
    const p = await view.api('POST', '/api/people', { name: name.value });
    location.hash = `#/people/${p.id}`;
  });
  const list = people.length
    ? h(
        'ul',
        { class: 'grid', role: 'list', style: 'list-style:none;padding:0;margin:0' },
        people.map((p) =>
          h(
            'li',
            {},
            h(
              'a',
              { class: 'person', href: `#/people/${p.id}` },
              avatar(p.avatarUrl, p.name, 96),
              h('span', { class: 'name' }, p.name),
              h('span', { class: 'muted small' }, plural(p.samples, 'photo'), p.strength ? ` · ${STRENGTH[p.strength.level]}` : ''),
              ...(p.strength?.hint && p.strength.level !== 'strong' ? [h('span', { class: 'muted small hint' }, p.strength.hint)] : []),
              ...(sync && p.origin && p.origin !== sync.applianceId ? [h('span', { class: 'muted small' }, `from ${p.origin}`)] : []),
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, 'Nobody is enrolled yet. Add a person, then upload a few photos of their face.');
  const point = op ? [h('p', { class: 'muted small', id: 'operating-point', title: `similarity ${op.threshold.toFixed(3)} (${op.source})` }, op.sentence)] : [];
  setView('People', h('h1', {}, 'People'), form, out, h('h2', {}, `Enrolled (${people.length})`), ...point, ...syncLine(sync), list);
}

/** The facebank sync state (issue 16): connected or not, last sync, changes not yet sent. */
function syncLine(sync) {
  if (!sync) return [];
  if (sync.keyMismatch)
    return [
      h(
        'p',
        { class: 'warn', id: 'sync-state' },
        `Not shared: this appliance's site key opens none of the ${sync.unreadable} records the other appliances shared, so it sends nothing. Restart it with the site's key (FACEGATE_SYNC_KEY).`,
      ),
    ];
  const when = sync.lastSync ? new Date(sync.lastSync).toLocaleString() : 'never';
  const state = sync.connected
    ? sync.pending
      ? `${plural(sync.pending, 'change')} waiting to be sent`
      : 'in sync'
    : `not connected${sync.pending ? `, ${plural(sync.pending, 'change')} waiting` : ''}`;
  return [
    h(
      'p',
      { class: 'muted small', id: 'sync-state' },
      `Shared with the site's other appliances as ${sync.applianceId}: ${state}; last sync ${when}${sync.refused ? `; ${sync.refused} record(s) refused` : ''}.`,
    ),
  ];
}
