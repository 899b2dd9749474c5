/**
 * One visibility rule (the contract's "Cursors, visibility, retention"): the same
 * credentials walked over every read path — the WebSocket stream live and
 * resumed, SSE live and resumed, GET /v1/feed (after a cursor and `last`)
 * and GET /v1/alerts/{id} — see exactly the same alerts. A public alert is
 * visible to anyone; a private one to a token or subscribe/admin key that
 * covers at least one of its topics, and on GET /v1/alerts/{id} also to the
 * key that published it.
 */
import IORedis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { SubscriberTokens } from '../../src/auth/subscriber-token';
import { Keys } from '../../src/redis/keys';
import { eventually, getJson, openReader, postAlert, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { JWT_SECRET, PUBLISH_KEY } from '../helpers/settings';
import { openSseFrames } from '../helpers/sse-frames';

type AlertName = 'pub' | 'ab' | 'c';

interface Credential {
  name: string;
  secret: () => string | undefined;
  /** What it asks for on every path: every public topic and the private ones it may read. */
  topics: string[];
  /** What it must see on the stream, SSE and the feed. */
  sees: AlertName[];
  /** What GET /v1/alerts/{id} must show it (adds what it published). */
  gets: AlertName[];
}


describe('one visibility rule on every read path', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let client: IORedis;
  const secrets: Record<string, string> = {};
  const token = (topics: string[]) => SubscriberTokens.sign(JWT_SECRET, topics, 3600);

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url, { FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '100000' });
    client = new IORedis(redis.url);
    const store = new ApiKeyStore(client, new Keys(svc.prefix));
    secrets.subscribe = (await store.create('mobile-backend', ['subscribe'])).secret;
    secrets.admin = (await store.create('ops', ['admin'])).secret;
    secrets.desk2 = (await store.create('desk2', ['publish'])).secret;
    secrets.tokenA = token(['private/a']);
    secrets.tokenB = token(['private/b/deep', 'private/b']);
    secrets.tokenC = token(['private/c']);
    secrets.tokenRoot = token(['private']);
  });
  afterAll(async () => {
    client?.disconnect();
    await svc?.stop();
    await redis?.cleanup();
  });

  // `ab` is tagged [private/a, private/b] and published with PUBLISH_KEY (the
  // key named "env"); `c` is [private/c], published by the key "desk2".
  const credentials: Credential[] = [
    { name: 'no credential', secret: () => undefined, topics: ['*'], sees: ['pub'], gets: ['pub'] },
    { name: 'token for private/a', secret: () => secrets.tokenA, topics: ['*', 'private/a'], sees: ['pub', 'ab'], gets: ['pub', 'ab'] },
    { name: 'token for private/b', secret: () => secrets.tokenB, topics: ['*', 'private/b'], sees: ['pub', 'ab'], gets: ['pub', 'ab'] },
    { name: 'token for private/c', secret: () => secrets.tokenC, topics: ['*', 'private/c'], sees: ['pub', 'c'], gets: ['pub', 'c'] },
    { name: 'token for private', secret: () => secrets.tokenRoot, topics: ['*', 'private'], sees: ['pub', 'ab', 'c'], gets: ['pub', 'ab', 'c'] },
    { name: 'subscribe key', secret: () => secrets.subscribe, topics: ['*', 'private'], sees: ['pub', 'ab', 'c'], gets: ['pub', 'ab', 'c'] },
    { name: 'admin key', secret: () => secrets.admin, topics: ['*', 'private'], sees: ['pub', 'ab', 'c'], gets: ['pub', 'ab', 'c'] },
    { name: 'publish key that posted ab', secret: () => PUBLISH_KEY, topics: ['*'], sees: ['pub'], gets: ['pub', 'ab'] },
    { name: 'publish key that posted c', secret: () => secrets.desk2, topics: ['*'], sees: ['pub'], gets: ['pub', 'c'] },
  ];

  const auth = (c: Credential): Record<string, string> => (c.secret() ? { Authorization: `Bearer ${c.secret()}` } : {});

  it('shows each credential the same alerts on the stream, replay, SSE, the feed and GET /v1/alerts/{id}', async () => {
    const feedEnd = async () => ((await client.xrevrange(`${svc.prefix}:feed`, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0');
    const cursor = await feedEnd();

    // Live readers, opened before anything is posted.
    const ws: TestReader[] = [];
    const sse: Awaited<ReturnType<typeof openSseFrames>>[] = [];
    for (const c of credentials) {
      ws.push(await openReader(svc.wsUrl, { topics: c.topics.join(',') }, { headers: auth(c) }));
      const s = await openSseFrames(svc.url, { topics: c.topics.join(',') }, auth(c));
      expect({ c: c.name, status: s.status }).toEqual({ c: c.name, status: 200 });
      sse.push(s);
    }
    for (const [i, r] of ws.entries()) expect({ c: credentials[i]!.name, topics: r.frames[0].topics }).toEqual({ c: credentials[i]!.name, topics: credentials[i]!.topics });
    await eventually(() => sse.every((s) => s.frames.some((f) => f.type === 'welcome')));

    const ids: Record<AlertName, string> = {
      pub: (await postAlert(svc.url, { headline: 'public', topics: ['world'] })).body.id,
      ab: (await postAlert(svc.url, { headline: 'private a and b', topics: ['private/a', 'private/b'] })).body.id,
      c: (await postAlert(svc.url, { headline: 'private c', topics: ['private/c'] }, { Authorization: `Bearer ${secrets.desk2}` })).body.id,
    };
    // Once this later public alert is in, nothing earlier can still come.
    const marker = (await postAlert(svc.url, { headline: 'marker', topics: ['world'] })).body.id as string;
    const names = (frames: any[]): AlertName[] =>
      (Object.keys(ids) as AlertName[]).filter((n) => frames.some((f) => f.type === 'alert' && f.alert.id === ids[n]));
    const hasMarker = (frames: any[]) => frames.some((f) => f.type === 'alert' && f.alert.id === marker);

    const seen: Record<string, Record<string, AlertName[]>> = {};
    const want: Record<string, Record<string, AlertName[]>> = {};
    for (const [i, c] of credentials.entries()) {
      await ws[i]!.waitFor((f) => f.type === 'alert' && f.alert.id === marker, 20_000);
      await eventually(() => hasMarker(sse[i]!.frames), 20_000);
      const q = { topics: c.topics.join(',') };

      const wsReplay = await openReader(svc.wsUrl, { ...q, since: cursor }, { headers: auth(c) });
      await wsReplay.waitFor((f) => f.type === 'alert' && f.alert.id === marker, 20_000);
      const sseReplay = await openSseFrames(svc.url, q, { ...auth(c), 'Last-Event-ID': cursor });
      await eventually(() => hasMarker(sseReplay.frames), 20_000);
      const poll = await getJson(`${svc.url}/v1/feed?${new URLSearchParams({ ...q, after: cursor })}`, auth(c));
      const last = await getJson(`${svc.url}/v1/feed?${new URLSearchParams({ ...q, last: '4' })}`, auth(c));
      const gets: AlertName[] = [];
      for (const n of Object.keys(ids) as AlertName[]) {
        const r = await getJson(`${svc.url}/v1/alerts/${ids[n]}`, auth(c));
        expect([200, 404]).toContain(r.status);
        if (r.status === 200) gets.push(n);
      }

      seen[c.name] = {
        stream: names(ws[i]!.frames),
        replay: names(wsReplay.frames),
        sse: names(sse[i]!.frames),
        sseReplay: names(sseReplay.frames),
        feed: names(poll.body.events),
        feedLast: names(last.body.events),
        get: gets,
      };
      want[c.name] = { stream: c.sees, replay: c.sees, sse: c.sees, sseReplay: c.sees, feed: c.sees, feedLast: c.sees, get: c.gets };
      wsReplay.close();
      sseReplay.close();
    }
    for (const r of ws) r.close();
    for (const s of sse) s.close();
    expect(seen).toEqual(want);
  });

  it('refuses a private topic to a credential that cannot read it, alike on every path', async () => {
    const cases: [string, string | undefined, string][] = [
      ['publish key', PUBLISH_KEY, 'private'],
      ['token for private/a', secrets.tokenA, 'private/b'],
      ['token for private/a', secrets.tokenA, 'private'],
      ['no credential', undefined, 'private/a'],
    ];
    for (const [who, secret, topic] of cases) {
      const headers: Record<string, string> = secret ? { Authorization: `Bearer ${secret}` } : {};
      const reader = await openReader(svc.wsUrl, { topics: `world,${topic}` }, { headers });
      const refusal = await reader.waitFor((f) => f.type === 'error');
      reader.close();
      const s = await openSseFrames(svc.url, { topics: topic }, headers);
      s.close();
      const poll = await getJson(`${svc.url}/v1/feed?topics=${topic}`, headers);
      const refused = secret ? 403 : 401;
      expect({ who, topic, welcome: reader.frames[0].topics, ws: refusal.code, sse: s.status, feed: poll.status }).toEqual({ who, topic, welcome: ['world'], ws: 'forbidden_topic', sse: refused, feed: refused });
    }
  });
});
