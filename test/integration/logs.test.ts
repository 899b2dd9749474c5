/**
 * Structured logs of real child processes at debug level: request ids, one
 * line per step of an alert's life, and no credential in any line, however
 * it was presented (header, `?token=`, Basic auth, a bad one).
 */
import IORedis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { SubscriberTokens } from '../../src/auth/subscriber-token';
import { Keys } from '../../src/redis/keys';
import { eventually, getJson, openReader, postAlert, sleep } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { childEnv, spawnService, type ChildService } from '../helpers/service';
import { JWT_SECRET, PUBLISH_KEY, uniquePrefix } from '../helpers/settings';

describe('logs', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const children: ChildService[] = [];
  const raw: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await redis.cleanup();
  });

  async function spawn(env: Record<string, string>): Promise<ChildService> {
    const c = await spawnService(env);
    children.push(c);
    // Everything printed after start-up, parsed or not (start-up lines are in c.logs).
    c.child.stdout!.on('data', (d) => raw.push(String(d)));
    c.child.stderr!.on('data', (d) => raw.push(String(d)));
    return c;
  }

  it('carry request ids, one line per step of an alert, and never a key, token or secret', async () => {
    const prefix = uniquePrefix();
    const env = (roles: string) => childEnv(redis.url, prefix, { FLASHWIRE_ROLES: roles, FLASHWIRE_LOG_LEVEL: 'debug' });
    const conn = new IORedis(redis.url);
    const store = new ApiKeyStore(conn, new Keys(prefix));
    const subscribeKey = (await store.create('partner-backend', ['subscribe'])).secret;
    const adminKey = (await store.create('ops', ['admin'])).secret;
    conn.disconnect();
    const token = SubscriberTokens.sign(JWT_SECRET, ['private/desk', 'world'], 3600, 'reader-42');
    const badToken = 'fw_bogus-credential-that-must-not-be-logged-0123';

    // The worker starts later, so one alert can expire while it is queued.
    const front = await spawn(env('api,gateway'));
    // A margin for a loaded machine to accept it; the worker starts once it surely expired.
    const expiresAt = Date.now() + 10_000;
    const expiring = await postAlert(front.url, { headline: 'expires in the queue', topics: ['world'], expiresAt: new Date(expiresAt).toISOString() });
    expect(expiring.status).toBe(202);

    const viaToken = await openReader(front.wsUrl, { topics: 'private/desk,world', token });
    const viaKey = await openReader(front.wsUrl, { topics: 'private/desk', token: subscribeKey });
    expect(viaToken.frames[0].topics).toEqual(['private/desk', 'world']);
    const bad = await openReader(front.wsUrl, { token: badToken }).catch((e: Error) => e);
    expect(String(bad)).toMatch(/4001/);
    const sse = new AbortController();
    const sseRes = await fetch(`${front.url}/v1/events?topics=private/desk&token=${encodeURIComponent(token)}`, { signal: sse.signal });
    expect(sseRes.status).toBe(200);
    void sseRes.body?.cancel().catch(() => undefined);

    await sleep(Math.max(0, expiresAt - Date.now()) + 300);
    const worker = await spawn(env('worker'));

    const posted = await postAlert(front.url, { headline: 'Desk memo', topics: ['private/desk'] }, { 'X-Request-Id': 'newsroom-req-0001' });
    expect(posted.status).toBe(202);
    expect(posted.headers.get('x-request-id')).toBe('newsroom-req-0001');
    const id = posted.body.id as string;
    const generated = await postAlert(front.url, { headline: 'Embargoed', topics: ['world'], sendAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // An id that could forge log content is replaced, not echoed.
    const forged = await fetch(`${front.url}/v1/alerts/${id}`, { headers: { 'X-Request-Id': 'x"} evil\u0001' } }).catch(() => undefined);
    if (forged) expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    await viaKey.waitFor((f) => f.type === 'alert' && f.alert.id === id);
    const auth = (c: string) => ({ Authorization: `Bearer ${c}`, 'Content-Type': 'application/json' });
    expect((await fetch(`${front.url}/v1/alerts/${id}`, { method: 'PATCH', headers: auth(PUBLISH_KEY), body: JSON.stringify({ headline: 'Desk memo, corrected' }) })).status).toBe(200);
    expect((await fetch(`${front.url}/v1/alerts/${id}/retract`, { method: 'POST', headers: auth(PUBLISH_KEY), body: JSON.stringify({ reason: 'sent in error' }) })).status).toBe(200);
    await viaToken.waitFor((f) => f.type === 'retract' && f.id === id);
    // Credentials on the read paths, the dashboard and a refused publish.
    expect((await getJson(`${front.url}/v1/alerts/${id}`, { Authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await getJson(`${front.url}/v1/feed?topics=private/desk`, { Authorization: `Bearer ${subscribeKey}` })).status).toBe(200);
    expect((await fetch(`${front.url}/admin/queues`, { headers: { Authorization: `Basic ${Buffer.from(`ops:${adminKey}`).toString('base64')}` } })).status).toBe(200);
    expect((await postAlert(front.url, { headline: 'x', topics: ['world'] }, { Authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await postAlert(front.url, { headline: 'x', topics: ['world'] }, { Authorization: `Bearer ${badToken}` })).status).toBe(401);

    const all = () => [...front.logs, ...worker.logs];
    const about = (alertId: string) => all().filter((l) => l.alertId === alertId);
    await eventually(() => about(expiring.body.id).some((l) => l.msg === 'alert expired before it could be sent'), 10_000);
    await eventually(() => about(id).some((l) => l.msg === 'retract delivered by this gateway'), 10_000);

    // The request's lines carry its id.
    const tagged = all().filter((l) => l.requestId === 'newsroom-req-0001').map((l) => l.msg);
    // Posted while a worker runs and its queue is idle: the accept sends it itself.
    expect(tagged).toEqual(expect.arrayContaining(['alert accepted', 'alert entered the feed', 'request']));
    // One line per step of the alert's life, from each role that took it.
    const steps = about(id).map((l) => l.msg);
    expect(steps).toEqual(
      expect.arrayContaining([
        'alert accepted',
        'alert entered the feed',
        'alert delivered by this gateway',
        'alert corrected in the feed',
        'update delivered by this gateway',
        'alert retracted in the feed',
        'retract delivered by this gateway',
      ]),
    );
    expect(about(id).find((l) => l.msg === 'alert delivered by this gateway')).toMatchObject({ readers: 2, hostname: expect.any(String), pid: front.child.pid });
    expect(about(generated.body.id).map((l) => l.msg)).toContain('alert scheduled');
    expect(about(expiring.body.id).map((l) => l.msg)).toEqual(expect.arrayContaining(['alert accepted', 'alert queued', 'alert expired before it could be sent']));

    viaToken.close();
    viaKey.close();
    sse.abort();
    await Promise.all([front.stop(), worker.stop()]);

    // Every line, from start-up to shutdown, of both processes.
    const text = JSON.stringify(all()) + raw.join('');
    expect(all().length).toBeGreaterThan(20);
    expect(all().some((l) => l.level === 20)).toBe(true); // debug lines were on
    const signature = token.split('.')[2] as string;
    for (const secret of [PUBLISH_KEY, token, signature, subscribeKey, adminKey, badToken, JWT_SECRET, Buffer.from(`ops:${adminKey}`).toString('base64')]) {
      expect(text.includes(secret) ? secret : 'absent').toBe('absent');
    }
  }, 120_000);
});
