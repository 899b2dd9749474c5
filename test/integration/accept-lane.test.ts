/**
 * The accept lane reads a plain POST /v1/alerts without express; anything
 * else goes through express. The same request sent both ways (plain, and
 * gzipped or chunked, which only express reads) must get the same answer:
 * status, headers, body and log lines, refusals and the checks before them
 * included.
 */
import { gzipSync } from 'node:zlib';
import net from 'node:net';
import IORedis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { Keys } from '../../src/redis/keys';
import { eventually } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { childEnv, spawnService, type ChildService } from '../helpers/service';
import { PUBLISH_KEY, uniquePrefix } from '../helpers/settings';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: any;
}

type Way = 'lane' | 'express';

/** POSTs `body` plain (the lane) or gzipped (express), as `key`. */
async function post(url: string, way: Way, body: string | Buffer, headers: Record<string, string> = {}, key = PUBLISH_KEY): Promise<Answer> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const res = await fetch(`${url}/v1/alerts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...(way === 'express' ? { 'Content-Encoding': 'gzip' } : {}), ...headers },
    body: way === 'express' ? gzipSync(bytes) : bytes,
  });
  const text = await res.text();
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => (out[k] = v));
  return { status: res.status, headers: out, body: text ? JSON.parse(text) : undefined };
}

/** What must match between the two ways: everything but the alert's own id and times. */
function shape(a: Answer): unknown {
  const { date, 'x-request-id': _rid, location, 'content-length': _len, ...headers } = a.headers;
  void date;
  void _rid;
  void _len;
  const body = a.body && typeof a.body === 'object' ? { ...a.body } : a.body;
  for (const k of ['id', 'createdAt', 'audit', 'report']) if (body && k in body) body[k] = typeof body[k];
  return { status: a.status, headers: { ...headers, location: location && location.replace(/[0-9A-Z]{26}$/, 'ID') }, body };
}

describe('the accept lane', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const children: ChildService[] = [];
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await redis.cleanup();
  });

  async function spawn(prefix: string, extra: Record<string, string> = {}): Promise<ChildService> {
    const c = await spawnService(childEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'api,worker', FLASHWIRE_LOG_LEVEL: 'info', ...extra }));
    children.push(c);
    let partial = '';
    c.child.stdout!.on('data', (d) => {
      const all = (partial + String(d)).split('\n');
      partial = all.pop()!;
      for (const l of all) if (l.startsWith('{')) lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    return c;
  }

  const logged = (requestId: string) => lines.filter((l) => l.requestId === requestId).map((l) => l.msg);

  it('answers and logs a plain POST as express answers the same one gzipped', async () => {
    const svc = await spawn(uniquePrefix());
    const alert = JSON.stringify({ headline: 'Stoltenberg: Ukraine belongs in NATO', topics: ['europe/ukraine'], priority: 'flash' });
    const lane = await post(svc.url, 'lane', alert, { 'X-Request-Id': 'lane-accepted' });
    const viaExpress = await post(svc.url, 'express', alert, { 'X-Request-Id': 'express-accepted' });
    expect(lane.status).toBe(202);
    expect(lane.headers['x-request-id']).toBe('lane-accepted');
    expect(lane.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(lane.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(lane.body)));
    expect(lane.headers.location).toBe(`/v1/alerts/${lane.body.id}`);
    expect(shape(lane)).toEqual(shape(viaExpress));
    // The same steps logged under each request's id, the access line last.
    const steps = ['alert accepted', 'alert entered the feed', 'request'];
    await eventually(() => logged('lane-accepted').includes('request') && logged('express-accepted').includes('request'));
    expect(logged('lane-accepted')).toEqual(steps);
    expect(logged('express-accepted')).toEqual(steps);
    const access = lines.find((l) => l.requestId === 'lane-accepted' && l.msg === 'request')!;
    expect(access).toMatchObject({ method: 'POST', path: '/v1/alerts', status: 202 });

    // A byte order mark is dropped, as body-parser drops it.
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(alert)]);
    expect(shape(await post(svc.url, 'lane', bom))).toEqual(shape(await post(svc.url, 'express', bom)));
    // An Idempotency-Key's replay is the same answer whichever way each request came.
    const first = await post(svc.url, 'lane', alert, { 'Idempotency-Key': 'lane-replay-1' });
    const replay = await post(svc.url, 'express', alert, { 'Idempotency-Key': 'lane-replay-1' });
    const again = await post(svc.url, 'lane', alert, { 'Idempotency-Key': 'lane-replay-1' });
    expect(first.status).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(replay.body).toEqual(first.body);
    expect(again).toMatchObject({ status: 202, body: first.body, headers: { 'idempotent-replayed': 'true' } });
    expect(shape(replay)).toEqual(shape(again));
  });

  it('refuses what express refuses, with the same problem', async () => {
    const svc = await spawn(uniquePrefix());
    const bodies = [
      '{"headline": ',
      '   ',
      JSON.stringify({ headline: 'No topics' }),
      JSON.stringify({ headline: 'x', topics: ['world'], extra: 1 }),
      '[1, 2]',
      Buffer.from([0xef, 0xbb, 0xbf]),
    ];
    for (const body of bodies) {
      const lane = await post(svc.url, 'lane', body);
      expect(lane.status).toBeGreaterThanOrEqual(400);
      expect(lane.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(lane.body.instance).toBe('/v1/alerts');
      expect(shape(lane)).toEqual(shape(await post(svc.url, 'express', body)));
    }
    // A bad Idempotency-Key header.
    const alert = JSON.stringify({ headline: 'x', topics: ['world'] });
    const lane = await post(svc.url, 'lane', alert, { 'Idempotency-Key': 'x'.repeat(300) });
    expect(lane.status).toBe(422);
    expect(shape(lane)).toEqual(shape(await post(svc.url, 'express', alert, { 'Idempotency-Key': 'x'.repeat(300) })));
  });

  it('counts a refused body against the publish rate, and refuses a revoked key first', async () => {
    const prefix = uniquePrefix();
    const svc = await spawn(prefix, { FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '3' });
    const conn = new IORedis(redis.url);
    const store = new ApiKeyStore(conn, new Keys(prefix));
    try {
      const { secret } = await store.create('desk', ['publish']);
      const alert = JSON.stringify({ headline: 'Counted', topics: ['world'] });
      // The first use reads the key from Redis (express); from then on it is cached (the lane).
      expect((await post(svc.url, 'lane', alert, {}, secret)).status).toBe(202);
      expect((await post(svc.url, 'lane', '{"headline": ', {}, secret)).status).toBe(400);
      expect((await post(svc.url, 'lane', '{"headline": ', {}, secret)).status).toBe(400);
      const limited = await post(svc.url, 'lane', '{"headline": ', {}, secret);
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect((await post(svc.url, 'lane', alert, {}, secret)).status).toBe(429);
      // Revoked: a 401 before anything else, for a good body and a bad one.
      await store.revoke('desk');
      const revoked = await post(svc.url, 'lane', '{"headline": ', {}, secret);
      expect(revoked.status).toBe(401);
      expect(revoked.headers['www-authenticate']).toMatch(/^Bearer/);
      expect((await post(svc.url, 'lane', alert, {}, secret)).status).toBe(401);
    } finally {
      conn.disconnect();
    }
  });

  it('answers nothing to a client that hangs up mid-body, and goes on', async () => {
    const svc = await spawn(uniquePrefix());
    const alert = JSON.stringify({ headline: 'After a hang-up', topics: ['world'] });
    const { port } = new URL(svc.url);
    const cut = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => cut.once('connect', resolve));
    const heard: Buffer[] = [];
    cut.on('data', (d: Buffer) => heard.push(d));
    cut.write(`POST /v1/alerts HTTP/1.1\r\nHost: x\r\nX-Request-Id: cut-off\r\nAuthorization: Bearer ${PUBLISH_KEY}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n${alert.slice(0, 10)}`);
    // A later request answered proves the first was read as far as it went.
    expect((await post(svc.url, 'lane', alert)).status).toBe(202);
    cut.destroy();
    await new Promise((resolve) => cut.once('close', resolve));
    expect((await post(svc.url, 'lane', alert, { 'X-Request-Id': 'after-cut' })).status).toBe(202);
    await eventually(() => logged('after-cut').includes('request'));
    expect(Buffer.concat(heard).length).toBe(0);
    expect(logged('cut-off')).toEqual([]);
  });
});
