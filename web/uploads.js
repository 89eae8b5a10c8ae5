// Adding photos to a person: drag and drop or the two pickers (gallery, camera); each photo is answered on its
// own, in words from the server's error table (/errors.js); a group photo asks which face, a look-alike asks whom.
import { h, plural, toast } from './dom.js';
import { REASONS } from './errors.js';
import { qualityTag } from './tags.js';

/** Answers that ask the user something rather than refuse. */
const QUESTIONS = new Set(['multiple_faces', 'looks_like_other']);

/** 12 345 678 → "12 MB" (SI units; the same rule as src/util/bytes.ts, which the browser cannot import). */
export function fmtBytes(n) {
  const units = ['bytes', 'kB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? plural(n, 'byte') : `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

/** The upload's outcome in one line: what was added, what waits for a choice, what was refused. */
function summary(results) {
  const n = (pred) => results.filter(pred).length;
  const added = n((r) => r.status === 'accepted');
  const asking = n((r) => r.status !== 'accepted' && QUESTIONS.has(r.reason));
  const refused = results.length - added - asking;
  const parts = [
    added ? `${plural(added, 'photo')} added` : '',
    asking ? `${plural(asking, 'photo')} need${asking === 1 ? 's' : ''} a choice` : '',
    refused ? `${plural(refused, 'photo')} refused` : '',
  ].filter(Boolean);
  return `${parts.join(', ')}.`.replace(/^./, (c) => c.toUpperCase());
}

const placeholder = () => h('span', { class: 'thumb avatar', style: 'width:56px;height:56px;border-radius:6px;font-size:1rem' }, '?');

/**
 * A thumbnail of a local photo, decoded straight to thumbnail size (a 38 MP photo is never decoded in full for it);
 * "?" stays when the browser cannot decode the file.
 */
function preview(file) {
  const box = placeholder();
  if (!file.type.startsWith('image/')) return box;
  createImageBitmap(file, { resizeWidth: 112, resizeQuality: 'medium' }).then(
    (bitmap) => {
      const canvas = h('canvas', { class: 'thumb', width: bitmap.width, height: bitmap.height, 'aria-hidden': 'true' });
      canvas.getContext('bitmaprenderer')?.transferFromImageBitmap(bitmap);
      if (box.isConnected) box.replaceWith(canvas);
    },
    () => {},
  );
  return box;
}

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
      toast(summary(r.results));
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
  /** The reason in words; sizes in human units. */
  function explain(res) {
    if (res.reason === 'multiple_faces') return 'Several faces in this photo: pick the one to add.';
    if (res.reason === 'too_large' && typeof res.bytes === 'number') {
      const max = view.status?.maxUploadBytes;
      return `File too large: ${fmtBytes(res.bytes)}${max ? `; photos up to ${fmtBytes(max)} are accepted` : ''}.`;
    }
    return `${REASONS[res.reason] || res.reason}: ${res.message}`;
  }
  function resultItem(res, file, target) {
    const prefix = target.id === current().id ? '' : `${target.name}: `;
    if (res.status === 'accepted')
      return h(
        'li',
        {},
        h('img', { class: 'thumb', src: res.thumbnail, alt: '' }),
        h('div', { class: 'what' }, h('strong', {}, res.file), h('div', { class: 'ok' }, `${prefix}Added · `, qualityTag(res.quality, view.settings))),
      );
    // A question (which face? whom?) is not an error: it is shown plainly, the refusals in red.
    const asks = QUESTIONS.has(res.reason);
    const item = h(
      'li',
      { class: asks ? 'asks' : 'refused' },
      file && res.reason !== 'not_image' ? preview(file) : placeholder(),
      h(
        'div',
        { class: 'what' },
        h('strong', {}, res.file),
        h('div', { class: res.reason === 'looks_like_other' ? 'warn' : asks ? 'info' : 'error' }, `${prefix}${explain(res)}`),
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
      item.append(group);
      if (skipped)
        item.append(
          h(
            'p',
            { class: 'muted small', style: 'flex-basis:100%;margin:0' },
            `${skipped} more face${skipped === 1 ? ' is' : 's are'} too small or unclear to use.`,
          ),
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
