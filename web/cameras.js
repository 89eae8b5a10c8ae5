// Camera setup: the configured cameras (password masked), and add / test / change / disable / remove one.
// A change is saved to the config file and applied at once to that camera only.
import { confirmButton, h, onSubmit, setView, toast } from './dom.js';

/**
 * @typedef {{ name: string, url: string, enabled: boolean, loop: boolean, fps: number | null, width: number | null, inputOptions: string[] }} CameraSettings
 * @typedef {{ camera: string, state: string, fps: number, lastError: string | null }} CameraStatus
 * @typedef {{ file: string | null, writable: boolean, reason: string | null }} ConfigSource
 */

/** @param {import('./view.js').View} view */
export async function cameraSetupView(view) {
  setView('Camera setup', h('h1', {}, 'Camera setup'), h('p', { class: 'muted loading', role: 'status' }, 'Loading cameras…'));
  const data = await view.api('GET', '/api/cameras');
  /** @type {CameraSettings[]} */
  const settings = data.settings ?? [];
  /** @type {ConfigSource} */
  const source = data.config ?? { file: null, writable: false, reason: 'This appliance does not manage cameras from the page.' };
  const list = h('div', { class: 'cameras' });
  const formBox = h('div', {});
  const reload = () => view.go('#/cameras/setup');

  const where = source.writable
    ? h('p', { class: 'muted small' }, `Changes are saved to ${source.file} (the previous copy is kept as ${source.file}.bak) and apply at once.`)
    : h('p', { class: 'error', role: 'alert' }, source.reason);
  const add = h('button', { type: 'button', hidden: !source.writable, onclick: () => openForm(null) }, 'Add a camera');

  /** Shows the add/edit form in place of the add button. @param {CameraSettings | null} cam */
  function openForm(cam) {
    add.hidden = true;
    formBox.replaceChildren(cameraForm(view, cam, { onDone: reload, onCancel: () => (formBox.replaceChildren(), (add.hidden = false)) }));
    formBox.querySelector('input')?.focus();
  }

  for (const cam of settings) {
    /** @type {CameraStatus | undefined} */
    const st = data.cameras.find((c) => c.camera === cam.name);
    const state = !cam.enabled ? 'disabled' : (st?.state ?? 'not running');
    const tag = h('span', { class: `tag ${state === 'online' ? 'ok' : state === 'disabled' ? '' : state === 'starting' ? 'warn' : 'bad'}` }, state);
    const toggle = async () => {
      await view.api('PATCH', `/api/cameras/${encodeURIComponent(cam.name)}`, { enabled: !cam.enabled });
      toast(`${cam.name} ${cam.enabled ? 'disabled' : 'enabled'}.`);
      reload();
    };
    list.append(
      h(
        'section',
        { class: 'card camera-setting', 'aria-label': `Camera ${cam.name}` },
        h('h2', {}, cam.name, ' ', tag),
        h('p', { class: 'url' }, h('code', {}, cam.url)),
        h(
          'p',
          { class: 'muted small' },
          [cam.fps ? `${cam.fps} frames/s analysed` : 'default frames/s', cam.width ? `${cam.width} px wide` : 'default width', cam.loop ? 'looped' : null]
            .filter(Boolean)
            .join(' · '),
        ),
        st?.lastError && cam.enabled ? h('p', { class: 'error small' }, st.lastError) : null,
        source.writable
          ? h(
              'div',
              { class: 'row' },
              h('button', { type: 'button', class: 'secondary small', onclick: () => openForm(cam) }, 'Edit'),
              h(
                'button',
                { type: 'button', class: 'secondary small', onclick: () => toggle().catch((e) => toast(e.message)) },
                cam.enabled ? 'Disable' : 'Enable',
              ),
              confirmButton('Remove', {
                question: `Remove ${cam.name} from the config?`,
                yes: 'Remove',
                ariaLabel: `Remove ${cam.name}`,
                action: async () => {
                  await view.api('DELETE', `/api/cameras/${encodeURIComponent(cam.name)}`);
                  toast(`${cam.name} removed.`);
                  reload();
                },
              }),
            )
          : null,
      ),
    );
  }

  setView(
    'Camera setup',
    h('h1', {}, 'Camera setup'),
    where,
    settings.length ? list : h('p', { class: 'muted' }, 'No cameras are configured yet.'),
    h('div', { class: 'panel' }, add, formBox),
    h('p', { class: 'small' }, h('a', { href: '#/cameras' }, 'See the cameras live')),
  );
}

/**
 * The add/edit form: Test opens the source as the appliance would and shows a frame, its size and fps (or
 * ffmpeg's error); Save writes the config and applies the change.
 * @param {import('./view.js').View} view
 * @param {CameraSettings | null} cam the camera edited, or null to add one
 * @param {{ onDone: () => void, onCancel: () => void }} on
 */
function cameraForm(view, cam, on) {
  let n = 0;
  const field = (label, attrs, hint) => {
    const id = `cam-${++n}`;
    const input = h('input', { id, type: 'text', autocomplete: 'off', spellcheck: false, ...attrs });
    return { input, el: h('div', { class: 'grow' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'muted small' }, hint) : null) };
  };
  const check = (label, checked) => {
    const input = h('input', { type: 'checkbox', checked });
    return { input, el: h('label', { class: 'check' }, input, ' ', label) };
  };
  const name = field(
    'Camera name',
    { value: cam?.name ?? '', required: true, pattern: '[a-z0-9_-]{1,32}' },
    'Lower-case letters, digits, - and _; used in MQTT topics.',
  );
  const known = splitCredentials(cam?.url ?? '');
  const url = field(
    'Address (URL)',
    { value: known.url, required: true, placeholder: 'rtsp://192.168.1.20:554/stream', inputmode: 'url' },
    'rtsp://, http(s)://, a video file or /dev/videoN.',
  );
  const user = field('User name', { value: known.user, autocomplete: 'off' });
  const password = field(
    'Password',
    { type: 'password', autocomplete: 'new-password', placeholder: known.hasPassword ? 'unchanged' : '' },
    'Kept apart from the config file, in the data directory, and never shown again.',
  );
  const fps = field('Frames per second', { value: cam?.fps ?? '', inputmode: 'decimal', placeholder: 'default' });
  const width = field('Width (px)', { value: cam?.width ?? '', inputmode: 'numeric', placeholder: 'default' });
  const options = field('Extra ffmpeg input options', { value: (cam?.inputOptions ?? []).join(' '), placeholder: '-rtsp_transport udp' });
  const loop = check('Loop (video files)', cam?.loop ?? false);
  const enabled = check('Enabled', cam?.enabled ?? true);
  const result = h('div', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
  const out = h('p', { class: 'error', role: 'alert' });

  const body = () => {
    const num = (s) => (s.trim() === '' ? null : Number(s));
    return {
      name: name.input.value.trim(),
      url: joinCredentials(url.input.value.trim(), user.input.value.trim(), password.input.value, known.hasPassword),
      fps: num(fps.input.value),
      width: num(width.input.value),
      inputOptions: options.input.value.trim() ? options.input.value.trim().split(/\s+/) : [],
      loop: loop.input.checked,
      enabled: enabled.input.checked,
    };
  };
  const path = cam ? `/api/cameras/${encodeURIComponent(cam.name)}` : '/api/cameras';

  const test = h('button', { type: 'button', class: 'secondary' }, 'Test');
  test.addEventListener('click', async () => {
    test.disabled = true;
    out.textContent = '';
    result.replaceChildren(h('p', { class: 'muted' }, 'Opening the camera…'));
    try {
      const r = await view.api('POST', cam ? `${path}/test` : '/api/cameras/test', body());
      if (!r.ok) {
        result.replaceChildren(h('p', { class: 'error' }, r.error));
        return;
      }
      const src = r.source;
      const own = src.width ? `${src.width}×${src.height}` : 'unknown size';
      const rate = src.fps ? `${src.fps} frames/s` : 'unknown frame rate';
      result.replaceChildren(
        h('img', { class: 'frame', src: r.image, alt: `Test frame from ${body().name || 'the camera'}`, width: r.width, height: r.height }),
        h(
          'p',
          { class: 'ok' },
          `The camera answers: ${own} at ${rate}${src.codec ? ` (${src.codec})` : ''}; analysed at ${r.width}×${r.height}, ${r.fps} frames/s.`,
        ),
      );
    } catch (e) {
      result.replaceChildren();
      out.textContent = e.message;
    } finally {
      test.disabled = false;
    }
  });

  const form = h(
    'form',
    { class: 'card stack camera-form', 'aria-label': cam ? `Change ${cam.name}` : 'Add a camera', novalidate: true },
    h('h2', {}, cam ? `Change ${cam.name}` : 'Add a camera'),
    h('div', { class: 'row' }, name.el, url.el),
    h('div', { class: 'row' }, user.el, password.el),
    h('div', { class: 'row' }, fps.el, width.el, options.el),
    h('div', { class: 'row' }, loop.el, enabled.el),
    h(
      'div',
      { class: 'row' },
      test,
      h('button', { type: 'submit' }, 'Save'),
      h('button', { type: 'button', class: 'secondary', onclick: on.onCancel }, 'Cancel'),
    ),
    out,
    result,
  );
  // A test answer describes the form as it was: a change to any field clears it.
  form.addEventListener('input', () => result.replaceChildren());
  onSubmit(form, out, async () => {
    const saved = await view.api(cam ? 'PATCH' : 'POST', path, body());
    toast(`${saved.camera.name} saved${saved.camera.enabled ? ' and started' : ''}.`);
    on.onDone();
  });
  return form;
}

/** The page's form of a URL: `rtsp://me:********@host/x` → address `rtsp://host/x`, user `me`, a password is stored. */
function splitCredentials(full) {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@(.*)$/i.exec(full);
  if (!m) return { url: full, user: '', hasPassword: false };
  const [userPart, pass] = m[2].split(/:(.*)/s);
  return { url: m[1] + m[3], user: decodeURIComponent(userPart), hasPassword: pass !== undefined };
}

/**
 * The URL sent to the appliance: the user name and password put into the address (percent-encoded); an empty
 * password with one stored sends the mask, which keeps the stored one. An address typed with its own
 * credentials is sent as typed.
 */
function joinCredentials(address, user, password, hasPassword) {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/i.exec(address);
  if (!m || (!user && !password) || /^[^/]*@/.test(m[2])) return address;
  const pass = password ? `:${encodeURIComponent(password)}` : hasPassword ? ':********' : '';
  return `${m[1]}${encodeURIComponent(user)}${pass}@${m[2]}`;
}
