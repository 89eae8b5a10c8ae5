import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, parseSyncKey, seal } from '../../src/sync/envelope.js';
import { compareHlc, formatHlc, HlcClock, parseHlc } from '../../src/sync/hlc.js';
import { decide, expired } from '../../src/sync/merge.js';
import { syncRecordSchema, type SyncRecord } from '../../src/sync/records.js';
import { nameClashes, nameSum, suffixedName } from '../../src/sync/names.js';
import { parseSyncTopic, syncTopic } from '../../src/sync/topics.js';

describe('HLC', () => {
  it('never goes backwards when the wall clock does, and moves past what it observed', () => {
    let wall = 1000;
    const a = new HlcClock('a', () => wall);
    const v1 = a.now();
    wall = 500;
    const v2 = a.now();
    expect(compareHlc(v2, v1)).toBeGreaterThan(0);
    a.observe({ wall: 9000, counter: 4, node: 'b' });
    const v3 = a.now();
    expect(compareHlc(v3, { wall: 9000, counter: 4, node: 'b' })).toBeGreaterThan(0);
  });
  it('breaks ties by node id and round-trips its text form', () => {
    const x = { wall: 5, counter: 1, node: 'a' };
    const y = { wall: 5, counter: 1, node: 'b' };
    expect(compareHlc(x, y)).toBeLessThan(0);
    expect(parseHlc(formatHlc(y))).toEqual(y);
    expect(parseHlc('garbage')).toBeNull();
  });
});

describe('merge', () => {
  const rec = (version: string, name: string): SyncRecord => ({ kind: 'person', id: 'p1', version, origin: 'a', deleted: false, name, created: 't' });
  it('converges whatever the order of delivery, duplicates included', () => {
    const versions = [
      formatHlc({ wall: 1, counter: 0, node: 'a' }),
      formatHlc({ wall: 1, counter: 0, node: 'b' }),
      formatHlc({ wall: 2, counter: 0, node: 'a' }),
    ];
    const records = versions.map((v, i) => rec(v, `n${i}`));
    const orders = [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0, 2, 1],
      [1, 0, 1],
    ];
    const finals = orders.map((o) => {
      let cur: SyncRecord | undefined;
      for (const i of o) if (decide(cur, records[i]!) === 'apply') cur = records[i];
      return cur && !cur.deleted && cur.kind === 'person' ? cur.name : null;
    });
    expect(finals).toEqual(['n2', 'n2', 'n2', 'n1']);
    expect(decide(records[2], records[2]!)).toBe('same');
  });
  it('lets a later tombstone win and expires it', () => {
    const t: SyncRecord = { kind: 'person', id: 'p1', version: formatHlc({ wall: 3, counter: 0, node: 'a' }), origin: 'a', deleted: true, expires: 100 };
    expect(decide(rec(formatHlc({ wall: 2, counter: 9, node: 'z' }), 'x'), t)).toBe('apply');
    expect(decide(t, rec(formatHlc({ wall: 2, counter: 9, node: 'z' }), 'x'))).toBe('stale');
    expect(expired(t, 99)).toBe(false);
    expect(expired(t, 100)).toBe(true);
  });
  it('refuses records that do not match the schema', () => {
    expect(syncRecordSchema.safeParse({ kind: 'person', id: '../x', version: 'v', origin: 'a', deleted: false, name: 'x', created: 't' }).success).toBe(false);
  });
});

describe('envelope', () => {
  const key = randomBytes(32);
  const plain = Buffer.from('{"embedding":[0.1,0.2]}');
  it('round-trips and hides the payload', () => {
    const sealed = seal(key, 't/facebank/sample/1', plain);
    expect(sealed.includes(Buffer.from('embedding'))).toBe(false);
    expect(open(key, 't/facebank/sample/1', sealed)?.equals(plain)).toBe(true);
  });
  it('refuses a tampered payload, another key, another topic and clear text', () => {
    const sealed = seal(key, 'a', plain);
    const bad = Buffer.from(sealed);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    expect(open(key, 'a', bad)).toBeNull();
    expect(open(randomBytes(32), 'a', sealed)).toBeNull();
    expect(open(key, 'b', sealed)).toBeNull();
    expect(open(key, 'a', plain)).toBeNull();
  });
  it('reads keys as hex or base64 and names the rule otherwise', () => {
    expect(parseSyncKey(key.toString('hex')).equals(key)).toBe(true);
    expect(parseSyncKey(key.toString('base64')).equals(key)).toBe(true);
    expect(() => parseSyncKey('short')).toThrow(/32 bytes/);
  });
  it('lays out topics', () => {
    expect(parseSyncTopic('fg', syncTopic('fg', 'sample', 'ab-1'))).toEqual({ kind: 'sample', id: 'ab-1' });
    expect(parseSyncTopic('fg', 'fg/facebank/other/1')).toBeNull();
  });
});

describe('names across appliances', () => {
  const v = (wall: number, node: string) => formatHlc({ wall, counter: 0, node });
  it('keeps the name for whoever took it first; the later holders (any case) must yield', () => {
    const people = [
      { id: 'p3', name: 'sam', version: v(30, 'c') },
      { id: 'p1', name: 'Sam', version: v(10, 'a') },
      { id: 'p2', name: 'Sam ', version: v(20, 'b') },
      { id: 'p4', name: 'Ada', version: v(5, 'a') },
    ];
    expect(nameClashes(people).map((p) => p.id)).toEqual(['p2', 'p3']);
    expect(nameClashes(people.slice(1, 2))).toEqual([]);
  });
  it('a person from before sync (no version yet) keeps the name', () => {
    expect(
      nameClashes([
        { id: 'x', name: 'Sam', version: v(1, 'a') },
        { id: 'y', name: 'Sam', version: undefined },
      ]).map((p) => p.id),
    ).toEqual(['x']);
  });
  it('suffixes with the appliance and stays within the name length', () => {
    expect(suffixedName('Sam', 'garage')).toBe('Sam (garage)');
    expect(suffixedName('Sam', 'garage', 2)).toBe('Sam (garage 2)');
    const long = suffixedName('x'.repeat(64), 'front-door');
    expect(long).toHaveLength(64);
    expect(long.endsWith(' (front-door)')).toBe(true);
    expect(nameSum('Sam')).not.toBe(nameSum('Sam B'));
  });
});
