/**
 * Web Push end to end: subscriptions through the API, the sender in the
 * worker role, and a push-service stand-in on node:http that decrypts what
 * arrives with http_ece (an implementation independent of ours) and checks
 * the VAPID token's ES256 signature.
 */
import IORedis from 'ioredis';
import { SubscriberTokens } from '../../src/auth/subscriber-token';
import { Keys } from '../../src/redis/keys';
import { eventually, FIXTURE, getJson, postAlert } from '../helpers/clients';
import { checkVapid, FakeBrowser, startPushService, type PushServiceStandIn, type ReceivedPush } from '../helpers/push-service';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { JWT_SECRET, PUBLISH_KEY, uniquePrefix } from '../helpers/settings';

const SUBJECT = 'mailto:desk@news.example';

async function send(url: string, method: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('Web Push', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let ps: PushServiceStandIn;
  let publicKey: string;
  let plain: IORedis;
  const prefix = uniquePrefix();
  const env = { FLASHWIRE_PREFIX: prefix, FLASHWIRE_PUSH_ALLOW_PRIVATE: 'true', FLASHWIRE_VAPID_SUBJECT: SUBJECT, FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '100000' };

  beforeAll(async () => {
    redis = await startRedis();
    plain = new IORedis(redis.url);
    ps = await startPushService();
    svc = await startService(redis.url, env);
    publicKey = (await getJson(`${svc.url}/v1/push/key`)).body.publicKey;
  });
  afterAll(async () => {
    await svc?.stop();
    await ps?.close();
    plain?.disconnect();
    await redis?.cleanup();
  });

  const subscribe = (browser: FakeBrowser, topics: string[], headers: Record<string, string> = {}) =>
    send(`${svc.url}/v1/push/subscriptions`, 'POST', { subscription: browser.subscription, topics }, headers);
  const browserAt = (path: string) => new FakeBrowser(`${ps.origin}${path}`);
  const pushesTo = (path: string) => (p: ReceivedPush) => p.path === path && p.answered < 300;
  const frames = (b: FakeBrowser, list: ReceivedPush[]) => list.map((p) => JSON.parse(b.read(p.body)));

  it('serves one VAPID public key, made on first start and kept in Redis', async () => {
    const raw = Buffer.from(publicKey, 'base64url');
    expect(raw.length).toBe(65);
    expect(raw[0]).toBe(4);
    const stored = JSON.parse((await plain.get(new Keys(prefix).vapidKeys))!);
    expect(stored.publicKey).toBe(publicKey);
    // (The restart in the last test checks that a new process serves the same key.)
  });

  it('validates subscriptions and answers 201, then 200 with the topics replaced', async () => {
    const b = browserAt('/validate');
    const bad = await send(`${svc.url}/v1/push/subscriptions`, 'POST', { subscription: { ...b.subscription, keys: { p256dh: 'AAAA', auth: 'x' } }, topics: ['World'] });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['topics']));
    expect((await send(`${svc.url}/v1/push/subscriptions`, 'POST', { subscription: b.subscription, topics: [], extra: 1 })).status).toBe(422);
    const first = await subscribe(b, ['world']);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: expect.stringMatching(/^ps_/), topics: ['world'] });
    const again = await subscribe(b, ['europe', 'asia']);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id: first.body.id, topics: ['europe', 'asia'] });
    const k = new Keys(prefix);
    expect(await plain.sismember(k.pushTopic('world'), first.body.id)).toBe(0);
    expect(await plain.sismember(k.pushTopic('asia'), first.body.id)).toBe(1);
    const del = await send(`${svc.url}/v1/push/subscriptions`, 'DELETE', { endpoint: b.endpoint });
    expect(del.status).toBe(204);
    expect(await plain.exists(k.pushSubscription(first.body.id))).toBe(0);
    expect(await plain.sismember(k.pushTopic('asia'), first.body.id)).toBe(0);
  });

  it('needs a credential for private topics, as on the stream', async () => {
    const b = browserAt('/private');
    expect((await subscribe(b, ['private/desk'])).status).toBe(401);
    const other = SubscriberTokens.sign(JWT_SECRET, ['private/other'], 3600);
    expect((await subscribe(b, ['private/desk'], { Authorization: `Bearer ${other}` })).status).toBe(403);
    const good = SubscriberTokens.sign(JWT_SECRET, ['private/desk'], 3600);
    expect((await subscribe(b, ['private/desk'], { Authorization: `Bearer ${good}` })).status).toBe(201);
    // Or as a page passes it to the stream, `?token=`.
    const viaQuery = await send(`${svc.url}/v1/push/subscriptions?token=${good}`, 'POST', { subscription: b.subscription, topics: ['private/desk', 'world'] });
    expect(viaQuery.status).toBe(200);
    expect((await send(`${svc.url}/v1/push/subscriptions?token=${other}`, 'POST', { subscription: b.subscription, topics: ['private/desk'] })).status).toBe(403);
    expect((await send(`${svc.url}/v1/push/subscriptions?token=nonsense`, 'POST', { subscription: b.subscription, topics: ['world'] })).status).toBe(401);
    await send(`${svc.url}/v1/push/subscriptions`, 'DELETE', { endpoint: b.endpoint });
  });

  it('refuses endpoints on non-public addresses unless FLASHWIRE_PUSH_ALLOW_PRIVATE is set', async () => {
    const strict = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api' });
    try {
      for (const endpoint of ['https://127.0.0.1/push/x', 'https://10.1.2.3/push/x', 'https://[::1]/push/x', 'https://localhost/push/x', 'http://push.example/x']) {
        const res = await send(`${strict.url}/v1/push/subscriptions`, 'POST', { subscription: { ...browserAt('/x').subscription, endpoint }, topics: ['world'] });
        expect([endpoint, res.status]).toEqual([endpoint, 422]);
        expect(res.body.errors[0].path).toBe('subscription.endpoint');
      }
      // (Stopping a process whose queue is still connecting upsets BullMQ: let it finish first.)
      expect((await postAlert(strict.url, { headline: 'Noise', topics: ['noise'] })).status).toBe(202);
    } finally {
      await strict.stop();
    }
  });

  it('pushes an alert, its correction and its retraction to the subscriptions that cover it, encrypted and signed', async () => {
    const europe = browserAt('/s/europe');
    const asia = browserAt('/s/asia');
    const every = browserAt('/s/every');
    expect((await subscribe(europe, ['europe'])).status).toBe(201);
    expect((await subscribe(asia, ['asia'])).status).toBe(201);
    expect((await subscribe(every, ['*', 'europe/ukraine'])).status).toBe(201);

    const posted = await postAlert(svc.url, FIXTURE);
    expect(posted.status).toBe(202);
    const id = posted.body.id as string;
    const [first] = await ps.waitFor(pushesTo('/s/europe'));
    const frame = JSON.parse(europe.read(first!.body));
    const feed = await getJson(`${svc.url}/v1/feed?topics=europe`);
    expect(frame).toEqual(feed.body.events.find((f: { alert?: { id: string } }) => f.alert?.id === id));
    expect(frame).toMatchObject({ type: 'alert', alert: { id, headline: FIXTURE.headline, summary: FIXTURE.summary } });

    // RFC 8030 and 8291 headers, per the contract.
    expect(first!.headers['content-encoding']).toBe('aes128gcm');
    expect(first!.headers['content-type']).toBe('application/octet-stream');
    expect(first!.headers.urgency).toBe('high'); // the fixture is a bulletin
    expect(first!.headers.topic).toBe(id);
    expect(first!.headers.topic!.length).toBeLessThanOrEqual(32);
    const ttl = Number(first!.headers.ttl);
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);

    // RFC 8292: ES256 by the key browsers subscribed with, for this origin, at most 24 h.
    const { token, claims } = checkVapid(first!.headers.authorization, publicKey);
    expect(claims.aud).toBe(ps.origin);
    expect(claims.sub).toBe(SUBJECT);
    const exp = Number(claims.exp);
    expect(exp).toBeGreaterThan(Date.now() / 1000);
    expect(exp).toBeLessThanOrEqual(Date.now() / 1000 + 24 * 3600);

    // A subscription covering it twice (`*` and the topic) gets it once.
    const [everyFirst] = await ps.waitFor(pushesTo('/s/every'));
    expect(JSON.parse(every.read(everyFirst!.body)).alert.id).toBe(id);

    const patched = await send(`${svc.url}/v1/alerts/${id}`, 'PATCH', { headline: 'Stoltenberg: Ukraine’s rightful place is in NATO' }, { Authorization: `Bearer ${PUBLISH_KEY}` });
    expect(patched.status).toBe(200);
    const retracted = await send(`${svc.url}/v1/alerts/${id}/retract`, 'POST', { reason: 'Quote was misattributed' }, { Authorization: `Bearer ${PUBLISH_KEY}` });
    expect(retracted.status).toBe(200);
    // A marker after everything: once it is in, nothing earlier can still come.
    const marker = await postAlert(svc.url, { headline: 'Marker', topics: ['europe', 'asia'], priority: 'routine' });
    const europeAll = await ps.waitFor(pushesTo('/s/europe'), 4);
    const got = frames(europe, europeAll);
    expect(got.map((f) => f.type)).toEqual(['alert', 'update', 'retract', 'alert']);
    expect(got[1]).toMatchObject({ type: 'update', alert: { id, headline: 'Stoltenberg: Ukraine’s rightful place is in NATO' } });
    expect(got[2]).toMatchObject({ type: 'retract', id, reason: 'Quote was misattributed' });
    expect(got[3].alert.id).toBe(marker.body.id);
    // The correction and the retraction replace the alert at the push service; the retraction keeps the alert's urgency.
    expect(europeAll.slice(0, 3).map((p) => p.headers.topic)).toEqual([id, id, id]);
    expect(europeAll.slice(0, 3).map((p) => p.headers.urgency)).toEqual(['high', 'high', 'high']);
    expect(europeAll[3]!.headers.urgency).toBe('low');
    // One token per push-service origin, reused.
    expect(new Set(europeAll.map((p) => checkVapid(p.headers.authorization, publicKey).token))).toEqual(new Set([token]));

    // Asia got only the marker; `*` got all four.
    await ps.waitFor(pushesTo('/s/asia'));
    expect(frames(asia, ps.received.filter(pushesTo('/s/asia'))).map((f) => f.alert.id)).toEqual([marker.body.id]);
    expect(frames(every, await ps.waitFor(pushesTo('/s/every'), 4)).map((f) => f.type)).toEqual(['alert', 'update', 'retract', 'alert']);
    for (const b of [europe, asia, every]) await send(`${svc.url}/v1/push/subscriptions`, 'DELETE', { endpoint: b.endpoint });
  });

  it('sets TTL from expiresAt, Urgency from the priority, and drops summary from a payload past 3,000 bytes', async () => {
    const b = browserAt('/s/ttl');
    await subscribe(b, ['ttl']);
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const long = await postAlert(svc.url, { headline: 'Long one', summary: 'é'.repeat(1990), url: 'https://news.example/a', topics: ['ttl'], priority: 'routine', expiresAt });
    const [p] = await ps.waitFor(pushesTo('/s/ttl'));
    expect(Number(p!.headers.ttl)).toBeGreaterThan(3500);
    expect(Number(p!.headers.ttl)).toBeLessThanOrEqual(3600);
    expect(p!.headers.urgency).toBe('low');
    const text = b.read(p!.body);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(3000);
    const f = JSON.parse(text);
    expect(f.alert.id).toBe(long.body.id);
    expect(f.alert.summary).toBeUndefined();
    expect(f.alert.url).toBe('https://news.example/a');
    await postAlert(svc.url, { headline: 'Urgent', topics: ['ttl'] });
    const both = await ps.waitFor(pushesTo('/s/ttl'), 2);
    expect(both[1]!.headers.urgency).toBe('normal');
    await send(`${svc.url}/v1/push/subscriptions`, 'DELETE', { endpoint: b.endpoint });
  });

  it('deletes a subscription the push service says is gone (410, 404)', async () => {
    const gone = browserAt('/s/gone');
    const missing = browserAt('/s/missing');
    const ok = browserAt('/s/ok');
    ps.script('/s/gone', [{ status: 410 }]);
    ps.script('/s/missing', [{ status: 404 }]);
    const goneId = (await subscribe(gone, ['gone'])).body.id;
    const missingId = (await subscribe(missing, ['gone'])).body.id;
    await subscribe(ok, ['gone']);
    await postAlert(svc.url, { headline: 'To the gone', topics: ['gone'] });
    await ps.waitFor(pushesTo('/s/ok'));
    await ps.waitFor((p) => p.path === '/s/gone' || p.path === '/s/missing', 2);
    const k = new Keys(prefix);
    await eventually(async () => (await plain.exists(k.pushSubscription(goneId), k.pushSubscription(missingId))) === 0);
    expect(await plain.sismember(k.pushTopic('gone'), goneId)).toBe(0);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/flashwire_push_subscriptions_removed_total\{reason="gone"\} [2-9]/);
    expect(metrics).toMatch(/flashwire_push_failures_total\{status="410"\} [1-9]/);
    expect(metrics).toMatch(/flashwire_push_sent_total [1-9]/);
    // Posting it again makes a new one (201): it was really gone.
    expect((await subscribe(gone, ['gone'])).status).toBe(201);
    await send(`${svc.url}/v1/push/subscriptions`, 'DELETE', { endpoint: gone.endpoint });
    await send(`${svc.url}/v1/push/subscriptions`, 'DELETE', { endpoint: ok.endpoint });
  });

  it('treats the topic index as a hint: a stale entry costs a lookup, never a push, and is dropped', async () => {
    const k = new Keys(prefix);
    const listener = browserAt('/s/stale-listener');
    const elsewhere = browserAt('/s/stale-elsewhere');
    await subscribe(listener, ['stale']);
    const otherId = (await subscribe(elsewhere, ['other'])).body.id;
    // As a race between two writes for one endpoint could leave them.
    await plain.sadd(k.pushTopic('stale'), otherId, 'ps_no_such_subscription');
    const a = await postAlert(svc.url, { headline: 'Stale index', topics: ['stale'] });
    const [got] = await ps.waitFor(pushesTo('/s/stale-listener'));
    expect(JSON.parse(listener.read(got!.body)).alert.id).toBe(a.body.id);
    // A marker for the other subscription: once it is in, the stale alert never went there.
    const marker = await postAlert(svc.url, { headline: 'Marker', topics: ['other'] });
    const [m] = await ps.waitFor(pushesTo('/s/stale-elsewhere'));
    expect(JSON.parse(elsewhere.read(m!.body)).alert.id).toBe(marker.body.id);
    expect(ps.received.filter(pushesTo('/s/stale-elsewhere'))).toHaveLength(1);
    await eventually(async () => (await plain.smembers(k.pushTopic('stale'))).length === 1);
    for (const b of [listener, elsewhere]) await send(`${svc.url}/v1/push/subscriptions`, 'DELETE', { endpoint: b.endpoint });
  });

  it('retries 429 after Retry-After and 5xx with backoff, without holding up others', async () => {
    const slow = browserAt('/s/429');
    const flaky = browserAt('/s/503');
    const fine = browserAt('/s/fine');
    ps.script('/s/429', [{ status: 429, headers: { 'Retry-After': '2' } }]);
    ps.script('/s/503', [{ status: 503 }, { status: 500 }]);
    for (const b of [slow, flaky, fine]) await subscribe(b, ['retry']);
    const a = await postAlert(svc.url, { headline: 'Retry me', topics: ['retry'] });
    const [fineGot] = await ps.waitFor(pushesTo('/s/fine'));
    const tries429 = await ps.waitFor((p) => p.path === '/s/429', 2);
    expect(tries429.map((p) => p.answered)).toEqual([429, 201]);
    expect(tries429[1]!.at - tries429[0]!.at).toBeGreaterThanOrEqual(1900);
    const tries503 = await ps.waitFor((p) => p.path === '/s/503', 3);
    expect(tries503.map((p) => p.answered)).toEqual([503, 500, 201]);
    for (const [b, p] of [[slow, tries429[1]!], [flaky, tries503[2]!], [fine, fineGot!]] as const) expect(JSON.parse(b.read(p.body)).alert.id).toBe(a.body.id);
    // The others were not held up: the fine one got it before the retry was due.
    expect(fineGot!.at).toBeLessThan(tries429[1]!.at);
    for (const b of [slow, flaky, fine]) await send(`${svc.url}/v1/push/subscriptions`, 'DELETE', { endpoint: b.endpoint });
  });

  it('resumes from its durable cursor after a restart, sending each event to each subscription once', async () => {
    const k = new Keys(prefix);
    const b = browserAt('/s/resume');
    await subscribe(b, ['resume']);
    const before = await postAlert(svc.url, { headline: 'Before the restart', topics: ['resume'] });
    await ps.waitFor(pushesTo('/s/resume'));
    await svc.stop();
    // Another worker holds the sender's lease: the restarted process appends
    // alerts to the feed but may not push them until the lease is free.
    await plain.set(k.pushLease, 'another-worker', 'PX', 120_000);
    svc = await startService(redis.url, env);
    expect((await getJson(`${svc.url}/v1/push/key`)).body).toEqual({ publicKey });
    const during = await postAlert(svc.url, { headline: 'While another worker held the lease', topics: ['resume'] });
    await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${during.body.id}`)).body.status === 'sent');
    const cursorWhileHeld = await plain.get(k.pushCursor);
    expect(cursorWhileHeld).not.toBeNull();
    expect(ps.received.filter(pushesTo('/s/resume'))).toHaveLength(1);
    // That worker dies; its lease is gone, and this one carries on from the cursor.
    await plain.del(k.pushLease);
    const after = await postAlert(svc.url, { headline: 'After the takeover', topics: ['resume'] });
    const got = frames(b, await ps.waitFor(pushesTo('/s/resume'), 3));
    expect(got.map((f) => f.alert.id)).toEqual([before.body.id, during.body.id, after.body.id]);
    // A marker, then: nothing was sent twice.
    const marker = await postAlert(svc.url, { headline: 'Marker', topics: ['resume'] });
    const all = frames(b, await ps.waitFor(pushesTo('/s/resume'), 4));
    expect(all.map((f) => f.alert.id)).toEqual([before.body.id, during.body.id, after.body.id, marker.body.id]);
  });
});
