/**
 * Bounded cost per connection: what one WebSocket reader can make a gateway
 * hold. Control frames count toward the slow-reader cut-off like events,
 * one subscribe gets at most one error frame, only a pong to the server's
 * own ping keeps a peer alive, frames before welcome are capped, and a
 * resume replay has a deadline.
 */
import IORedis from 'ioredis';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { eventually, openReader, sleep } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { STREAM_ENV } from './stream-helpers';

type Svc = Awaited<ReturnType<typeof startService>>;

const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;

/** Sends frames from `next` as fast as the socket takes them until `done` holds (or the time is up); resolves with how many were sent. */
async function flood(ws: WebSocket, next: () => void, done: () => boolean, timeoutMs = 60_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  let n = 0;
  while (!done() && Date.now() < until && ws.readyState === WebSocket.OPEN) {
    // Keep the client's own buffer small: this measures the server, not us.
    if (ws.bufferedAmount < 256 * 1024) {
      for (let i = 0; i < 100; i++, n++) next();
    }
    await new Promise((r) => setImmediate(r));
    if (ws.bufferedAmount >= 256 * 1024) await sleep(5);
  }
  return n;
}

/** A WebSocket to the stream that never reads once open. */
function neverReading(url: string, opts: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, opts);
  ws.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      socketOf(ws).pause();
      resolve(ws);
    });
    ws.once('unexpected-response', () => reject(new Error('handshake refused')));
  });
}

describe('bounded cost per connection', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: IORedis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new IORedis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis?.cleanup();
  });

  describe('with the message rate limit out of the way', () => {
    let svc: Svc;
    beforeAll(async () => {
      svc = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_MAX_MESSAGES_PER_SECOND: '100000', FLASHWIRE_MAX_TOPICS_PER_CONNECTION: '100' });
    });
    afterAll(async () => svc?.stop());

    it('cuts off (4008) a reader that floods frames answered by control frames and never reads the answers', async () => {
      const gw = svc.service.gateway!;
      const before = gw.stats.slowDisconnects;
      // 100 topics already held: every subscribe is answered with a `subscribed` listing them all.
      const topics = Array.from({ length: 100 }, (_, i) => `cost/t${i}`);
      const ws = await neverReading(`${svc.wsUrl}/v1/stream?topics=${topics.join(',')}`);
      const frame = JSON.stringify({ type: 'subscribe', topics });
      await flood(ws, () => ws.send(frame), () => gw.stats.slowDisconnects > before);
      expect(gw.stats.slowDisconnects).toBe(before + 1);
      expect(gw.stats.maxBufferedAtCutOff).toBeLessThan(svc.service.options.settings.FLASHWIRE_MAX_BUFFERED_BYTES + 64 * 1024);
      socketOf(ws).resume();
      ws.terminate();
    });

    it('answers WebSocket pings under the same cut-off', async () => {
      const gw = svc.service.gateway!;
      const before = gw.stats.slowDisconnects;
      const ws = await neverReading(`${svc.wsUrl}/v1/stream?topics=world`);
      const payload = Buffer.alloc(125, 1);
      await flood(ws, () => ws.ping(payload), () => gw.stats.slowDisconnects > before);
      expect(gw.stats.slowDisconnects).toBe(before + 1);
      socketOf(ws).resume();
      ws.terminate();
    });

    it('takes frames from welcome on, during a resume replay too (acks of replayed events are not held)', async () => {
      const gw = svc.service.gateway!;
      const tailed = gw.stats.eventsTailed;
      const body = `"alert":${JSON.stringify({ headline: 'y'.repeat(2000) })}`;
      const N = 3000;
      const pipe = client.pipeline();
      for (let i = 0; i < N; i++) pipe.xadd(`${svc.prefix}:feed`, '*', 'type', 'alert', 'alert', `b${i}`, 'topics', 'acked', 'body', body);
      await pipe.exec();
      await eventually(() => gw.stats.eventsTailed >= tailed + N, 30_000);
      const ws = new WebSocket(`${svc.wsUrl}/v1/stream?topics=acked&since=0-1`);
      const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
      let alerts = 0;
      const all = new Promise<void>((resolve) =>
        ws.on('message', (d) => {
          const f = JSON.parse(String(d));
          if (f.type !== 'alert') return;
          // Acks for the first events, sent while the replay is still going.
          if (++alerts <= 50) ws.send(JSON.stringify({ type: 'ack', eventId: f.eventId }));
          if (alerts === N) resolve();
        }),
      );
      await Promise.race([all, closed.then((c) => Promise.reject(new Error(`closed ${c.code} ${c.reason} after ${alerts} alerts`)))]);
      expect(ws.readyState).toBe(WebSocket.OPEN);
      ws.close();
    });

    it('answers one subscribe with at most one error frame, naming every bad topic', async () => {
      const r = await openReader(svc.wsUrl, { topics: Array.from({ length: 98 }, (_, i) => `held/t${i}`).join(',') });
      r.send({ type: 'subscribe', topics: ['Not A Topic', 'private/a', 'private/b', 'fresh/one', 'fresh/two', 'fresh/three'] });
      // The answer to the subscribe comes after its error frame.
      expect(await r.waitFor((f) => f.type === 'subscribed')).toEqual({ type: 'subscribed', topics: ['fresh/one', 'fresh/two'] });
      const errors = r.ofType('error');
      expect(errors).toHaveLength(1);
      expect(errors[0].code).toBe('invalid_topic');
      for (const t of ['Not A Topic', 'private/a', 'private/b', 'fresh/three']) expect(errors[0].message).toContain(t);
      expect(errors[0].message).toContain('forbidden_topic');
      expect(errors[0].message).toContain('too_many_topics');
      r.close();
    });
  });

  describe('heartbeats', () => {
    let svc: Svc;
    beforeAll(async () => {
      svc = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_HEARTBEAT_MS: '1000' });
    });
    afterAll(async () => svc?.stop());

    it('does not count a pong the server did not ask for as alive', async () => {
      const r = await openReader(svc.wsUrl, { topics: 'world' }, { autoPong: false });
      // Unsolicited pongs, several per heartbeat, and none answering a ping.
      const timer = setInterval(() => r.ws.readyState === WebSocket.OPEN && r.ws.pong(), 200);
      try {
        expect((await r.closed).code).toBe(1006);
      } finally {
        clearInterval(timer);
      }
    });

    it('keeps a peer whose pongs answer its pings', async () => {
      const r = await openReader(svc.wsUrl, { topics: 'world' });
      let pings = 0;
      r.ws.on('ping', () => pings++);
      await eventually(() => pings >= 3, 15_000);
      expect(r.ws.readyState).toBe(WebSocket.OPEN);
      r.close();
    });
  });

  describe('before welcome and during a resume', () => {
    let svc: Svc;
    beforeAll(async () => {
      svc = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_RESUME_DEADLINE_MS: '1000', FLASHWIRE_REDIS_TIMEOUT_MS: '5000' });
    });
    afterAll(async () => svc?.stop());

    it('closes with 1008 a connection that sends more than a few frames before its reader is ready', async () => {
      // Redis holds every command for a moment: the credential check waits,
      // and frames arriving meanwhile are held, but only a few.
      await client.call('CLIENT', 'PAUSE', '2000', 'ALL');
      const ws = new WebSocket(`${svc.wsUrl}/v1/stream?topics=world&token=fw_not_a_real_key_0123456789abcdef`);
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.once('open', () => {
        for (let i = 0; i < 50; i++) ws.send(JSON.stringify({ type: 'ping' }));
      });
      expect(await closed).toBe(1008);
    });

    it('closes with 4008 a resuming reader that does not read its replay by the deadline', async () => {
      const gw = svc.service.gateway!;
      const before = gw.stats.slowDisconnects;
      const tailed = gw.stats.eventsTailed;
      // ~12 MB of feed, more than the kernel's socket buffers hold.
      const body = `"alert":${JSON.stringify({ headline: 'x'.repeat(2000) })}`;
      const N = 6000;
      const pipe = client.pipeline();
      for (let i = 0; i < N; i++) pipe.xadd(`${svc.prefix}:feed`, '*', 'type', 'alert', 'alert', `a${i}`, 'topics', 'replay', 'body', body);
      await pipe.exec();
      await eventually(() => gw.stats.eventsTailed >= tailed + N, 30_000);
      const ws = await neverReading(`${svc.wsUrl}/v1/stream?topics=replay&since=0-1`);
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      await eventually(() => gw.stats.slowDisconnects > before, 20_000);
      socketOf(ws).resume();
      expect([4008, 1006]).toContain(await closed);
      await eventually(() => gw.readers.size === 0);
    });
  });
});
