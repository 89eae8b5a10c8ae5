// Adding photos to a person: drag and drop or the two pickers (gallery, camera); each photo is answered on its
// own, in words from the server's error table (/errors.js); a group photo asks which face, a look-alike asks whom.
import { h, plural, toast } from './dom.js';
import { REASONS } from './errors.js';
import { qualityTag } from './tags.js';

/**
 * The drop zone; results go into `results`.
 * @param {import('./view.js').View} view
 * @param {() => { id: string, name: string }} current the person shown (renaming changes it)
 * @param {HTMLElement} results
 * @param {() => unknown} onAccepted runs when a photo was added to the person shown
 */
export function uploadArea(view, current, results, onAccepted) {
  async function upload(files, opts = {}, target = current()) {
    if (!files.length) return;
    const fd = new FormData();
    for (const f of files) fd.append('photos', f, f.name);
    const pending = h('li', { class: 'muted', role: 'status' }, `Uploading ${plural(files.length, 'photo')}…`);
    results.prepend(pending);
    const q = new URLSearchParams();
    if (opts.face !== undefined && opts.face !== null) q.set('face', String(opts.face));
    if (opts.force) q.set('force', '1');
    try {
      const r = await view.api('POST', `/api/people/${target.id}/photos${q.size ? `?${q}` : ''}`, fd);
      pending.remove();
      r.results.forEach((res, i) => results.prepend(resultItem(res, files[i], target)));
      toast(`${r.accepted} accepted, ${r.rejected} refused.`);
      if (r.accepted && target.id === current().id) void onAccepted();
      return r;
    } catch (e) {
      pending.className = 'error';
      pending.textContent = e.message;
      return null;
    }
  }
  /** Runs a one-shot choice: every button of `group` is disabled at once, so a double click sends one request. */
  const once = (group, fn) => async (ev) => {
    if (group.dataset.busy) return;
    group.dataset.busy = '1';
    group.querySelectorAll('button').forEach((b) => (b.disabled = true));
    const r = await fn(ev);
    if (r && r.accepted) group.replaceChildren(h('p', { class: 'ok small', style: 'margin:0' }, 'Added.'));
    else {
      delete group.dataset.busy;
      group.querySelectorAll('button').forEach((b) => (b.disabled = false));
    }
  };
  function resultItem(res, file, target) {
    const prefix = target.id === current().id ? '' : `${target.name}: `;
    if (res.status === 'accepted')
      return h(
        'li',
        {},
        h('img', { class: 'thumb', src: res.thumbnail, alt: '' }),
        h('div', { class: 'what' }, h('strong', {}, res.file), h('div', { class: 'ok' }, `${prefix}Added · `, qualityTag(res.quality, view.settings))),
      );
    // A preview only for real images (the server decoded it, or refused it for a reason other than "not a photo").
    const local = file && res.reason !== 'not_image' && res.reason !== 'too_many_pixels' && file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
    const item = h(
      'li',
      {},
      local
        ? h('img', { class: 'thumb', src: local, alt: '' })
        : h('span', { class: 'thumb avatar', style: 'width:56px;height:56px;border-radius:6px;font-size:1rem' }, '?'),
      h(
        'div',
        { class: 'what' },
        h('strong', {}, res.file),
        h('div', { class: res.reason === 'looks_like_other' ? 'warn' : 'error' }, `${prefix}${REASONS[res.reason] || res.reason}: ${res.message}`),
      ),
    );
    if (res.reason === 'multiple_faces' && res.faces && file) {
      // Only faces good enough to enrol are offered; the index is the server's.
      const usable = res.faces.filter((f) => f.ok);
      const skipped = res.faces.length - usable.length;
      const group = h('div', { class: 'faces', role: 'group', 'aria-label': 'Pick the face to add' });
      group.append(
        ...usable.map((f, n) =>
          h(
            'button',
            { type: 'button', onclick: once(group, () => upload([file], { face: f.index })), 'aria-label': `Use face ${n + 1}` },
            h('img', { src: f.thumbnail, alt: '' }),
            `Face ${n + 1}`,
          ),
        ),
      );
      item.append(
        group,
        skipped
          ? h(
              'p',
              { class: 'muted small', style: 'flex-basis:100%;margin:0' },
              `${skipped} more face${skipped === 1 ? ' is' : 's are'} too small or unclear to use.`,
            )
          : null,
      );
    }
    if (res.reason === 'looks_like_other' && file) {
      const group = h('div', { class: 'row choice', role: 'group', 'aria-label': 'Who is it?' });
      const other = { id: res.match.personId, name: res.match.name };
      group.append(
        h(
          'button',
          { type: 'button', class: 'secondary small', onclick: once(group, () => upload([file], { face: res.faceIndex, force: true })) },
          `Add to ${current().name} anyway`,
        ),
        h(
          'button',
          { type: 'button', class: 'small', onclick: once(group, () => upload([file], { face: res.faceIndex }, other)) },
          `Add to ${other.name} instead`,
        ),
      );
      item.append(group);
    }
    return item;
  }
  const pickAny = h('input', {
    type: 'file',
    id: 'pick',
    accept: 'image/*',
    multiple: true,
    class: 'visually-hidden',
    onchange: (e) => upload([...e.target.files]).then(() => (e.target.value = '')),
  });
  const pickCam = h('input', {
    type: 'file',
    id: 'snap',
    accept: 'image/*',
    capture: 'user',
    multiple: true,
    class: 'visually-hidden',
    onchange: (e) => upload([...e.target.files]).then(() => (e.target.value = '')),
  });
  const drop = h(
    'div',
    { class: 'drop' },
    h('p', {}, 'Drop photos here, or'),
    h(
      'div',
      { class: 'row' },
      h('label', { class: 'button file-button', for: 'pick' }, 'Choose photos', pickAny),
      h('label', { class: 'button secondary file-button', for: 'snap' }, 'Take a photo', pickCam),
    ),
    h('p', { class: 'muted small' }, 'One face per photo, facing the camera, in good light. Several photos of different days help.'),
  );
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    upload([...e.dataTransfer.files]);
  });
  return drop;
}
