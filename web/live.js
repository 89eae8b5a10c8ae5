// Cameras: the live frame with boxes and labels drawn by the page, and capture (freeze, numbered faces, add).
import { fmtNum, h, onSubmit, plural, setView, toast } from './dom.js';
import { undoAction } from './changes.js';
import { peopleOptions } from './people-options.js';

/**
 * Draws faces over the image inside `stage`: one box per face (kind known / unknown / gated / numbered) and a
 * label that stays inside the frame (moved left at the right edge, below the box at the top, stacked when two collide).
 */
export function drawFaces(stage, width, height, faces) {
  const layer = stage.querySelector('.overlay') ?? stage.appendChild(h('div', { class: 'overlay', 'aria-hidden': 'true' }));
  layer.replaceChildren();
  const labels = [];
  for (const f of faces) {
    const [x1, y1, x2, y2] = f.box;
    const box = h('div', { class: `box ${f.kind}` });
    box.style.left = `${(100 * Math.max(0, x1)) / width}%`;
    box.style.top = `${(100 * Math.max(0, y1)) / height}%`;
    box.style.width = `${(100 * (Math.min(width, x2) - Math.max(0, x1))) / width}%`;
    box.style.height = `${(100 * (Math.min(height, y2) - Math.max(0, y1))) / height}%`;
    layer.append(box);
    // Gated faces get a dashed box and no label: the legend under the frame explains them.
    if (!f.text) continue;
    const label = h('span', { class: `label ${f.kind}`, title: f.title || f.text }, f.text);
    layer.append(label);
    labels.push({ label, box });
  }
  placeLabels(stage, labels);
}

/** The labels drawn in `stage`, each with its box (a label always follows its box in the overlay). */
const drawnLabels = (stage) => [...stage.querySelectorAll('.overlay > .label')].map((label) => ({ label, box: label.previousElementSibling }));

function placeLabels(stage, labels) {
  const W = stage.clientWidth;
  const H = stage.clientHeight;
  if (!W || !H) return;
  const placed = [];
  for (const { label, box } of labels) {
    label.style.maxWidth = `${W - 4}px`;
    const lw = label.offsetWidth;
    const lh = label.offsetHeight;
    const bx = box.offsetLeft;
    const by = box.offsetTop;
    const bh = box.offsetHeight;
    let x = Math.min(Math.max(2, bx), W - lw - 2);
    let y = by - lh - 2 >= 0 ? by - lh - 2 : Math.min(by + bh + 2, H - lh - 2);
    for (let tries = 0; tries < 8; tries++) {
      const hit = placed.find((p) => x < p.x + p.w && p.x < x + lw && y < p.y + p.h && p.y < y + lh);
      if (!hit) break;
      y = hit.y + hit.h + 1 + lh <= H ? hit.y + hit.h + 1 : Math.max(0, hit.y - lh - 1);
    }
    label.style.left = `${Math.max(0, x)}px`;
    label.style.top = `${Math.max(0, y)}px`;
    placed.push({ x, y, w: lw, h: lh });
  }
}

/** Label text and tooltip for a live face. */
function liveLabel(f) {
  if (f.kind === 'known') return { text: f.label, title: `${f.label}${f.similarity != null ? `, similarity ${fmtNum(f.similarity)}` : ''}` };
  if (f.kind === 'gated') return { text: '', title: '' };
  return { text: 'Unknown', title: f.similarity != null ? `Nobody matched (best similarity ${fmtNum(f.similarity)})` : 'Nobody matched' };
}

/** @param {import('./view.js').View} view */
export async function camerasView(view) {
  setView('Cameras', h('h1', {}, 'Cameras'), h('p', { class: 'muted loading', role: 'status' }, 'Loading cameras…'));
  const { cameras } = await view.api('GET', '/api/cameras');
  // Keeps labels inside the frame when the layout changes (rotation, zoom); it ends with the view.
  const resizer = new ResizeObserver((entries) => {
    for (const e of entries) placeLabels(e.target, drawnLabels(e.target));
  });
  view.onLeave(() => resizer.disconnect());
  const cards = cameras.map((cam) => cameraCard(view, resizer, cam));
  setView(
    'Cameras',
    h('h1', {}, 'Cameras'),
    cameras.length
      ? h(
          'div',
          { class: 'cameras' },
          cards.map((c) => c.el),
        )
      : h('p', { class: 'muted' }, 'No cameras are configured.'),
  );
  const tick = async () => {
    try {
      const { cameras: now } = await view.api('GET', '/api/cameras');
      for (const c of cards) c.update(now.find((x) => x.camera === c.name));
    } catch {
      /* next tick */
    }
  };
  view.every(tick, 1000);
  cards.forEach((c) => c.refresh());
}

function cameraCard(view, resizer, cam) {
  const name = cam.camera;
  const img = h('img', { class: 'frame', alt: `Latest frame of ${name}` });
  const stage = h('div', { class: 'stage' }, img);
  resizer.observe(stage);
  const status = h('p', { class: 'muted small', role: 'status' }, 'Waiting for a frame…');
  const state = h('span', { class: 'tag' });
  const meta = h('div', { class: 'meta' });
  const panel = h('div', { class: 'panel', hidden: true });
  let frozen = false;
  /** Shows a frame (live or captured) and the faces drawn over it. */
  const show = (frame, faces) => {
    img.src = frame.image;
    stage.style.aspectRatio = `${frame.width} / ${frame.height}`;
    drawFaces(stage, frame.width, frame.height, faces);
  };

  const refresh = async () => {
    if (!img.isConnected) return;
    if (!frozen) {
      try {
        const live = await view.api('GET', `/api/cameras/${encodeURIComponent(name)}/live`);
        // Decode off-screen first so the shown frame never blanks between updates.
        const next = new Image();
        next.src = live.image;
        await next.decode().catch(() => {});
        if (!frozen && img.isConnected) {
          show(
            live,
            live.faces.map((f) => ({ ...f, ...liveLabel(f) })),
          );
          const n = (kind) => live.faces.filter((f) => f.kind === kind).length;
          status.textContent = live.faces.length
            ? `${plural(live.faces.length, 'face')} in view: ${n('known')} recognised, ${n('unknown')} unknown, ${n('gated')} too small or unclear to check (dashed).`
            : 'No faces in view.';
        }
      } catch (e) {
        status.textContent = e.code === 'no_frame' ? 'No frame from this camera yet.' : e.message;
      }
    }
    // About once a second, never overlapping.
    if (img.isConnected) view.later(refresh, 1000);
  };

  const update = (st) => {
    if (!st) return;
    state.textContent = st.state;
    state.className = `tag ${st.state === 'online' ? 'ok' : st.state === 'offline' ? 'bad' : 'warn'}`;
    meta.replaceChildren(
      ...[
        h('span', {}, `${fmtNum(st.fps, 1)} frames/s`),
        h('span', {}, plural(st.restarts, 'restart')),
        h('span', { class: 'muted' }, `last frame ${st.lastFrameTime ? new Date(st.lastFrameTime).toLocaleTimeString() : '—'}`),
        st.lastError ? h('span', { class: 'error' }, st.lastError) : null,
      ].filter(Boolean),
    );
  };
  update(cam);

  const captureBtn = h('button', { type: 'button', class: 'secondary', onclick: () => capture() }, 'Capture from camera');
  // Zoom: the whole frame on the screen; the labels are re-placed for the new size.
  const enlarge = document.fullscreenEnabled
    ? h('button', { type: 'button', class: 'secondary', onclick: () => stage.requestFullscreen().catch(() => {}) }, 'Full screen')
    : null;
  const unfreeze = () => {
    frozen = false;
    panel.hidden = true;
    stage.classList.remove('frozen');
  };

  async function capture() {
    captureBtn.disabled = true;
    panel.hidden = false;
    panel.replaceChildren(h('p', { class: 'muted', role: 'status' }, 'Looking for faces…'));
    try {
      const cap = await view.api('POST', `/api/cameras/${encodeURIComponent(name)}/capture`);
      // Freeze the frame the faces came from: the boxes, numbers and thumbnails all belong to it.
      frozen = true;
      stage.classList.add('frozen');
      show(
        cap,
        cap.faces.map((f, n) => ({ box: f.box, kind: f.ok ? 'numbered' : 'gated', text: f.ok ? String(n + 1) : '' })),
      );
      if (!cap.faces.length) {
        panel.replaceChildren(
          h('p', {}, 'No face in this frame. Try again when someone faces the camera.'),
          h('button', { type: 'button', class: 'secondary', onclick: unfreeze }, 'Back to live'),
        );
        return;
      }
      const usable = cap.faces.filter((f) => f.ok);
      if (!usable.length) {
        panel.replaceChildren(
          h('p', {}, `${plural(cap.faces.length, 'face')} seen, none sharp, large or frontal enough. Try again.`),
          h('button', { type: 'button', class: 'secondary', onclick: unfreeze }, 'Back to live'),
        );
        return;
      }
      panel.replaceChildren(await capturePicker(view, name, cap, usable, unfreeze));
    } catch (e) {
      panel.replaceChildren(h('p', { class: 'error' }, e.message), h('button', { type: 'button', class: 'secondary', onclick: unfreeze }, 'Back to live'));
    } finally {
      captureBtn.disabled = false;
    }
  }

  const el = h(
    'article',
    { class: 'card camera' },
    h('div', { class: 'row', style: 'justify-content:space-between;align-items:center' }, h('h2', { style: 'margin:0' }, name), state),
    stage,
    status,
    meta,
    h('div', { class: 'row' }, captureBtn, enlarge),
    panel,
  );
  return { el, name, update, refresh };
}

/** The form under a frozen capture: numbered faces (thumbnails from the same frame), who, add. */
async function capturePicker(view, camera, cap, usable, done) {
  let chosen = null;
  const out = h('p', { class: 'error', role: 'alert' });
  const select = h('select', { id: `who-${camera}` });
  await peopleOptions(view.api, select, 'New person…');
  const newName = h('input', { type: 'text', id: `newname-${camera}`, maxLength: 64, placeholder: 'Name of the new person', autocomplete: 'off' });
  const newWrap = h('div', {}, h('label', { for: `newname-${camera}` }, 'New person’s name'), newName);
  const hint = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const pick = (f, btn) => {
    chosen = f.index;
    faceButtons.forEach((b) => b.setAttribute('aria-pressed', String(b === btn)));
    // The person the face resembles is chosen for you; change it if that is wrong.
    if (f.match) {
      select.value = f.match.personId;
      hint.textContent = `Looks like ${f.match.name}.`;
    } else {
      select.value = '';
      hint.textContent = 'Nobody enrolled looks like this face.';
    }
    newWrap.hidden = select.value !== '';
  };
  const faceButtons = usable.map((f) => {
    const n = cap.faces.indexOf(f) + 1;
    const btn = h(
      'button',
      { type: 'button', 'aria-pressed': 'false', onclick: () => pick(f, btn) },
      h('img', { src: f.thumbnail, alt: '' }),
      `Face ${n}`,
      f.match ? h('span', { class: 'small muted' }, f.match.name) : null,
    );
    return btn;
  });
  select.addEventListener('change', () => (newWrap.hidden = select.value !== ''));
  const submit = h('button', { type: 'submit' }, 'Add face');
  const form = h(
    'form',
    { class: 'stack' },
    h('h3', { style: 'margin:0' }, 'Pick a face'),
    h('div', { class: 'faces', role: 'group', 'aria-label': 'Faces in the frame' }, faceButtons),
    hint,
    h('div', {}, h('label', { for: `who-${camera}` }, 'Add to'), select),
    newWrap,
    h('div', { class: 'row' }, submit, h('button', { type: 'button', class: 'secondary', onclick: done }, 'Back to live')),
    out,
  );
  if (usable.length === 1) pick(usable[0], faceButtons[0]);
  let force = false; // set after the appliance warned that the face looks like someone else
  onSubmit(form, out, async () => {
    if (chosen === null) throw new Error('Pick a face first.');
    const body = { camera, captureId: cap.captureId, face: chosen, force };
    if (select.value) body.personId = select.value;
    else body.name = newName.value;
    try {
      const r = await view.api('POST', '/api/captures/enrol', body);
      toast(r.created ? `Face added; ${r.name} is enrolled.` : 'Face added.', undoAction(view, r.change));
      done();
    } catch (e) {
      if (e.code === 'looks_like_other') ((force = true), submit.replaceChildren('Add anyway'));
      throw e;
    }
  });
  return form;
}
