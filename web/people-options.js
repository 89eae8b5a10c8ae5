// A <select> of enrolled people.
import { h } from './dom.js';

export async function peopleOptions(api, select, placeholder) {
  const { people } = await api('GET', '/api/people');
  select.replaceChildren(h('option', { value: '' }, placeholder), ...people.map((p) => h('option', { value: p.id }, p.name)));
  return people;
}
