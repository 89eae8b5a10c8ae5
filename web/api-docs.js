// The API reference page (/api.html): renders the appliance's own OpenAPI document, no third-party renderer.
import { h } from './dom.js';

/** @typedef {{ type?: string, format?: string, enum?: unknown[], nullable?: boolean, items?: Schema, properties?: Record<string, Schema>, required?: string[], anyOf?: Schema[], oneOf?: Schema[], description?: string, $ref?: string, minimum?: number, maximum?: number, default?: unknown }} Schema */

/** One line of words for a schema: "integer 1..1000, default 100", "array of string", "object". */
function typeWords(/** @type {Schema} */ s) {
  if (!s) return 'any';
  if (s.$ref) return s.$ref.split('/').pop();
  const alts = s.anyOf ?? s.oneOf;
  let t = alts ? alts.map(typeWords).join(' or ') : s.enum ? s.enum.map((v) => JSON.stringify(v)).join(' | ') : (s.type ?? 'any');
  if (s.type === 'array') t = `array of ${typeWords(s.items)}`;
  if (s.format) t += ` (${s.format})`;
  if (s.minimum !== undefined || s.maximum !== undefined) t += ` ${s.minimum ?? ''}..${s.maximum ?? ''}`;
  if (s.nullable) t += ' or null';
  if (s.default !== undefined) t += `, default ${JSON.stringify(s.default)}`;
  return t;
}

/** A schema as nested lists of its fields (objects and arrays of objects opened up). */
function fields(/** @type {Schema} */ s, depth = 0) {
  const obj = s?.type === 'array' ? s.items : s;
  if (!obj?.properties || depth > 4) return null;
  return h(
    'ul',
    { class: 'api-fields' },
    Object.entries(obj.properties).map(([name, p]) =>
      h(
        'li',
        {},
        h('code', {}, name),
        obj.required?.includes(name) ? '' : ' (optional)',
        ': ',
        typeWords(p),
        p.description ? h('span', { class: 'muted' }, ` — ${p.description}`) : '',
        fields(p, depth + 1),
      ),
    ),
  );
}

function operation(method, path, op) {
  const params = (op.parameters ?? []).map((p) =>
    h('li', {}, h('code', {}, p.name), ` (${p.in}${p.required ? ', required' : ''}): ${typeWords(p.schema)}`, p.description ? ` — ${p.description}` : ''),
  );
  const body = op.requestBody?.content ?? {};
  const responses = Object.entries(op.responses ?? {}).filter(([status]) => Number(status) < 400);
  return h(
    'section',
    { class: 'card api-op', id: op.operationId },
    h('h2', {}, h('code', {}, `${method.toUpperCase()} ${path}`)),
    h('p', {}, op.summary ?? '', op.security && op.security.length === 0 ? h('span', { class: 'muted' }, ' (no sign-in needed)') : ''),
    ...(params.length ? [h('h3', {}, 'Parameters'), h('ul', {}, params)] : []),
    ...Object.entries(body).flatMap(([type, c]) => [h('h3', {}, `Body (${type})`), fields(c.schema) ?? h('p', {}, typeWords(c.schema))]),
    ...responses.flatMap(([status, r]) =>
      Object.entries(r.content ?? {}).flatMap(([type, c]) => [
        h('h3', {}, `${status} ${r.description} (${type})`),
        fields(c.schema) ?? h('p', {}, typeWords(c.schema)),
      ]),
    ),
  );
}

async function show() {
  const status = document.getElementById('api-status');
  const out = document.getElementById('api');
  const res = await fetch('/api/openapi.json', { credentials: 'same-origin' });
  if (res.status === 401) {
    status.replaceChildren('Sign in on ', h('a', { href: '/' }, 'the admin page'), ' first, then reload this page.');
    return;
  }
  if (!res.ok) {
    status.textContent = `The API document could not be loaded (${res.status}).`;
    return;
  }
  const doc = await res.json();
  status.textContent = doc.info?.description ?? '';
  const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => operation(method, path, op)));
  const errors = h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Errors'),
    h('p', {}, 'Every error is JSON {error, message}; the codes:'),
    h('p', {}, h('code', {}, (doc.components?.schemas?.Error?.properties?.error?.enum ?? []).join(', '))),
  );
  out.replaceChildren(...ops, errors);
}

void show();
