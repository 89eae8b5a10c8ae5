import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/events/bus.js';

const change = { seq: 1, time: new Date().toISOString(), op: 'replace' as const };

describe('Bus', () => {
  it('runs every listener even when one throws, and reports and counts the failure', () => {
    const bus = new Bus();
    const reported: string[] = [];
    bus.reportErrorsTo((event, err) => reported.push(`${event}: ${(err as Error).message}`));
    const seen: number[] = [];
    bus.on('facebankChanged', () => seen.push(1));
    bus.on('facebankChanged', () => {
      throw new Error('boom');
    });
    bus.on('facebankChanged', (c) => seen.push(c.seq + 1));
    expect(() => bus.emit('facebankChanged', change)).not.toThrow();
    expect(seen).toEqual([1, 2]);
    expect(reported).toEqual(['facebankChanged: boom']);
    expect(bus.listenerErrors.get('facebankChanged')).toBe(1);
  });

  it('counts a listener whose promise rejects', async () => {
    const bus = new Bus();
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- an async listener is what this test is about
    bus.on('mqttConnection', async () => {
      throw new Error('later');
    });
    bus.emit('mqttConnection', { connected: true });
    await new Promise((r) => setTimeout(r, 0));
    expect(bus.listenerErrors.get('mqttConnection')).toBe(1);
  });

  it('stops calling a listener once it is removed, and keeps a listener added twice twice', () => {
    const bus = new Bus();
    let n = 0;
    const l = () => n++;
    const off = bus.on('mqttConnection', l);
    bus.on('mqttConnection', l);
    bus.emit('mqttConnection', { connected: true });
    expect(n).toBe(2);
    off();
    bus.emit('mqttConnection', { connected: false });
    expect(n).toBe(3);
  });
});
