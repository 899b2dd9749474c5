/**
 * The Node client (AlertStream, FlashwireApi) against a running service:
 * api+worker and gateway as two services, so the gateway can be cut.
 */
import fs from 'node:fs';
import os from 'node:os';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import IORedis from 'ioredis';
import { WebSocketServer } from 'ws';
import { AlertStream, FlashwireApi, FlashwireApiError, StreamCredentialError, type StreamEvent } from '../../clients/node/src';
import { FIXTURE, eventually, sleep } from '../helpers/clients';
import { readFeed } from '../helpers/ledger';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY, uniquePrefix } from '../helpers/settings';

describe('the Node client', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: Awaited<ReturnType<typeof startService>>;
  let gateway: Awaited<ReturnType<typeof startService>>;
  let client: FlashwireApi;
  const prefix = uniquePrefix();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-node-client-'));
  const startGateway = (port = 0) =>
    startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'gateway', PORT: String(port), FLASHWIRE_MAX_BUFFERED_BYTES: String(16 * 1024) });

  beforeAll(async () => {
    redis = await startRedis();
    api = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api,worker', FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '1000000' });
    gateway = await startGateway();
    client = new FlashwireApi({ url: api.url, key: PUBLISH_KEY });
  });
  afterAll(async () => {
    await gateway?.stop();
    await api?.stop();
    await redis?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function withRedis<T>(fn: (r: IORedis) => Promise<T>): Promise<T> {
    const r = new IORedis(redis.url);
    try {
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  /** Reads `n` events from the stream, acknowledges the last, then leaves the loop with break. */
  async function take(stream: AlertStream, n: number, each?: (e: StreamEvent) => Promise<void>): Promise<StreamEvent[]> {
    const got: StreamEvent[] = [];
    if (n === 0) return got;
    for await (const e of stream) {
      if (each) await each(e);
      got.push(e);
      if (got.length === n) {
        await stream.ack();
        break;
      }
    }
    return got;
  }

  function cursorIn(file: string) {
    return {
      loadEventId: () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined),
      saveEventId: (id: string) => fs.writeFileSync(file, id),
    };
  }

  const ids = (events: StreamEvent[]) => events.map((e) => (e.type === 'retract' ? `retract:${e.id}` : e.type === 'resync' ? 'resync' : `${e.type}:${e.alert.id}`));

  it('yields the alert, its correction and its retraction in order, with key auth', async () => {
    const stream = new AlertStream({ url: gateway.url, key: PUBLISH_KEY, topics: ['nato'] });
    const reading = take(stream, 3);
    await eventually(() => stream.stats.connections >= 1);
    const sent = await client.send(FIXTURE as never);
    await eventually(async () => (await client.get(sent.id)).status === 'sent');
    await client.correct(sent.id, { headline: 'Stoltenberg: Ukraine’s place is in NATO' });
    await client.retract(sent.id, 'misquoted');
    const events = await reading;
    expect(ids(events)).toEqual([`alert:${sent.id}`, `update:${sent.id}`, `retract:${sent.id}`]);
    expect(events[1]).toMatchObject({ type: 'update', alert: { headline: 'Stoltenberg: Ukraine’s place is in NATO' } });
    expect(events[2]).toMatchObject({ type: 'retract', reason: 'misquoted' });
  });

  it('ends the iteration with StreamCredentialError for a refused key', async () => {
    const stream = new AlertStream({ url: gateway.url, key: 'not-a-key-0123456789abcdef' });
    await expect(take(stream, 1)).rejects.toBeInstanceOf(StreamCredentialError);
  });

  it('resumes exactly after a restart of the consumer, from the eventId it saved', async () => {
    const cursorFile = path.join(dir, 'cursor');
    const handled: string[] = [];
    const persisted = {
      loadEventId: () => (fs.existsSync(cursorFile) ? fs.readFileSync(cursorFile, 'utf8') : undefined),
      saveEventId: (id: string) => fs.writeFileSync(cursorFile, id),
    };
    const posted: string[] = [];
    const post = async (n: number) => {
      for (let i = 0; i < n; i++) posted.push((await client.send({ headline: `restart ${posted.length}`, topics: ['restart'] })).id);
    };

    // First run: handles 3 of 5, then the backend stops.
    const first = new AlertStream({ url: gateway.url, key: PUBLISH_KEY, topics: ['restart'], ...persisted });
    const firstRun = take(first, 3, async (e) => void handled.push(e.type === 'alert' ? e.alert.id : '?'));
    await eventually(() => first.stats.connections >= 1);
    await post(5);
    await firstRun;
    expect(fs.readFileSync(cursorFile, 'utf8')).toMatch(/^\d+-\d+$/);

    // While it is down, more alerts are sent.
    await post(3);

    // Second run: a new stream object, resuming from the saved cursor only.
    const second = new AlertStream({ url: gateway.url, key: PUBLISH_KEY, topics: ['restart'], ...persisted });
    await take(second, 5, async (e) => void handled.push(e.type === 'alert' ? e.alert.id : '?'));
    expect(handled).toEqual(posted);

    // Nothing more is pending: a third run sees only what comes next.
    const third = new AlertStream({ url: gateway.url, key: PUBLISH_KEY, topics: ['restart'], ...persisted });
    const thirdRun = take(third, 1);
    await eventually(() => third.stats.connections >= 1);
    await post(1);
    expect(ids(await thirdRun)).toEqual([`alert:${posted[8]}`]);
  });

  it('never saves an event whose handler threw: after a restart it comes again', async () => {
    const persisted = cursorIn(path.join(dir, 'cursor-failing'));
    const first = new AlertStream({ url: gateway.url, topics: ['failing'], ...persisted });
    const posted: string[] = [];
    const run = (async () => {
      for await (const e of first) {
        // A webhook relay whose host is down: fetch throws, the loop is left by the throw.
        if (e.type === 'alert' && e.alert.headline === 'fails') throw new Error('webhook down');
      }
    })();
    await eventually(() => first.stats.connections >= 1);
    for (const h of ['ok', 'fails', 'later']) posted.push((await client.send({ headline: h, topics: ['failing'] })).id);
    await expect(run).rejects.toThrow('webhook down');
    const second = new AlertStream({ url: gateway.url, topics: ['failing'], ...persisted });
    expect(ids(await take(second, 2))).toEqual([`alert:${posted[1]}`, `alert:${posted[2]}`]);
  });

  it('leaving the loop with break saves only what was acknowledged', async () => {
    const file = path.join(dir, 'cursor-break');
    const persisted = cursorIn(file);
    const posted: string[] = [];
    const first = new AlertStream({ url: gateway.url, topics: ['breaking'], ...persisted });
    const run = (async () => {
      let n = 0;
      for await (const e of first) {
        void e;
        if (++n === 1) await first.ack(); // the first is done and saved at once
        if (n === 2) break; // the second was never acknowledged
      }
    })();
    await eventually(() => first.stats.connections >= 1);
    for (const h of ['one', 'two', 'three']) posted.push((await client.send({ headline: h, topics: ['breaking'] })).id);
    await run;
    expect(fs.readFileSync(file, 'utf8')).toBe((await client.get(posted[0]!)).eventId);
    const second = new AlertStream({ url: gateway.url, topics: ['breaking'], ...persisted });
    expect(ids(await take(second, 2))).toEqual([`alert:${posted[1]}`, `alert:${posted[2]}`]);
  });

  it('forgets its cursor on resync: the events that follow are not taken for repeats, and it resumes from them', async () => {
    // A gateway that cannot honour the cursor (one from another feed, far
    // ahead of this one): welcome, resync, then live events with lower ids.
    // A small real WebSocket server plays it, so the client is tested alone.
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => server.once('listening', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const asked: (string | null)[] = [];
    const alert = (eventId: string, headline: string) => JSON.stringify({ type: 'alert', eventId, alert: { id: headline, headline, topics: ['x'], priority: 'urgent', createdAt: new Date().toISOString() } });
    server.on('connection', (ws, req) => {
      const since = new URL(req.url ?? '/', url).searchParams.get('since');
      asked.push(since);
      ws.send(JSON.stringify({ type: 'welcome', connectionId: 'c', heartbeatMs: 25000, topics: ['x'], resumed: false }));
      if (asked.length === 1) {
        ws.send(JSON.stringify({ type: 'resync', reason: 'unknown_since' }));
        ws.send(alert('5-0', 'first after resync'));
        ws.close(1001, 'going away'); // the client must resume from 5-0, not the old cursor
      } else {
        ws.send(alert('6-0', 'second'));
      }
    });
    const file = path.join(dir, 'cursor-resync');
    fs.writeFileSync(file, '99999999999999-0');
    try {
      const stream = new AlertStream({ url, topics: ['x'], initialDelayMs: 20, ...cursorIn(file) });
      const events = await take(stream, 3);
      expect(events.map((e) => (e.type === 'resync' ? `resync:${e.reason}` : `${e.type}:${e.eventId}`))).toEqual(['resync:unknown_since', 'alert:5-0', 'alert:6-0']);
      expect(asked).toEqual(['99999999999999-0', '5-0']);
      expect(fs.readFileSync(file, 'utf8')).toBe('6-0');
      expect(stream.stats.resyncs).toBe(1);
    } finally {
      for (const c of server.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('reconnects by itself when the gateway restarts and misses nothing', async () => {
    const states: string[] = [];
    const stream = new AlertStream({ url: gateway.url, topics: ['reconnect'], initialDelayMs: 100, onState: (s) => states.push(s) });
    const posted: string[] = [];
    const reading = take(stream, 6);
    await eventually(() => stream.stats.connections >= 1);
    for (let i = 0; i < 2; i++) posted.push((await client.send({ headline: `before ${i}`, topics: ['reconnect'] })).id);
    await eventually(() => stream.stats.received === 2);
    const port = gateway.port;
    await gateway.stop();
    for (let i = 0; i < 2; i++) posted.push((await client.send({ headline: `during ${i}`, topics: ['reconnect'] })).id);
    await eventually(async () => (await client.get(posted[3]!)).status === 'sent');
    await eventually(() => states.includes('reconnecting'));
    gateway = await startGateway(port);
    await eventually(() => stream.stats.connections >= 2, 20_000);
    for (let i = 0; i < 2; i++) posted.push((await client.send({ headline: `after ${i}`, topics: ['reconnect'] })).id);
    expect(ids(await reading)).toEqual(posted.map((id) => `alert:${id}`));
  });

  it('pauses the socket while the consumer is busy instead of buffering without bound', async () => {
    const hwm = 8;
    const stream = new AlertStream({ url: gateway.url, topics: ['busy'], highWaterMark: hwm, initialDelayMs: 50 });
    const total = 300;
    const summary = 'x'.repeat(1500);
    // The consumer is busy with the first alert until every alert is posted.
    let allPosted!: () => void;
    const busy = new Promise<void>((r) => (allPosted = r));
    const reading = take(stream, total, () => busy);
    await eventually(() => stream.stats.connections >= 1);
    const posted: string[] = [];
    for (let i = 0; i < total; i++) posted.push((await client.send({ headline: `busy ${i}`, summary, topics: ['busy'] })).id);
    await eventually(async () => (await client.get(posted[total - 1]!)).status === 'sent');
    const bufferedWhileBusy = stream.stats.maxBuffered;
    allPosted();
    const events = await reading;
    // Every alert, in the feed's order, exactly once, although the reader
    // fell behind. The feed's order, not the posts': the worker sends
    // several jobs at once, so alerts posted faster than it appends them may
    // enter the feed in another order.
    const feedOrder = await withRedis(async (r) => (await readFeed(r, prefix)).filter((e) => e.type === 'alert' && posted.includes(e.alertId)).map((e) => `alert:${e.alertId}`));
    expect(feedOrder.slice().sort()).toEqual(posted.map((id) => `alert:${id}`).sort());
    expect(ids(events)).toEqual(feedOrder);
    expect(stream.stats.pauses).toBeGreaterThan(0);
    // What ws had already read when paused can still arrive: HWM plus at most a socket read.
    expect(bufferedWhileBusy).toBeLessThan(hwm + 64);
    expect(stream.stats.maxBuffered).toBeLessThan(hwm + 64);
  });

  it('drops a connection the server never upgrades and tries again, with the reason', async () => {
    // A server that takes connections and never answers, as a gateway killed between the cluster primary's handoff and its answer.
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => held.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const reasons: string[] = [];
    const stream = new AlertStream({
      url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      handshakeTimeoutMs: 200,
      initialDelayMs: 10,
      maxDelayMs: 20,
      onState: (state, d) => state === 'reconnecting' && d.reason && reasons.push(d.reason),
    });
    const reading = stream[Symbol.asyncIterator]().next();
    try {
      await eventually(() => reasons.length >= 2 && held.length >= 2);
      expect(reasons[0]).toBe('closed 1006 (Opening handshake has timed out)');
      expect(stream.stats.connections).toBe(0);
    } finally {
      stream.close();
      await reading;
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('FlashwireApi turns problems into FlashwireApiError with the field errors', async () => {
    const bad = await client.send({ headline: '', topics: ['Not Valid'] } as never).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(FlashwireApiError);
    expect((bad as FlashwireApiError).status).toBe(422);
    expect((bad as FlashwireApiError).problem.errors?.map((e) => e.path).sort()).toEqual(['headline', 'topics.0']);
    const down = await new FlashwireApi({ url: 'http://127.0.0.1:1' }).get('x').catch((e: unknown) => e);
    expect((down as FlashwireApiError).status).toBe(0);
  });

  it('FlashwireApi takes the same options object as AlertStream, and says so when given anything else', async () => {
    const options = { url: gateway.url.replace('127.0.0.1', 'localhost'), key: PUBLISH_KEY };
    const viaGateway = new FlashwireApi({ ...options, url: api.url });
    const stream = new AlertStream({ ...options, topics: ['options'] });
    const reading = take(stream, 1);
    await eventually(() => stream.stats.connections >= 1);
    const sent = await viaGateway.send({ headline: 'same options', topics: ['options'] });
    expect(ids(await reading)).toEqual([`alert:${sent.id}`]);
    const listed = await viaGateway.list({ topic: 'options', limit: 1 });
    expect(listed.alerts.map((a) => a.id)).toEqual([sent.id]);
    expect(() => new FlashwireApi(api.url as never)).toThrow('FlashwireApi takes an options object: new FlashwireApi({ url, key })');
    expect(() => new FlashwireApi({ url: 'not a url' })).toThrow('url must be an absolute http(s) or ws(s) URL');
    expect(() => new AlertStream({ url: '' })).toThrow('url must be the service address');
  });
});
