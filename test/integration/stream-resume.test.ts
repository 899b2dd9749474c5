/**
 * Resume with `since`: no gap and no duplicate at the seam between replay
 * and live delivery, `resync` when the feed no longer holds the cursor, and
 * recent cursors answered from gateway memory rather than Redis.
 */
import Redis from 'ioredis';
import { openReader, postAlert, sleep, eventually, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { monitorRedis, publishContinuously, STREAM_ENV } from './stream-helpers';

type Svc = Awaited<ReturnType<typeof startService>>;
const events = (r: TestReader) => r.frames.filter((f) => f.type === 'alert' || f.type === 'update' || f.type === 'retract');
const lastEventId = (rs: TestReader[]) => {
  for (let i = rs.length - 1; i >= 0; i--) {
    const es = events(rs[i]!);
    if (es.length) return es[es.length - 1].eventId as string;
  }
  throw new Error('no events yet');
};

function expectStrictlyIncreasing(ids: string[]): void {
  for (let i = 1; i < ids.length; i++) {
    const [am, as] = ids[i - 1]!.split('-').map(BigInt) as [bigint, bigint];
    const [bm, bs] = ids[i]!.split('-').map(BigInt) as [bigint, bigint];
    if (!(bm > am || (bm === am && bs > as))) throw new Error(`eventIds not strictly increasing at ${i}: ${ids[i - 1]} then ${ids[i]}`);
  }
}

describe('resume with since', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let cached: Svc;
  let uncached: Svc;
  beforeAll(async () => {
    redis = await startRedis();
    cached = await startService(redis.url, STREAM_ENV);
    // With no memory every resume reads Redis: the other half of the seam.
    uncached = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_REPLAY_CACHE_ENTRIES: '0' });
  });
  afterAll(async () => {
    await cached?.stop();
    await uncached?.stop();
    await redis?.cleanup();
  });

  describe.each([
    ['from gateway memory', () => cached, 'resumesFromMemory'],
    ['from the feed in Redis', () => uncached, 'resumesFromFeed'],
  ] as const)('%s', (_name, svc, counter) => {
    it('loses and repeats nothing while alerts flow and a reader reconnects again and again', async () => {
      const s = svc();
      const control = await openReader(s.wsUrl, { topics: 'seam' });
      const connections = [await openReader(s.wsUrl, { topics: 'seam' })];
      const before = { memory: s.service.gateway!.stats.resumesFromMemory, feed: s.service.gateway!.stats.resumesFromFeed };
      const pub = publishContinuously(s.url, ['seam'], 2);
      for (let round = 0; round < 8; round++) {
        const cur = connections[connections.length - 1]!;
        await cur.waitFor(() => events(cur).length >= 3, 15_000);
        cur.close();
        await cur.closed;
        await sleep(20 + round * 15); // alerts keep flowing while it is away
        connections.push(await openReader(s.wsUrl, { topics: 'seam', since: lastEventId(connections) }));
        expect(connections[connections.length - 1]!.frames[0]).toMatchObject({ type: 'welcome', resumed: true });
      }
      await pub.stop();
      const last = pub.ids[pub.ids.length - 1];
      const tail = connections[connections.length - 1]!;
      await control.waitFor((f) => f.type === 'alert' && f.alert.id === last, 15_000);
      await tail.waitFor((f) => f.type === 'alert' && f.alert.id === last, 15_000);

      const truth = events(control).map((f) => f.eventId as string);
      const seen = connections.flatMap((c) => events(c).map((f) => f.eventId as string));
      expect(events(control).map((f) => f.alert.id)).toEqual(pub.ids);
      expectStrictlyIncreasing(seen);
      expect(seen).toEqual(truth);
      const stats = s.service.gateway!.stats;
      expect(stats.resumesFromMemory + stats.resumesFromFeed - before.memory - before.feed).toBe(8);
      if (counter === 'resumesFromMemory') expect(stats.resumesFromFeed).toBe(before.feed);
      // Without memory only a reader already at the newest event is answered without Redis.
      else expect(stats.resumesFromFeed - before.feed).toBeGreaterThanOrEqual(4);
      control.close();
      tail.close();
    });
  });

  it('serves a recent since from memory: no XRANGE reaches Redis', async () => {
    const first = await postAlert(cached.url, { headline: 'mem 1', topics: ['memory'] });
    const r = await openReader(cached.wsUrl, { topics: 'memory' });
    const second = await postAlert(cached.url, { headline: 'mem 2', topics: ['memory'] });
    await r.waitFor((f) => f.type === 'alert' && f.alert.id === second.body.id);
    const since = (await r.waitFor((f) => f.type === 'alert' && f.alert.id === second.body.id)).eventId;
    r.close();
    const third = await postAlert(cached.url, { headline: 'mem 3', topics: ['memory'] });
    await eventually(async () => (await fetch(`${cached.url}/v1/alerts/${third.body.id}`).then((x) => x.json() as Promise<any>)).status === 'sent');
    // Let the tail hand the event on before resuming.
    await eventually(() => cached.service.gateway!.stats.eventsTailed > 0);

    const mon = await monitorRedis(redis.url);
    try {
      const resumed = await openReader(cached.wsUrl, { topics: 'memory', since });
      const got = await resumed.waitFor((f) => f.type === 'alert' && f.alert.id === third.body.id);
      expect(got).toBeDefined();
      expect(events(resumed).map((f) => f.alert.id)).toEqual([third.body.id]);
      resumed.close();
      await mon.mark();
      const xrange = mon.commands.filter((c) => /^xrange$/i.test(c[0] ?? '') || /^xrevrange$/i.test(c[0] ?? ''));
      expect(xrange).toEqual([]);
    } finally {
      await mon.stop();
    }
    expect(first.status).toBe(202);
  });

  it('reads an older since, beyond memory, from Redis with XRANGE', async () => {
    const published = [] as string[];
    for (let i = 0; i < 3; i++) published.push((await postAlert(uncached.url, { headline: `old ${i}`, topics: ['older'] })).body.id);
    const watcher = await openReader(uncached.wsUrl, { topics: 'older', since: '0-0' });
    await watcher.waitFor((f) => f.type === 'alert' && f.alert.id === published[2]);
    const since = events(watcher)[0].eventId;
    watcher.close();

    const mon = await monitorRedis(redis.url);
    try {
      const resumed = await openReader(uncached.wsUrl, { topics: 'older', since });
      await resumed.waitFor((f) => f.type === 'alert' && f.alert.id === published[2]);
      expect(events(resumed).map((f) => f.alert.id)).toEqual(published.slice(1));
      expect(mon.commands.some((c) => /^xrange$/i.test(c[0] ?? '') && c[1] === `${uncached.prefix}:feed`)).toBe(true);
      resumed.close();
    } finally {
      await mon.stop();
    }
  });

  it('sends resync when events after since were trimmed from the feed, then carries on live', async () => {
    const a = await postAlert(uncached.url, { headline: 'to be trimmed', topics: ['trim'] });
    const watcher = await openReader(uncached.wsUrl, { topics: 'trim', since: '0-0' });
    const f = await watcher.waitFor((x) => x.type === 'alert' && x.alert.id === a.body.id);
    watcher.close();
    // Something newer, then the feed is trimmed past the reader's cursor.
    await postAlert(uncached.url, { headline: 'newer', topics: ['trim'] });
    await postAlert(uncached.url, { headline: 'newest', topics: ['trim'] });
    const admin = new Redis(redis.url);
    await eventually(async () => (await admin.xlen(`${uncached.prefix}:feed`)) >= 3);
    await admin.xtrim(`${uncached.prefix}:feed`, 'MAXLEN', 1);
    admin.disconnect();

    const r = await openReader(uncached.wsUrl, { topics: 'trim', since: f.eventId });
    expect(r.frames[0]).toMatchObject({ type: 'welcome', resumed: false });
    const resync = await r.waitFor((x) => x.type === 'resync');
    expect(resync.reason).toBe('trimmed');
    expect(events(r)).toEqual([]);
    const live = await postAlert(uncached.url, { headline: 'after resync', topics: ['trim'] });
    await r.waitFor((x) => x.type === 'alert' && x.alert.id === live.body.id);
    r.close();
  });

  it('keeps FLASHWIRE_FEED_MAX_ENTRIES events: the worker trims older ones and a cursor among them gets resync', async () => {
    const small = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_FEED_MAX_ENTRIES: '100', FLASHWIRE_REPLAY_CACHE_ENTRIES: '0' });
    try {
      const first = await postAlert(small.url, { headline: 'retained 0', topics: ['retain'] });
      const w = await openReader(small.wsUrl, { topics: 'retain', since: '0-0' });
      const firstEventId = (await w.waitFor((f) => f.type === 'alert' && f.alert.id === first.body.id)).eventId;
      w.close();
      let last = first;
      for (let batch = 0; batch < 21; batch++) {
        const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => postAlert(small.url, { headline: `retained ${batch}-${i}`, topics: ['retain'] })));
        last = rs[rs.length - 1]!;
      }
      await eventually(async () => (await fetch(`${small.url}/v1/alerts/${last.body.id}`).then((x) => x.json() as Promise<any>)).status === 'sent');
      const admin = new Redis(redis.url);
      // Trimming is approximate (whole stream nodes): at least the limit is kept, and far fewer than 211.
      const length = await admin.xlen(`${small.prefix}:feed`);
      admin.disconnect();
      expect(length).toBeGreaterThanOrEqual(100);
      expect(length).toBeLessThan(211);
      const r = await openReader(small.wsUrl, { topics: 'retain', since: firstEventId });
      expect(await r.waitFor((x) => x.type === 'resync')).toEqual({ type: 'resync', reason: 'trimmed' });
      r.close();
    } finally {
      await small.stop();
    }
  });

  it.each([['garbage'], ['12'], ['1-2-3']])('sends resync for a malformed since (%s)', async (since) => {
    const r = await openReader(cached.wsUrl, { topics: 'world', since });
    expect(r.frames[0]).toMatchObject({ type: 'welcome', resumed: false });
    expect(await r.waitFor((x) => x.type === 'resync')).toEqual({ type: 'resync', reason: 'invalid_since' });
    r.close();
  });

  it('sends resync for a since from another feed (beyond the newest event)', async () => {
    const r = await openReader(cached.wsUrl, { topics: 'world', since: `${Date.now() + 86_400_000}-0` });
    expect(await r.waitFor((x) => x.type === 'resync')).toEqual({ type: 'resync', reason: 'unknown_since' });
    r.close();
  });

  // After any resync the connection carries on from the feed's end: every
  // later event for its topics reaches it, whatever the old cursor claimed.
  describe.each([
    ['unknown_since', 'a cursor from the future', (): string => `${Date.now() + 86_400_000}-0`],
    ['unknown_since', 'the largest possible cursor', (): string => '18446744073709551615-18446744073709551615'],
    ['invalid_since', 'a cursor beyond 64 bits', (): string => '99999999999999999999-0'],
    ['invalid_since', 'a cursor with leading zeros', (): string => `0${Date.now() + 86_400_000}-0`],
  ] as const)('after resync (%s: %s)', (reason, _what, since) => {
    it.each([['from gateway memory', () => cached], ['from the feed in Redis', () => uncached]] as const)('delivers every later event, live (%s)', async (_n, svc) => {
      const topic = `after-resync-${reason.replace('_', '-')}`;
      const r = await openReader(svc().wsUrl, { topics: topic, since: since() });
      expect(r.frames[0]).toMatchObject({ type: 'welcome', resumed: false });
      expect(await r.waitFor((x) => x.type === 'resync')).toEqual({ type: 'resync', reason });
      const posted: string[] = [];
      for (let i = 0; i < 3; i++) posted.push((await postAlert(svc().url, { headline: `live after resync ${i}`, topics: [topic] })).body.id);
      await r.waitFor((x) => x.type === 'alert' && x.alert.id === posted[2], 20_000);
      expect(events(r).map((f) => f.alert.id)).toEqual(posted);
      r.close();
    });
  });
});
