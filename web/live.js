// Cameras: the live frame with boxes and labels drawn by the page, and capture (freeze, numbered faces, add).
import { fmtNum, h, onSubmit, plural, setView, toast } from './dom.js';
import { undoAction } from './changes.js';
import { peopleOptions } from './people-options.js';

/**
 * Draws faces over the image inside `stage`: one box per face (kind known / unknown / gated / numbered; `key`, when
 * given, goes in data-face) and a label that stays inside the frame and off the other faces' boxes where it can.
 */
export function drawFaces(stage, width, height, faces) {
  const layer = stage.querySelector('.overlay') ?? stage.appendChild(h('div', { class: 'overlay', 'aria-hidden': 'true' }));
  layer.replaceChildren();
  const labels = [];
  for (const f of faces) {
    const [x1, y1, x2, y2] = f.box;
    const box = h('div', { class: `box ${f.kind}`, 'data-face': f.key === undefined ? undefined : String(f.key) });
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

/** Overlap area of two rectangles {x, y, w, h}. */
const overlap = (a, b) => Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

/**
 * Places each label by its box: above, below, then at the right edge above or below, then inside its own box,
 * whichever covers the least of the other faces' boxes and of the labels placed before it (kept inside the frame).
 */
function placeLabels(stage, labels) {
  const W = stage.clientWidth;
  const H = stage.clientHeight;
  if (!W || !H) return;
  const rect = (el) => ({ x: el.offsetLeft, y: el.offsetTop, w: el.offsetWidth, h: el.offsetHeight });
  const boxes = [...stage.querySelectorAll('.overlay > .box')].map((el) => ({ el, ...rect(el) }));
  const placed = [];
  for (const { label, box } of labels) {
    label.style.maxWidth = `${W - 4}px`;
    const w = label.offsetWidth;
    const hh = label.offsetHeight;
    const b = rect(box);
    const clampX = (x) => Math.min(Math.max(2, x), Math.max(0, W - w - 2));
    const clampY = (y) => Math.min(Math.max(0, y), Math.max(0, H - hh));
    const candidates = [
      [b.x, b.y - hh - 2],
      [b.x, b.y + b.h + 2],
      [b.x + b.w - w, b.y - hh - 2],
      [b.x + b.w - w, b.y + b.h + 2],
      [b.x + 2, b.y + 2],
    ].map(([x, y]) => ({ x: clampX(x), y: clampY(y), w, h: hh }));
    let best = candidates[0];
    let bestCost = Infinity;
    for (const c of candidates) {
      const cost = boxes.reduce((sum, o) => (o.el === box ? sum : sum + overlap(c, o)), 0) + 2 * placed.reduce((sum, p) => sum + overlap(c, p), 0);
      if (cost < bestCost) [best, bestCost] = [c, cost];
      if (cost === 0) break;
    }
    label.style.left = `${best.x}px`;
    label.style.top = `${best.y}px`;
    placed.push(best);
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
    status.textContent = 'Back to the live frame…';
  };
  /** Marks the picked face's box (and its number) in the frozen frame. */
  const highlight = (key) => {
    for (const box of stage.querySelectorAll('.overlay > .box')) {
      const on = box.dataset.face === String(key);
      box.classList.toggle('picked', on);
      const label = box.nextElementSibling;
      if (label?.classList.contains('label')) label.classList.toggle('picked', on);
    }
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
        cap.faces.map((f, n) => ({ box: f.box, key: f.index, kind: f.ok ? 'numbered' : 'gated', text: f.ok ? String(n + 1) : '' })),
      );
      // The line under the frame now describes the captured frame, not the live one.
      const clear = cap.faces.filter((f) => f.ok).length;
      status.textContent = cap.faces.length
        ? `Captured frame: ${plural(cap.faces.length, 'face')}, ${clear} clear enough to add (numbered)${clear < cap.faces.length ? ', the others dashed' : ''}.`
        : 'Captured frame: no faces.';
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
      panel.replaceChildren(await capturePicker(view, name, cap, usable, unfreeze, highlight));
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

/**
 * The form under a frozen capture: numbered faces (thumbnails from the same frame), who, add.
 * `highlight(index)` marks the picked face in the frame.
 */
async function capturePicker(view, camera, cap, usable, done, highlight) {
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
    highlight(f.index);
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
