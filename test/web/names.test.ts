/** One name rule for the facebank (CLI), the API and the page: no invisible or direction-changing characters, NFC. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameKey, nameRule, nameTakenMessage, normalizeName, sameNameAs } from '../../src/store/names.js';
import { createApp } from '../../src/web/app.js';
import { hasTestData } from '../helpers/data.js';
import { buildDeps, type TestDeps } from './deps.js';
import { TestClient, testClientIp } from './client.js';

const HOSTILE = [
  ['right-to-left override', 'evil\u202Egpj.exe'],
  ['left-to-right isolate', 'Bob\u2066'],
  ['zero-width space', 'Ann\u200Ba'],
  ['zero-width joiner', 'Ann\u200D'],
  ['byte order mark', '\uFEFFAnna'],
  ['only zero-width', '\u200B\u200C'],
  ['control character', 'Ann\u0007a'],
  ['line separator', 'Ann\u2028a'],
] as const;

describe('the name rule', () => {
  it.each(HOSTILE)('rejects a %s with a sentence naming the code point', (_what, name) => {
    expect(() => normalizeName(name)).toThrow(/invisible or direction-changing characters \(U\+[0-9A-F]{4} found\)/);
  });

  it('normalises to NFC and collapses white space; accents and other scripts stay', () => {
    expect(normalizeName('  Zoe\u0308   Saldan\u0303a ')).toBe('Zoë Saldaña');
    expect(normalizeName('Zoe\u0308')).toBe(normalizeName('Zo\u00eb'));
    expect(normalizeName('山田 太郎')).toBe('山田 太郎');
    expect(normalizeName('Ana\tMaría')).toBe('Ana María');
  });

  it('counts characters, not UTF-16 units: 64 allowed, 65 refused', () => {
    expect(normalizeName('A' + '😀'.repeat(63))).toHaveLength(127);
    expect(() => normalizeName('a'.repeat(65))).toThrow(/1 to 64 characters/);
    expect(() => normalizeName('   ')).toThrow(/Give the person a name/);
  });

  it.each([
    ['Hangul filler U+3164', '\u3164'],
    ['a name ending in U+3164', 'Ann\u3164'],
    ['blank braille U+2800', '\u2800'],
    ['Hangul choseong/jungseong fillers', '\u115F\u1160'],
    ['halfwidth Hangul filler', '\uFFA0'],
    ['combining grapheme joiner', 'A\u034F'],
  ] as const)('refuses %s as an invisible character', (_what, name) => {
    expect(() => normalizeName(name)).toThrow(/invisible or direction-changing characters \(U\+[0-9A-F]{4} found\)/);
  });

  it.each([
    ['a variation selector alone', '\uFE0F'],
    ['combining marks alone', '\u0301\u0308'],
    ['only an emoji', '😀'],
    ['only punctuation', '-.-'],
  ] as const)('refuses %s: a name needs a visible letter or digit', (_what, name) => {
    expect(() => normalizeName(name)).toThrow('A name needs at least one letter or digit that can be seen.');
  });

  it('keeps a variation selector after a visible character, and marks on letters', () => {
    expect(normalizeName('Ann ❤️')).toBe('Ann ❤️');
    expect(normalizeName('Zoe\u0308')).toBe('Zoë');
  });

  it('compares names by case and by their TR39 confusable skeleton', () => {
    expect(nameKey('Shеldon')).toBe(nameKey('Sheldon')); // Cyrillic е
    expect(nameKey('ЅHELDON')).toBe(nameKey('sheldon')); // Cyrillic Ѕ
    expect(nameKey('Pa\u0443l')).toBe(nameKey('Payl')); // Cyrillic у prototypes to y
    expect(nameKey('Zoë')).not.toBe(nameKey('Zoe'));
    expect(nameKey('Li Wei')).not.toBe(nameKey('Li Wen'));
    const people = [{ id: 'a', name: 'Sheldon' }];
    expect(sameNameAs('Shеldon', people)).toEqual(people[0]);
    expect(sameNameAs('Shеldon', people, 'a')).toBeNull();
    expect(nameTakenMessage('Shеldon', people[0]!)).toMatch(/looks the same as "Sheldon"/);
    expect(nameTakenMessage('sheldon', people[0]!)).toMatch(/already a person called "Sheldon"/);
  });

  it('is served to the page as a regular expression the browser can apply', () => {
    const re = new RegExp(nameRule.forbidden, nameRule.flags);
    expect(HOSTILE.every(([, n]) => re.test(n))).toBe(true);
    expect(re.test('Zoë Saldaña')).toBe(false);
  });
});

describe.skipIf(!hasTestData)('names through the API and the facebank', () => {
  let d: TestDeps;
  let admin: TestClient;
  beforeAll(async () => {
    d = await buildDeps({ password: 'a long admin password' });
    admin = new TestClient(createApp({ ...d, clientIp: testClientIp }));
    await admin.signIn('a long admin password');
  }, 60_000);
  afterAll(() => d?.cleanup());

  it('the API refuses hostile names with the rule’s sentence and stores nothing', async () => {
    for (const [, name] of HOSTILE) {
      const r = await admin.req('POST', '/api/people', { json: { name } });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ error: 'bad_name', message: expect.stringMatching(/invisible|name/) });
    }
    expect(await d.facebank.people()).toEqual([]);
  });

  it('decomposed and composed spellings are one person (409 on the second)', async () => {
    const a = await admin.req('POST', '/api/people', { json: { name: 'Zoe\u0308' } });
    expect(a.status).toBe(201);
    expect(((await a.json()) as { name: string }).name).toBe('Zo\u00eb');
    expect((await admin.req('POST', '/api/people', { json: { name: 'zo\u00eb' } })).status).toBe(409);
  });

  it('the facebank (used by the CLI) applies the same rule', async () => {
    await expect(d.facebank.createPerson('evil\u202Egpj')).rejects.toMatchObject({ code: 'bad_name' });
    expect((await d.facebank.findByName('ZOE\u0308'))?.name).toBe('Zo\u00eb');
  });
});
