/**
 * The smaller API frictions a newcomer meets: an empty body, a correction of
 * a field that cannot change or a field to clear, a token shown to a service
 * without a token secret, and finding an alert again (the listing).
 */
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { SubscriberTokens } from '../../src/auth/subscriber-token';
import { eventually, getJson, openReader, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { JWT_SECRET, PUBLISH_KEY } from '../helpers/settings';

async function send(url: string, method: string, body: string | undefined, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers: { Authorization: `Bearer ${PUBLISH_KEY}`, ...headers }, body });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

describe('API frictions', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url);
  });
  afterAll(async () => {
    await svc?.stop();
    await redis?.cleanup();
  });

  it('answers an empty body with a 400 that says the body is empty', async () => {
    // What `curl --data @missing-file.json -H 'Content-Type: application/json'` sends.
    const empty = await send(`${svc.url}/v1/alerts`, 'POST', '', { 'Content-Type': 'application/json' });
    expect(empty.status).toBe(400);
    expect(empty.type).toMatch(/^application\/problem\+json/);
    expect(empty.body).toMatchObject({ status: 400, title: 'Empty Body', detail: 'the request body is empty: send a JSON object' });
    // Without a Content-Type, emptiness is still the first thing to fix (bytes, not a string: fetch labels a string text/plain).
    const untyped = await fetch(`${svc.url}/v1/alerts`, { method: 'POST', headers: { Authorization: `Bearer ${PUBLISH_KEY}` }, body: new Uint8Array(0) });
    expect(untyped.status).toBe(400);
    expect(((await untyped.json()) as { detail: string }).detail).toBe('the request body is empty: send a JSON object');
    // Declared as something else, it is refused for that first, as before: 415.
    expect((await send(`${svc.url}/v1/alerts`, 'POST', '', { 'Content-Type': 'text/plain' })).status).toBe(415);
    // Chunked with nothing in it.
    const chunked = await fetch(`${svc.url}/v1/alerts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' },
      body: new ReadableStream({ start: (c) => c.close() }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(400);
    expect(((await chunked.json()) as { detail: string }).detail).toBe('the request body is empty: send a JSON object');
    // An empty object is not empty: it is a 422 naming the missing fields.
    expect((await send(`${svc.url}/v1/alerts`, 'POST', '{}', { 'Content-Type': 'application/json' })).status).toBe(422);
  });

  it('reads a JSON body however it is sent: with a byte order mark, compressed, in UTF-16, chunked, and refuses one past the limit', async () => {
    const alert = { headline: 'Bridge reopened', topics: ['local'] };
    const text = JSON.stringify(alert);
    const post = (body: Uint8Array | ReadableStream, headers: Record<string, string>) =>
      fetch(`${svc.url}/v1/alerts?dryRun=true`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json', ...headers },
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    const valid = async (res: Response) => {
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ valid: true });
    };
    await valid(await post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), {}));
    await valid(await post(Buffer.from(text), { 'Content-Type': 'application/json; charset=UTF-8' }));
    await valid(await post(gzipSync(text), { 'Content-Encoding': 'gzip' }));
    await valid(await post(Buffer.from(text, 'utf16le'), { 'Content-Type': 'application/json; charset=utf-16le' }));
    const chunks = (parts: string[]) => new ReadableStream({ start: (c) => (parts.forEach((p) => c.enqueue(Buffer.from(p))), c.close()) });
    await valid(await post(chunks([text.slice(0, 10), text.slice(10)]), {}));

    // Not JSON, whichever way it came.
    const malformed = await post(Buffer.from('{"headline": '), {});
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ detail: 'the body is not valid JSON' });
    expect((await post(gzipSync('{"headline": '), { 'Content-Encoding': 'gzip' })).status).toBe(400);
    // A charset JSON cannot be in.
    expect((await post(Buffer.from(text, 'latin1'), { 'Content-Type': 'application/json; charset=iso-8859-1' })).status).toBe(415);

    // Past the limit with no length declared: read to the end, then refused.
    const big = JSON.stringify({ ...alert, summary: 'x'.repeat(70 * 1024) });
    const tooBig = await post(chunks([big.slice(0, 30_000), big.slice(30_000)]), {});
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ detail: expect.stringContaining('64 KiB') });
    // And the API serves the next request.
    await valid(await post(Buffer.from(text), {}));

    // A client that hangs up mid-body gets nothing, and the API goes on.
    const { port } = new URL(svc.url);
    const cut = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => cut.once('connect', resolve));
    cut.write(`POST /v1/alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PUBLISH_KEY}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n${text.slice(0, 10)}`);
    const heard: Buffer[] = [];
    cut.on('data', (d: Buffer) => heard.push(d));
    await valid(await post(Buffer.from(text), {}));
    cut.destroy();
    await new Promise((resolve) => cut.once('close', resolve));
    await valid(await post(Buffer.from(text), {}));
    expect(Buffer.concat(heard).length).toBe(0);
  });

  it('PATCH says which fields can be changed, and null clears summary and url', async () => {
    const posted = await postAlert(svc.url, { headline: 'Bridge closed', summary: 'Storm damage', url: 'https://news.example/bridge', topics: ['local'] });
    const id = posted.body.id as string;
    const json = { 'Content-Type': 'application/json' };
    const topics = await send(`${svc.url}/v1/alerts/${id}`, 'PATCH', JSON.stringify({ topics: ['world'], colour: 'red' }), json);
    expect(topics.status).toBe(422);
    expect(topics.body.errors).toEqual([
      { path: 'topics', message: 'cannot be changed; changeable: headline, summary, url' },
      { path: 'colour', message: 'is not a known field' },
      { path: '', message: 'must change at least one of headline, summary, url' },
    ]);

    await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${id}`)).body.status === 'sent');
    const reader = await openReader(svc.wsUrl, { topics: 'local' });
    const cleared = await send(`${svc.url}/v1/alerts/${id}`, 'PATCH', JSON.stringify({ summary: null, url: null }), json);
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('summary');
    expect(cleared.body).not.toHaveProperty('url');
    expect(cleared.body.audit.at(-1)).toMatchObject({ action: 'corrected', fields: ['summary', 'url'] });
    const update = await reader.waitFor((f) => f.type === 'update' && f.alert.id === id);
    expect(update.alert).not.toHaveProperty('summary');
    expect(update.alert).not.toHaveProperty('url');
    const read = (await getJson(`${svc.url}/v1/alerts/${id}`)).body;
    expect(read).not.toHaveProperty('summary');
    expect(read).not.toHaveProperty('url');
    // Clearing again changes nothing; a summary can be set again.
    const again = await send(`${svc.url}/v1/alerts/${id}`, 'PATCH', JSON.stringify({ summary: null }), json);
    expect(again.body.audit).toHaveLength(read.audit.length);
    const back = await send(`${svc.url}/v1/alerts/${id}`, 'PATCH', JSON.stringify({ summary: 'Reopened at noon' }), json);
    expect(back.body.summary).toBe('Reopened at noon');
    expect((await send(`${svc.url}/v1/alerts/${id}`, 'PATCH', JSON.stringify({ headline: null }), json)).status).toBe(422);
    reader.close();
  });

  it('says so when a token is presented to a service that has no token secret', async () => {
    const bare = await startService(redis.url, { FLASHWIRE_JWT_SECRET: '' });
    try {
      const posted = await postAlert(bare.url, { headline: 'Token test', topics: ['world'] });
      const token = SubscriberTokens.sign(JWT_SECRET, ['private/premium'], 3600);
      const asToken = await getJson(`${bare.url}/v1/alerts/${posted.body.id}`, { Authorization: `Bearer ${token}` });
      expect(asToken.status).toBe(401);
      expect(asToken.body.detail).toBe('subscriber tokens are not accepted: the service runs without FLASHWIRE_JWT_SECRET');
      const feed = await getJson(`${bare.url}/v1/feed?topics=private/premium`, { Authorization: `Bearer ${token}` });
      expect(feed.status).toBe(401);
      expect(feed.body.detail).toBe('subscriber tokens are not accepted: the service runs without FLASHWIRE_JWT_SECRET');
      // A forged token where a secret is configured keeps the general message.
      const forged = await getJson(`${svc.url}/v1/alerts/${posted.body.id}`, { Authorization: `Bearer ${SubscriberTokens.sign('another-secret-0123456789abcdef0123456789', ['world'], 3600)}` });
      expect(forged.status).toBe(401);
      expect(forged.body.detail).toBe('unknown, revoked or expired credential');
      // The stream closes with the same words.
      const ws = new WebSocket(`${bare.wsUrl}/v1/stream`, { headers: { Authorization: `Bearer ${token}` } });
      const closed = await new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: String(reason) })));
      expect(closed).toEqual({ code: 4001, reason: 'subscriber tokens are not accepted: the service runs without FLASHWIRE_JWT_SECRET' });
    } finally {
      await bare.stop();
    }
  });

  it('lists alerts newest first, filtered by status and topic, page by page, for any API key', async () => {
    const list = (q: string, key = PUBLISH_KEY) => getJson(`${svc.url}/v1/alerts${q}`, key ? { Authorization: `Bearer ${key}` } : {});
    const later = new Date(Date.now() + 3600_000).toISOString();
    const ids: string[] = [];
    for (const [i, extra] of [[0, {}], [1, { sendAt: later }], [2, {}], [3, { sendAt: later }], [4, {}]] as const) {
      ids.push((await postAlert(svc.url, { headline: `listed ${i}`, topics: [i % 2 ? 'listing/embargo' : 'listing/now'], ...extra })).body.id);
    }
    const priv = (await postAlert(svc.url, { headline: 'listed private', topics: ['private/listing'] })).body.id as string;

    const first = await list('?topic=listing&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.alerts.map((a: { id: string }) => a.id)).toEqual([ids[4], ids[3]]);
    expect(first.body.next).toBe(ids[3]);
    const second = await list(`?topic=listing&limit=2&after=${first.body.next}`);
    expect(second.body.alerts.map((a: { id: string }) => a.id)).toEqual([ids[2], ids[1]]);
    const third = await list(`?topic=listing&limit=2&after=${second.body.next}`);
    expect(third.body).toEqual({ alerts: [expect.objectContaining({ id: ids[0], headline: 'listed 0' })], next: null });

    const scheduled = await list('?status=scheduled&topic=listing');
    expect(scheduled.body.alerts.map((a: { id: string }) => a.id)).toEqual([ids[3], ids[1]]);
    expect(scheduled.body.alerts[0]).toMatchObject({ status: 'scheduled', sendAt: later, report: expect.any(Object) });
    expect((await list('?topic=listing/embargo')).body.alerts).toHaveLength(2);
    // `*` is every public topic: the private alert is not among them.
    expect((await list('?topic=*&limit=100')).body.alerts.map((a: { id: string }) => a.id)).not.toContain(priv);
    // A private alert is listed exactly where GET /v1/alerts/{id} would show it.
    const newest = (await list('?limit=1')).body.alerts[0];
    expect(newest.id).toBe(priv);
    expect((await getJson(`${svc.url}/v1/alerts/${priv}`, { Authorization: `Bearer ${PUBLISH_KEY}` })).status).toBe(200);

    expect((await list('')).status).toBe(200);
    const anonymous = await list('', '');
    expect(anonymous.status).toBe(401);
    const token = await list('', SubscriberTokens.sign(JWT_SECRET, ['private'], 3600));
    expect(token.status).toBe(401);
    expect(token.body.detail).toBe('a subscriber token cannot list alerts; send an API key');
    const bad = await list('?status=lost&topic=Not%20A%20Topic&limit=101&after=nope');
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['status', 'topic', 'limit', 'after']);
  });
});
