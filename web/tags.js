// Small pieces several views show: a person's avatar (photo or initials) and a sample's quality tag.
import { h } from './dom.js';
import { qualityWord } from './words.js';

const initials = (name) =>
  name
    .split(/\s+/)
    .map((w) => w[0] || '')
    .join('')
    .slice(0, 2)
    .toUpperCase();

export function avatar(url, name, size) {
  return url
    ? h('img', { class: 'avatar', src: url, alt: '', width: size, height: size })
    : h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(name));
}

/** @param {import('./api.js').Settings} settings */
export function qualityTag(q, settings) {
  const { word, title } = qualityWord(q, settings);
  return h('span', { class: `tag quality q-${word}`, title, tabIndex: 0 }, `quality ${word}`);
}
