// API tokens (scope, expiry, last use, copy once) and the account: password change, sign out everywhere.
import { confirmButton, copyText, fmtTime, h, loading, main, onSubmit, setView, toast } from './dom.js';

const EXPIRY = [
  ['30', '30 days'],
  ['90', '90 days'],
  ['365', '1 year'],
  ['', 'Never'],
];

/** @param {import('./view.js').View} view */
export async function tokensView(view, fresh) {
  setView('Tokens', h('h1', {}, 'API tokens'), loading('Loading tokens…'));
  const { tokens } = await view.api('GET', '/api/tokens');
  const out = h('p', { class: 'error', role: 'alert' });
  const shown = h('div', { 'aria-live': 'polite' });
  const name = h('input', { type: 'text', id: 'token-name', required: true, maxLength: 64, placeholder: 'e.g. home-assistant' });
  const scope = h(
    'select',
    { id: 'token-scope' },
    h('option', { value: 'read' }, 'Read only'),
    h('option', { value: 'admin' }, 'Admin (can change everything)'),
  );
  const days = h(
    'select',
    { id: 'token-days' },
    EXPIRY.map(([v, t]) => h('option', { value: v }, t)),
  );
  days.value = '90';
  const form = h(
    'form',
    { class: 'row card' },
    h('div', { class: 'grow' }, h('label', { for: 'token-name' }, 'New token for'), name),
    h('div', {}, h('label', { for: 'token-scope' }, 'Allowed to'), scope),
    h('div', {}, h('label', { for: 'token-days' }, 'Expires after'), days),
    h('button', { type: 'submit' }, 'Create token'),
  );
  onSubmit(form, out, async () => {
    const t = await view.api('POST', '/api/tokens', { name: name.value, scope: scope.value, days: days.value ? Number(days.value) : null });
    await tokensView(view, t);
  });
  if (fresh) {
    const code = h('code', { class: 'secret' }, fresh.token);
    const copy = h('button', { type: 'button', class: 'secondary small', onclick: () => copyText(fresh.token, copy, code) }, 'Copy');
    shown.append(
      h(
        'div',
        { class: 'card stack' },
        h('strong', {}, `Token "${fresh.name}": copy it now, it is shown only once.`),
        code,
        h('div', { class: 'row' }, copy),
        h('p', { class: 'muted small' }, 'Send it as: Authorization: Bearer <token>'),
      ),
    );
  }
  const table = tokens.length
    ? h(
        'table',
        { class: 'tokens' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'Name'),
            h('th', {}, 'Allowed'),
            h('th', {}, 'Expires'),
            h('th', {}, 'Last used'),
            h('th', {}, h('span', { class: 'visually-hidden' }, 'Actions')),
          ),
        ),
        h(
          'tbody',
          {},
          tokens.map((t) =>
            h(
              'tr',
              { class: t.expired ? 'expired' : '' },
              // data-label: a phone shows each token as a block of labelled lines (style.css), Expires included.
              h('td', { 'data-label': 'Name' }, t.name),
              h('td', { 'data-label': 'Allowed' }, t.scope === 'admin' ? 'admin' : 'read'),
              h('td', { 'data-label': 'Expires' }, t.expired ? h('span', { class: 'tag bad' }, 'expired') : t.expires ? fmtTime(t.expires) : 'never'),
              h('td', { 'data-label': 'Last used' }, t.lastUsed ? fmtTime(t.lastUsed) : 'never'),
              h(
                'td',
                { class: 'actions' },
                confirmButton('Revoke', {
                  ariaLabel: `Revoke token ${t.name}`,
                  question: `Revoke "${t.name}"?`,
                  yes: 'Revoke',
                  action: async () => {
                    await view.api('DELETE', `/api/tokens/${t.id}`);
                    toast(`Token "${t.name}" revoked.`);
                    void tokensView(view);
                  },
                }),
              ),
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, 'No tokens yet.');
  setView(
    'Tokens',
    h('h1', {}, 'API tokens'),
    h('p', { class: 'muted' }, 'Tokens let automation use the API without the password. A read-only token can look but not change anything.'),
    form,
    out,
    shown,
    h('h2', {}, 'Tokens'),
    table,
  );
  if (fresh) main.querySelector('code.secret')?.scrollIntoView({ block: 'nearest' });
}

/** @param {import('./view.js').View} view */
export async function accountView(view) {
  const st = view.status;
  const out = h('p', { class: 'error', role: 'alert' });
  const cur = h('input', { type: 'password', id: 'pw-current', required: true, autocomplete: 'current-password' });
  const next = h('input', { type: 'password', id: 'pw-new', required: true, autocomplete: 'new-password', minLength: st.minPasswordLength });
  const again = h('input', { type: 'password', id: 'pw-again', required: true, autocomplete: 'new-password' });
  const form = h(
    'form',
    { class: 'card stack narrow-left' },
    h('h2', { style: 'margin-top:0' }, 'Change the password'),
    h('div', {}, h('label', { for: 'pw-current' }, 'Current password'), cur),
    h('div', {}, h('label', { for: 'pw-new' }, 'New password'), next),
    h('div', {}, h('label', { for: 'pw-again' }, 'Repeat the new password'), again),
    h('p', { class: 'muted small' }, 'Every other browser is signed out; API tokens keep working.'),
    h('button', { type: 'submit' }, 'Change password'),
    out,
  );
  onSubmit(form, out, async () => {
    if (next.value !== again.value) throw new Error('The two new passwords differ.');
    const r = await view.api('POST', '/api/password', { current: cur.value, password: next.value });
    view.setCsrf(r.csrfToken);
    form.reset();
    toast('Password changed; other browsers are signed out.');
  });
  if (st.passwordFixed)
    form.replaceChildren(
      h('h2', { style: 'margin-top:0' }, 'Password'),
      h('p', { class: 'muted' }, 'The password is set in the appliance config (web.passwordHash); change it there.'),
    );
  const everywhere = confirmButton('Sign out everywhere', {
    small: false,
    question: 'Sign out every browser, this one too?',
    yes: 'Sign out everywhere',
    action: async () => {
      const r = await view.api('POST', '/api/sessions/end-all');
      toast(`Signed out ${r.ended} session${r.ended === 1 ? '' : 's'}.`);
      location.hash = '#/login';
    },
  });
  setView(
    'Account',
    h('h1', {}, 'Account'),
    form,
    h(
      'section',
      { class: 'card stack narrow-left' },
      h('h2', { style: 'margin-top:0' }, 'Sessions'),
      h('p', { class: 'muted' }, 'Lost a phone or used a shared computer? End every session.'),
      h('div', {}, everywhere),
    ),
  );
}
