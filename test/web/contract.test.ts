import * as schemaValidatorModule from 'openapi-schema-validator';
import type { IOpenAPISchemaValidator, OpenAPISchemaValidatorArgs } from 'openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/web/app.js';
import { OPERATIONS, openapi } from '../../src/web/openapi.js';
import { hasTestData } from '../helpers/data.js';
import { checkAnswer, cjsDefault } from './contract.js';

const OpenAPISchemaValidator = cjsDefault<new (args: OpenAPISchemaValidatorArgs) => IOpenAPISchemaValidator>(schemaValidatorModule);
import { TestClient, testClientIp } from './client.js';
import { buildDeps, type TestDeps } from './deps.js';

const PASSWORD = 'correct horse battery staple';

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.0 document', () => {
    const { errors } = new OpenAPISchemaValidator({ version: 3 }).validate(openapi as never);
    expect(errors).toEqual([]);
  });

  it('types what the server parses: integers, nullable, array items, and the 201s of the routes that create', () => {
    const op = (m: string, p: string) => (openapi.paths as Record<string, Record<string, any>>)[p]![m];
    const param = (m: string, p: string, name: string) => op(m, p).parameters.find((x: { name: string }) => x.name === name).schema;
    expect(param('get', '/api/events', 'limit')).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000, default: 100 });
    expect(param('post', '/api/people/{id}/photos', 'face')).toMatchObject({ type: 'integer' });
    expect(param('post', '/api/people/{id}/photos', 'force')).toMatchObject({ type: 'integer' });
    const days = op('post', '/api/tokens').requestBody.content['application/json'].schema.properties.days;
    expect(days).toMatchObject({ type: 'integer', nullable: true });
    const members = op('post', '/api/unknowns/{id}/name').requestBody.content['application/json'].schema.properties.memberIds;
    expect(members).toMatchObject({ type: 'array', items: { type: 'string' } });
    expect(Object.keys(op('post', '/api/tokens').responses)).toContain('201');
    expect(Object.keys(op('get', '/api/samples/{id}/crop.jpg').responses['200'].content)).toEqual(['image/jpeg']);
  });

  it('the contract check refuses an answer the document does not describe', async () => {
    const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    await expect(checkAnswer('GET', 'http://x/api/people', json({ people: 'nobody' }))).rejects.toThrow(/does not match/);
    await expect(checkAnswer('GET', 'http://x/api/unlisted', json({}))).rejects.toThrow(/does not describe/);
    await expect(checkAnswer('POST', 'http://x/api/tokens', json({}, 200))).rejects.toThrow(/gives 201/);
    await expect(checkAnswer('GET', 'http://x/api/people', json({ error: 'nope', message: 'x' }, 404))).rejects.toThrow(/Error/);
    await expect(checkAnswer('GET', 'http://x/api/tokens', json({ tokens: [] }))).resolves.toBeUndefined();
  });
});

describe.skipIf(!hasTestData)('the API against its document', () => {
  let d: TestDeps;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    d = await buildDeps();
    app = createApp({ ...d, clientIp: testClientIp });
  }, 60_000);
  afterAll(() => d?.cleanup());

  it('documents every route it mounts, and mounts every route it documents', () => {
    const toDoc = (p: string) => p.replace(/:(\w+)/g, '{$1}');
    const mounted = new Set(
      app.routes.filter((r) => r.path.startsWith('/api/') && r.method !== 'ALL' && !r.path.includes('*')).map((r) => `${r.method} ${toDoc(r.path)}`),
    );
    const documented = new Set(OPERATIONS.map((o) => `${o.method.toUpperCase()} ${o.path}`));
    expect([...mounted].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !mounted.has(r))).toEqual([]);
  });

  it('answers a method a path does not take with 405 and Allow', async () => {
    const c = new TestClient(app);
    const code = d.auth.pendingClaimCode()!;
    expect((await c.signIn(PASSWORD, '/api/setup', code)).status).toBe(200);
    const put = await c.req('PUT', '/api/people');
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(await put.json()).toMatchObject({ error: 'method_not_allowed' });
    const del = await c.req('DELETE', '/api/tokens');
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD, POST');
    const none = await c.req('GET', '/api/nothing-here');
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: 'no_route' });
  });

  it('creates a token with the document typed body, and refuses a string where the schema wants an integer', async () => {
    const c = new TestClient(app);
    expect((await c.signIn(PASSWORD)).status).toBe(200);
    const made = await c.req('POST', '/api/tokens', { json: { name: 'ha', scope: 'read', days: 30 } });
    expect(made.status).toBe(201);
    const bad = await c.req('POST', '/api/tokens', { json: { name: 'ha', days: '30' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_expiry' });
  });
});
