/**
 * The audience (GET /v1/audience) and dry runs (POST /v1/alerts?dryRun=true):
 * readers on two gateways, over WebSocket and SSE, summed with the stream's
 * matching (`*`, hierarchy, private) and each reader counted once.
 */
import jwt from 'jsonwebtoken';
import { eventually, getJson, openReader, postAlert, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { JWT_SECRET, PUBLISH_KEY, uniquePrefix } from '../helpers/settings';

const auth = { Authorization: `Bearer ${PUBLISH_KEY}` };

/** An SSE reader held open until close(). */
async function openSse(url: string, topics: string): Promise<{ close(): void }> {
  const ac = new AbortController();
  const res = await fetch(`${url}/v1/events?topics=${topics}`, { signal: ac.signal });
  expect(res.status).toBe(200);
  void (async () => {
    try {
      for await (const _ of res.body as unknown as AsyncIterable<Uint8Array>);
    } catch {
      // aborted
    }
  })();
  return { close: () => ac.abort() };
}

describe('audience and dry run', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: Awaited<ReturnType<typeof startService>>;
  let gwA: Awaited<ReturnType<typeof startService>>;
  let gwB: Awaited<ReturnType<typeof startService>>;
  const prefix = uniquePrefix();
  const readers: TestReader[] = [];
  let sse: { close(): void };

  const audience = (topics: string, headers: Record<string, string> = auth) => getJson(`${api.url}/v1/audience?topics=${encodeURIComponent(topics)}`, headers);

  beforeAll(async () => {
    redis = await startRedis();
    // Three publishes a minute: dry runs must not use them up.
    api = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api,worker', FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '3' });
    gwA = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'gateway' });
    gwB = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'gateway' });
    const token = jwt.sign({ topics: ['private/investigations'] }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 });
    readers.push(await openReader(gwA.wsUrl, { topics: '*' }));
    readers.push(await openReader(gwA.wsUrl, { topics: 'europe' }));
    readers.push(await openReader(gwA.wsUrl, { topics: 'world,europe' }));
    readers.push(await openReader(gwB.wsUrl, { topics: 'europe/ukraine' }));
    readers.push(await openReader(gwB.wsUrl, { topics: 'private/investigations', token }));
    sse = await openSse(gwB.url, 'world');
  });
  afterAll(async () => {
    for (const r of readers) r.close();
    sse?.close();
    await gwB?.stop();
    await gwA?.stop();
    await api?.stop();
    await redis?.cleanup();
  });

  it('sums readers over every gateway with the stream matching, each reader once, at most 2 s old', async () => {
    // Every gateway publishes within a second; wait for all six readers to show.
    let askedAt = 0;
    const everyone = await eventually(async () => {
      askedAt = Date.now();
      const r = await audience('world,europe/ukraine');
      return r.body.readers === 5 ? r : undefined;
    }, 15_000);
    // `*`, `europe` (its parent), `world,europe` (once, though both match), `europe/ukraine`, and the SSE `world`.
    expect(everyone.status).toBe(200);
    expect(everyone.headers.get('cache-control')).toBe('no-store');
    expect(everyone.body).toMatchObject({ readers: 5, websocket: 4, sse: 1, webhooks: 0, push: 0 });
    // At most 2 s old when the API answered (which was after askedAt).
    expect(Date.parse(everyone.body.at)).toBeGreaterThanOrEqual(askedAt - 2000);

    // A parent topic does not reach a child's subscriber: europe/ukraine does not get `europe`.
    expect((await audience('europe')).body).toMatchObject({ readers: 3, websocket: 3, sse: 0 });
    expect((await audience('world')).body).toMatchObject({ readers: 3, websocket: 2, sse: 1 });
    // `*` never covers private; only the token's holder is counted.
    expect((await audience('private/investigations')).body).toMatchObject({ readers: 1, websocket: 1, sse: 0 });
    expect((await audience('private/other')).body.readers).toBe(0);
    expect((await audience('sport')).body.readers).toBe(1);

    // Counts follow readers as they leave.
    readers[0]!.close();
    await eventually(async () => (await audience('sport')).body.readers === 0, 15_000);
  });

  it('needs an API key and valid topics', async () => {
    expect((await audience('world', {})).status).toBe(401);
    const token = jwt.sign({ topics: ['world'] }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 });
    expect((await audience('world', { Authorization: `Bearer ${token}` })).status).toBe(401);
    const bad = await audience('World News');
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toMatch(/^topics/);
    expect((await getJson(`${api.url}/v1/audience`, auth)).status).toBe(422);
    expect((await audience('world,private/x')).status).toBe(422);
  });

  it('a dry run validates and counts the audience, creates nothing and does not count against the publish rate', async () => {
    const watcher = await openReader(gwA.wsUrl, { topics: 'dry' });
    readers.push(watcher);
    await eventually(async () => (await audience('dry')).body.readers === 1, 15_000);
    const dryRun = (body: unknown, headers: Record<string, string> = auth) =>
      fetch(`${api.url}/v1/alerts?dryRun=true`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    // Five dry runs against a limit of three publishes a minute.
    for (let i = 0; i < 5; i++) {
      const dry = await dryRun({ headline: 'Only checking', topics: ['dry'], priority: 'flash' });
      expect(dry.status).toBe(200);
      expect(dry.headers.get('location')).toBeNull();
      const body = (await dry.json()) as any;
      expect(body.valid).toBe(true);
      expect(body.audience).toMatchObject({ readers: 1, websocket: 1, sse: 0, webhooks: 0, push: 0 });
    }
    // The real one is still allowed, and it is the only alert the reader gets.
    const real = await postAlert(api.url, { headline: 'The real one', topics: ['dry'] });
    expect(real.status).toBe(202);
    await watcher.waitFor((f) => f.type === 'alert' && f.alert.id === real.body.id, 20_000);
    expect(watcher.ofType('alert').map((f) => f.alert.headline)).toEqual(['The real one']);

    const invalid = await dryRun({ headline: '', topics: ['dry'], colour: 'red' });
    expect(invalid.status).toBe(422);
    const problem = (await invalid.json()) as any;
    expect(problem.errors.map((e: any) => e.path)).toContain('headline');
    expect((await dryRun({ headline: 'x', topics: ['dry'] }, {})).status).toBe(401);
  });
});
