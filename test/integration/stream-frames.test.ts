/**
 * What readers send on /v1/stream: subscribe, unsubscribe, ping; every
 * invalid frame is answered with an `error` frame and the socket stays
 * open; abuse and oversized frames close it.
 */
import { openReader, postAlert } from '../helpers/clients';
import { passMarker } from '../helpers/marker';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { STREAM_ENV } from './stream-helpers';

describe('client frames on /v1/stream', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url, {
      ...STREAM_ENV,
      FLASHWIRE_MAX_TOPICS_PER_CONNECTION: '3',
      FLASHWIRE_MAX_FRAME_BYTES: '1024',
      FLASHWIRE_MAX_BAD_FRAMES_PER_SECOND: '5',
      FLASHWIRE_MAX_MESSAGES_PER_SECOND: '20',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    await redis?.cleanup();
  });

  it('subscribes and unsubscribes at runtime, and delivery follows', async () => {
    const r = await openReader(svc.wsUrl, { topics: 'sports' });
    r.send({ type: 'subscribe', topics: ['europe'] });
    expect(await r.waitFor((f) => f.type === 'subscribed')).toEqual({ type: 'subscribed', topics: ['europe'] });
    const a = await postAlert(svc.url, { headline: 'after subscribe', topics: ['europe/ukraine'] });
    await r.waitFor((f) => f.type === 'alert' && f.alert.id === a.body.id);

    r.send({ type: 'unsubscribe', topics: ['europe', 'never-had'] });
    expect(await r.waitFor((f) => f.type === 'unsubscribed')).toEqual({ type: 'unsubscribed', topics: ['europe'] });
    expect(svc.service.gateway!.hub.membersOf('europe')).toBe(0);
    const b = await postAlert(svc.url, { headline: 'after unsubscribe', topics: ['europe'] });
    const marker = await postAlert(svc.url, { headline: 'marker', topics: ['sports'] });
    await r.waitFor((f) => f.type === 'alert' && f.alert.id === marker.body.id);
    expect(r.ofType('alert').some((f) => f.alert.id === b.body.id)).toBe(false);
    r.close();
  });

  it('answers ping with pong', async () => {
    const r = await openReader(svc.wsUrl, { topics: 'world' });
    r.send({ type: 'ping' });
    expect(await r.waitFor((f) => f.type === 'pong')).toEqual({ type: 'pong' });
    r.close();
  });

  it('refuses a private topic without a credential with forbidden_topic and keeps the others', async () => {
    const r = await openReader(svc.wsUrl, { topics: 'world' });
    r.send({ type: 'subscribe', topics: ['private/club', 'sports'] });
    expect(await r.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'forbidden_topic' });
    expect(await r.waitFor((f) => f.type === 'subscribed')).toEqual({ type: 'subscribed', topics: ['sports'] });
    r.close();
  });

  it.each([
    ['not JSON', 'hello', false, 'invalid_frame'],
    ['an unknown type', JSON.stringify({ type: 'shout' }), false, 'invalid_frame'],
    ['unknown fields', JSON.stringify({ type: 'ping', please: true }), false, 'invalid_frame'],
    ['a binary frame', Buffer.from('{"type":"ping"}'), true, 'invalid_frame'],
    ['a bad topic', JSON.stringify({ type: 'subscribe', topics: ['Not A Topic'] }), false, 'invalid_topic'],
  ])('answers %s with an error frame and stays open', async (_name, payload, binary, code) => {
    const r = await openReader(svc.wsUrl, { topics: 'world' });
    r.ws.send(payload, { binary });
    const err = await r.waitFor((f) => f.type === 'error');
    expect(err).toEqual({ type: 'error', code, message: expect.any(String) });
    // Still open and still served.
    r.send({ type: 'ping' });
    await r.waitFor((f) => f.type === 'pong');
    expect(r.ws.readyState).toBe(r.ws.OPEN);
    r.close();
  });

  it('caps topics per connection with too_many_topics', async () => {
    const r = await openReader(svc.wsUrl, { topics: 'a,b' });
    r.send({ type: 'subscribe', topics: ['c', 'd', 'e'] });
    expect(await r.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'too_many_topics' });
    expect(await r.waitFor((f) => f.type === 'subscribed')).toEqual({ type: 'subscribed', topics: ['c'] });
    r.close();
    const over = await openReader(svc.wsUrl, { topics: 'a,b,c,d' });
    expect(over.frames[0].topics).toEqual(['a', 'b', 'c']);
    expect(await over.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'too_many_topics' });
    over.close();
  });

  it('closes with 1008 when bad frames per second pass the limit', async () => {
    const r = await openReader(svc.wsUrl, { topics: 'world' });
    for (let i = 0; i < 10; i++) r.ws.send('nope');
    expect((await r.closed).code).toBe(1008);
    expect(r.ofType('error').length).toBeGreaterThanOrEqual(5);
  });

  it('closes with 1008 when messages per second pass the limit, even valid ones', async () => {
    const r = await openReader(svc.wsUrl, { topics: 'world' });
    for (let i = 0; i < 40; i++) r.send({ type: 'ping' });
    expect((await r.closed).code).toBe(1008);
  });

  it('does not close a reader that stays under the limits', async () => {
    const r = await openReader(svc.wsUrl, { topics: 'world' });
    for (let i = 0; i < 3; i++) r.ws.send('nope');
    for (let i = 0; i < 5; i++) r.send({ type: 'ping' });
    await r.waitForCount('pong', 5);
    // A later alert reaching it shows the gateway kept it after every frame.
    await passMarker(svc.url, [r], ['world']);
    expect(r.ws.readyState).toBe(r.ws.OPEN);
    r.close();
  });

  it('closes with 1009 on a frame over FLASHWIRE_MAX_FRAME_BYTES', async () => {
    const r = await openReader(svc.wsUrl, { topics: 'world' });
    r.send({ type: 'subscribe', topics: ['x'.repeat(2000)] });
    expect((await r.closed).code).toBe(1009);
  });
});
