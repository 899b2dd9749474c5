/**
 * POST /v1/alerts, every rule and code of the contract's "The alert" and "HTTP
 * API": problem documents naming every bad field, 400/401/403/413/415/422,
 * and 503 (never a 202) while Redis is down.
 */
import IORedis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { Keys } from '../../src/redis/keys';
import { eventually, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService, PUBLISH_KEY } from '../helpers/service';

const OK = { headline: 'Valid headline', topics: ['world'] };

describe('POST /v1/alerts validation', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let subscribeOnly: string;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url);
    const client = new IORedis(redis.url);
    subscribeOnly = (await new ApiKeyStore(client, new Keys(svc.prefix)).create('reader-only', ['subscribe'])).secret;
    client.disconnect();
  });
  afterAll(async () => {
    await svc.stop();
    await redis.cleanup();
  });

  async function raw(body: string, headers: Record<string, string>) {
    const res = await fetch(`${svc.url}/v1/alerts`, { method: 'POST', headers, body });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  function expectProblem(r: { status: number; body: any; headers: Headers }, status: number, type: string) {
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ type: `https://flashwire.dev/problems/${type}`, title: expect.any(String), status, detail: expect.any(String) });
  }

  it('answers 400 for malformed JSON', async () => {
    const r = await raw('{"headline": "x",', { 'Content-Type': 'application/json', Authorization: `Bearer ${PUBLISH_KEY}` });
    expectProblem(r as any, 400, 'malformed-json');
  });

  it('answers 401 without a key, with an unknown key or a malformed header, and 403 for a key without publish', async () => {
    const body = JSON.stringify(OK);
    for (const auth of [undefined, 'Bearer fw_not-a-real-key-at-all-000000000000000000000', 'Basic dXNlcjpwYXNz', 'Bearer']) {
      const r = await raw(body, { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) });
      expectProblem(r as any, 401, 'unauthorized');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const r = await raw(body, { 'Content-Type': 'application/json', Authorization: `Bearer ${subscribeOnly}` });
    expectProblem(r as any, 403, 'forbidden');
    expect(r.body.detail).toMatch(/publish/);
  });

  it('answers 413 for a body over 64 KiB and 415 for a body that is not JSON', async () => {
    const big = JSON.stringify({ ...OK, summary: 'x'.repeat(70 * 1024) });
    const tooBig = await raw(big, { 'Content-Type': 'application/json', Authorization: `Bearer ${PUBLISH_KEY}` });
    expectProblem(tooBig as any, 413, 'payload-too-large');
    expect(tooBig.body.detail).toMatch(/64 KiB/);
    expectProblem((await raw(JSON.stringify(OK), { 'Content-Type': 'text/plain', Authorization: `Bearer ${PUBLISH_KEY}` })) as any, 415, 'unsupported-media-type');
    expectProblem((await raw('headline=x', { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Bearer ${PUBLISH_KEY}` })) as any, 415, 'unsupported-media-type');
  });

  it('names the configured body limit in the 413', async () => {
    const small = await startService(redis.url, { FLASHWIRE_BODY_LIMIT_BYTES: '2048', FLASHWIRE_ROLES: 'api' });
    try {
      const res = await fetch(`${small.url}/v1/alerts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PUBLISH_KEY}` },
        body: JSON.stringify({ ...OK, summary: 'x'.repeat(4096) }),
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ type: 'https://flashwire.dev/problems/payload-too-large', detail: expect.stringContaining('2 KiB') });
    } finally {
      await small.stop();
    }
  });

  const now = () => Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const cases: [string, () => Record<string, unknown>, string, RegExp][] = [
    ['headline empty', () => ({ ...OK, headline: '' }), 'headline', /empty/],
    ['headline only spaces', () => ({ ...OK, headline: '   ' }), 'headline', /empty/],
    ['headline missing', () => ({ topics: ['world'] }), 'headline', /required/],
    ['headline not a string', () => ({ ...OK, headline: 42 }), 'headline', /string/],
    ['headline 201 characters', () => ({ ...OK, headline: 'a'.repeat(201) }), 'headline', /200/],
    ['headline 201 emoji', () => ({ ...OK, headline: '🚨'.repeat(201) }), 'headline', /200/],
    ['headline with a newline', () => ({ ...OK, headline: 'one\ntwo' }), 'headline', /one line/],
    ['summary over 2000 characters', () => ({ ...OK, summary: 's'.repeat(2001) }), 'summary', /2000/],
    ['url not http(s)', () => ({ ...OK, url: 'ftp://news.example/a' }), 'url', /http/],
    ['url javascript:', () => ({ ...OK, url: 'javascript:alert(1)' }), 'url', /http/],
    ['url relative', () => ({ ...OK, url: '/news/a' }), 'url', /absolute/],
    ['url too long', () => ({ ...OK, url: 'https://news.example/' + 'a'.repeat(2048) }), 'url', /2048/],
    ['topics empty', () => ({ ...OK, topics: [] }), 'topics', /at least one/],
    ['topics missing', () => ({ headline: 'x' }), 'topics', /required/],
    ['topics over 20', () => ({ ...OK, topics: Array.from({ length: 21 }, (_, i) => `t${i}`) }), 'topics', /20/],
    ['topics duplicated', () => ({ ...OK, topics: ['world', 'world'] }), 'topics.1', /duplicates/],
    ['topic with capitals', () => ({ ...OK, topics: ['Europe'] }), 'topics.0', /lowercase/],
    ['topic with a double hyphen', () => ({ ...OK, topics: ['a--b'] }), 'topics.0', /lowercase/],
    ['topic six levels deep', () => ({ ...OK, topics: ['a/b/c/d/e/f'] }), 'topics.0', /5 levels/],
    ['topic with a trailing slash', () => ({ ...OK, topics: ['europe/'] }), 'topics.0', /lowercase/],
    ['topics mixing private and public', () => ({ ...OK, topics: ['private/premium', 'world'] }), 'topics', /mix/],
    ['priority unknown', () => ({ ...OK, priority: 'high' }), 'priority', /flash, bulletin, urgent, routine/],
    ['sendAt in the past', () => ({ ...OK, sendAt: iso(now() - 60_000) }), 'sendAt', /future/],
    ['sendAt more than 30 days ahead', () => ({ ...OK, sendAt: iso(now() + 31 * 24 * 3600 * 1000) }), 'sendAt', /30 days/],
    ['sendAt not ISO-8601', () => ({ ...OK, sendAt: 'tomorrow at noon' }), 'sendAt', /ISO-8601/],
    ['sendAt without a time zone', () => ({ ...OK, sendAt: '2030-01-01T12:00:00' }), 'sendAt', /ISO-8601/],
    ['expiresAt before sendAt', () => ({ ...OK, sendAt: iso(now() + 3600_000), expiresAt: iso(now() + 1800_000) }), 'expiresAt', /after sendAt/],
    ['expiresAt in the past', () => ({ ...OK, expiresAt: iso(now() - 1000) }), 'expiresAt', /future/],
    ['an unknown field', () => ({ ...OK, colour: 'red' }), 'colour', /not a known field/],
    ['a server field', () => ({ ...OK, id: '01HZZZZZZZZZZZZZZZZZZZZZZZ' }), 'id', /not a known field/],
  ];

  it.each(cases)('answers 422 naming the field for %s', async (_name, body, path, message) => {
    const r = await postAlert(svc.url, body());
    expectProblem(r, 422, 'validation-failed');
    expect(r.body.errors).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it.each([['an array', '[]'], ['a string', '"headline"'], ['null', 'null'], ['a number', '42']])('answers 422 when the body is %s, not an object', async (_n, body) => {
    const r = await raw(body, { 'Content-Type': 'application/json', Authorization: `Bearer ${PUBLISH_KEY}` });
    expectProblem(r as any, 422, 'validation-failed');
    expect(r.body.errors).toEqual([{ path: '', message: 'the body must be a JSON object' }]);
  });

  it('names every bad field at once', async () => {
    const r = await postAlert(svc.url, { headline: '', topics: ['Bad'], priority: 'x', url: 'nope', extra: 1 });
    expect(r.status).toBe(422);
    const paths = r.body.errors.map((e: any) => e.path).sort();
    expect(paths).toEqual(['extra', 'headline', 'priority', 'topics.0', 'url']);
  });

  it('accepts the limits exactly, trims the headline, counts emoji as one character, and defaults priority to urgent', async () => {
    const r = await postAlert(svc.url, { headline: `  ${'🚨'.repeat(200)}  `, topics: Array.from({ length: 20 }, (_, i) => `t${i}/a/b/c/d`), summary: 's'.repeat(2000), url: 'https://news.example/' + 'a'.repeat(2048 - 21) });
    expect(r.status).toBe(202);
    expect(r.body.headline).toBe('🚨'.repeat(200));
    expect(r.body.priority).toBe('urgent');
    const trimmed = await postAlert(svc.url, { headline: '  Spaces around  ', topics: ['world'], sendAt: iso(now() - 2000) });
    expect(trimmed.status).toBe(202);
    expect(trimmed.body.headline).toBe('Spaces around');
    const priv = await postAlert(svc.url, { headline: 'private only', topics: ['private/a', 'private/b'] });
    expect(priv.status).toBe(202);
    const scheduled = await postAlert(svc.url, { ...OK, sendAt: iso(now() + 29 * 24 * 3600 * 1000), expiresAt: iso(now() + 30 * 24 * 3600 * 1000) });
    expect(scheduled.status).toBe(202);
    expect(scheduled.body.status).toBe('scheduled');
  });

  it('answers 503, never 202, while Redis is down, and 202 again once it is back', async () => {
    await redis.stop();
    try {
      for (let i = 0; i < 3; i++) {
        const r = await postAlert(svc.url, { headline: `while down ${i}`, topics: ['world'] });
        expectProblem(r, 503, 'unavailable');
        expect(r.headers.get('retry-after')).toBeTruthy();
      }
    } finally {
      await redis.start();
    }
    await eventually(async () => (await postAlert(svc.url, { headline: 'back', topics: ['world'] })).status === 202, 15_000, 200);
  });
});
