// Sign-in, and claiming a new appliance (claim code and the first admin password).
import { takePlace } from './api.js';
import { h, onSubmit, setView } from './dom.js';

/**
 * @param {import('./view.js').View} view
 * @param {boolean} setup claiming (no password yet) rather than signing in
 */
export function passwordView(view, setup) {
  const minLength = view.status?.minPasswordLength;
  const out = h('p', { class: 'error', role: 'alert' });
  const code = setup
    ? h('input', { type: 'text', id: 'claim', required: true, autocomplete: 'one-time-code', spellcheck: false, placeholder: 'XXXX-XXXX-XXXX', maxLength: 20 })
    : null;
  const pw = h('input', {
    type: 'password',
    id: 'pw',
    name: 'password',
    required: true,
    autocomplete: setup ? 'new-password' : 'current-password',
    minLength: setup ? minLength : undefined,
  });
  const pw2 = setup ? h('input', { type: 'password', id: 'pw2', required: true, autocomplete: 'new-password' }) : null;
  const form = h(
    'form',
    { class: 'card narrow stack' },
    h('h1', {}, setup ? 'Claim this appliance' : 'Sign in'),
    setup
      ? h(
          'p',
          { class: 'muted' },
          'Enter the one-time claim code, then choose the admin password (at least ',
          String(minLength),
          ' characters). The appliance prints the code when it starts (',
          h('code', {}, "journalctl -u facegate | grep 'Claim code'"),
          '), and ',
          h('code', {}, 'sudo facegate status'),
          ' shows it.',
        )
      : null,
    setup ? h('div', {}, h('label', { for: 'claim' }, 'Claim code'), code) : null,
    h('div', {}, h('label', { for: 'pw' }, setup ? 'New password' : 'Password'), pw),
    setup ? h('div', {}, h('label', { for: 'pw2' }, 'Repeat the password'), pw2) : null,
    h('button', { type: 'submit' }, setup ? 'Set password' : 'Sign in'),
    out,
  );
  onSubmit(form, out, async () => {
    if (setup && pw.value !== pw2.value) throw new Error('The two passwords differ.');
    const r = await view.api('POST', setup ? '/api/setup' : '/api/login', setup ? { password: pw.value, claimCode: code.value } : { password: pw.value });
    view.setCsrf(r.csrfToken);
    view.go(takePlace());
  });
  setView(setup ? 'Claim this appliance' : 'Sign in', form);
  (code ?? pw).focus();
}
