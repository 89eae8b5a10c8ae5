/**
 * The transport's subscriptions and direct publishes (what the facebank sync uses instead of a second client),
 * against a real mosquitto: retained messages reach the handler of a matching filter; the subscription is made
 * again, and acknowledged to its owner, after the broker comes back; publishNow resolves on the broker's ack and
 * refuses while disconnected; connection listeners hear the link go and come; unsubscribing stops delivery.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttSchema } from '../../src/config/schema.js';
import { MqttTransport, topicMatches } from '../../src/mqtt/transport.js';
import { silentLogger } from '../../src/util/log.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';

async function until(pred: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('topicMatches', () => {
  it.each([
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/b', 'a/b', true],
    ['a/b', 'a/b/c', false],
    ['site/facebank/+/+', 'site/facebank/probe/box-1', true],
    ['site/facebank/+/+', 'other/facebank/person/x', false],
  ])('%s against %s: %s', (filter, topic, expected) => expect(topicMatches(filter, topic)).toBe(expected));
});

describe.skipIf(!hasMosquitto)('MqttTransport subscriptions (real broker)', { timeout: 60_000 }, () => {
  const broker = new Mosquitto({ persistence: true });
  beforeAll(() => broker.start());
  afterAll(() => broker.dispose());

  it('delivers retained and live messages, subscribes again after a broker restart, and publishes with acks', async () => {
    const seed = await mqtt.connectAsync(broker.url);
    await seed.publishAsync('t1/rec/a', 'retained-a', { qos: 1, retain: true });
    await seed.publishAsync('t1/other', 'not for us', { qos: 1, retain: true });
    await seed.endAsync();

    const link = new MqttTransport({
      config: mqttSchema.parse({ prefix: 't1' }),
      availabilityTopic: 't1/available',
      url: broker.url,
      clientId: 'sub-test',
      log: silentLogger(),
      reconnectPeriodMs: 200,
    });
    const got: string[] = [];
    let acked = 0;
    const states: boolean[] = [];
    link.onConnectionChange((up) => states.push(up));
    const unsubscribe = link.subscribe('t1/rec/+', { onMessage: (topic, payload) => got.push(`${topic}=${payload.toString()}`), onSubscribed: () => acked++ });
    await expect(link.publishNow('t1/rec/b', Buffer.from('early'), { retain: true })).rejects.toThrow(/not connected/);
    link.start();
    await until(() => acked === 1 && got.includes('t1/rec/a=retained-a'), 'the retained record');
    expect(got.some((g) => g.startsWith('t1/other'))).toBe(false);

    await link.publishNow('t1/rec/b', Buffer.from('mine'), { retain: true });
    await until(() => got.includes('t1/rec/b=mine'), 'our own publish back');

    await broker.restart(true);
    await until(() => acked === 2, 'the subscription made again after the broker returned');
    expect(states).toEqual([true, false, true]);
    // The retained records are delivered again on the new subscription (persistence kept them).
    await until(() => got.filter((g) => g === 't1/rec/b=mine').length === 2, 'the retained records again');

    unsubscribe();
    const before = got.length;
    await link.publishNow('t1/rec/c', Buffer.from('after'), { retain: false });
    const check = await mqtt.connectAsync(broker.url);
    await check.subscribeAsync('t1/rec/c', { qos: 1 });
    await check.publishAsync('t1/rec/c', 'marker', { qos: 1 });
    await check.endAsync();
    expect(got.length).toBe(before);
    await link.stop();
  });
});
