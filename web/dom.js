// Building blocks of the page: elements from data (never HTML strings), the view switch, toasts, forms, confirms.

export const main = document.getElementById('main');
const toastBox = document.getElementById('toast');

/** Builds an element: h('button', {type: 'button', onclick}, 'text', child...). Text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && k !== 'list' && k !== 'form') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/**
 * Shows `text` for 4 s, or 10 s with an action button (e.g. Undo). When and which timer are kept on the toast
 * element itself, not in module state.
 * @param {string} text
 * @param {{ label: string, run: () => unknown } | null} [action]
 */
export function toast(text, action = null) {
  toastBox.dataset.at = String(Date.now());
  toastBox.replaceChildren(text);
  if (action) {
    const btn = h('button', { type: 'button', class: 'secondary small', style: 'margin-left:.75rem' }, action.label);
    btn.addEventListener('click', () => {
      toastBox.textContent = '';
      void action.run();
    });
    toastBox.append(btn);
  }
  clearTimeout(Number(toastBox.dataset.timer));
  toastBox.dataset.timer = String(setTimeout(() => (toastBox.textContent = ''), action ? 10000 : 4000));
}
/** Clears the toast unless it was shown just now (e.g. "deleted", then back to the list). */
export function staleToast() {
  if (Date.now() - Number(toastBox.dataset.at ?? 0) > 1000) toastBox.textContent = '';
}

export function setView(title, ...children) {
  document.title = `${title} · facegate`;
  main.replaceChildren(...children);
}

/** A "Loading…" line announced to screen readers. */
export const loading = (text = 'Loading…') => h('p', { class: 'muted loading', role: 'status' }, text);

/** Runs fn on submit with the buttons disabled and errors shown in `out`. */
export function onSubmit(form, out, fn) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btns = form.querySelectorAll('button');
    btns.forEach((b) => (b.disabled = true));
    out.textContent = '';
    try {
      await fn();
    } catch (e) {
      out.textContent = e.message;
    } finally {
      btns.forEach((b) => (b.disabled = false));
    }
  });
}

/**
 * A destructive button that asks first, in place: the first press shows `question` with a confirm button
 * (`yes`) and Keep; only the confirm runs `action`.
 * @param {string} label
 * @param {{ question: string, yes: string, action: () => unknown, small?: boolean, ariaLabel?: string }} options
 */
export function confirmButton(label, { question, yes, action, small = true, ariaLabel }) {
  const wrap = h('span', { class: 'confirm' });
  const first = h('button', { type: 'button', class: `danger${small ? ' small' : ''}`, 'aria-label': ariaLabel }, label);
  const ask = h('span', { class: 'confirm-ask', role: 'group', 'aria-label': question, hidden: true });
  const keep = h('button', { type: 'button', class: `secondary${small ? ' small' : ''}` }, 'Keep');
  const go = h('button', { type: 'button', class: `danger${small ? ' small' : ''}` }, yes);
  ask.append(h('span', { class: 'small' }, question), ' ', go, ' ', keep);
  first.addEventListener('click', () => {
    first.hidden = true;
    ask.hidden = false;
    keep.focus();
  });
  keep.addEventListener('click', () => {
    ask.hidden = true;
    first.hidden = false;
    first.focus();
  });
  go.addEventListener('click', async () => {
    go.disabled = keep.disabled = true;
    try {
      await action();
    } catch (e) {
      toast(e.message);
      go.disabled = keep.disabled = false;
    }
  });
  wrap.append(first, ask);
  return wrap;
}

/** Copies text to the clipboard (falls back to selecting it); says so in `button`. */
export async function copyText(text, button, selectEl) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    const r = document.createRange();
    r.selectNodeContents(selectEl);
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    button.textContent = document.execCommand?.('copy') ? 'Copied' : 'Selected: press Ctrl+C';
  }
  setTimeout(() => (button.textContent = 'Copy'), 2500);
}

export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
export const fmtNum = (n, d = 2) => (typeof n === 'number' ? n.toFixed(d) : '—');
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Keeps `count` (inside `button`) at the number of ticked boxes; the button is disabled at none. Returns the ticked values. */
export function tickCounter(boxes, button, count) {
  const recount = () => {
    const n = boxes.filter((b) => b.checked).length;
    count.textContent = plural(n, 'face');
    button.disabled = n === 0;
  };
  boxes.forEach((b) => b.addEventListener('change', recount));
  recount();
  return { recount, ticked: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}
