/**
 * Private feeds (the contract Credentials): subscriber tokens (HS256 JWT with
 * `topics` and `exp`) and subscribe-scope keys read `private/` topics;
 * nobody else ever receives one — not over WebSocket, not as `*`, not from
 * GET /v1/alerts/{id}, not from GET /v1/feed.
 */
import jwt from 'jsonwebtoken';
import IORedis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { SubscriberTokens } from '../../src/auth/subscriber-token';
import { Keys } from '../../src/redis/keys';
import { eventually, getJson, openReader, postAlert } from '../helpers/clients';
import { passMarker } from '../helpers/marker';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { JWT_SECRET, PUBLISH_KEY } from '../helpers/settings';

const token = (topics: string[], seconds = 3600) => SubscriberTokens.sign(JWT_SECRET, topics, seconds);
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

describe('private feeds', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let client: IORedis;
  let subscribeKey: string;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url);
    client = new IORedis(redis.url);
    subscribeKey = (await new ApiKeyStore(client, new Keys(svc.prefix)).create('mobile-backend', ['subscribe'])).secret;
  });
  afterAll(async () => {
    client.disconnect();
    await svc.stop();
    await redis.cleanup();
  });

  it('never lets a private alert reach a reader, poller or GET without a credential that grants it', async () => {
    const anonStar = await openReader(svc.wsUrl, { topics: '*' });
    const anonBare = await openReader(svc.wsUrl);
    const anonPrivate = await openReader(svc.wsUrl, { topics: 'private/premium,world' });
    const wrongToken = await openReader(svc.wsUrl, { topics: 'private/premium,private/other', token: token(['private/other']) });
    const granted = await openReader(svc.wsUrl, { topics: 'private/premium', token: token(['private/premium']) });
    const parent = await openReader(svc.wsUrl, { topics: 'private', token: token(['private']) });
    const keyReader = await openReader(svc.wsUrl, { topics: 'private' }, { headers: bearer(subscribeKey) });

    // Refused topics: an error frame, the other topics kept.
    expect(anonPrivate.frames[0]).toMatchObject({ type: 'welcome', topics: ['world'] });
    expect(await anonPrivate.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'forbidden_topic' });
    expect(wrongToken.frames[0].topics).toEqual(['private/other']);
    expect(await wrongToken.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'forbidden_topic' });

    const secret = await postAlert(svc.url, { headline: 'For subscribers only', topics: ['private/premium'] });
    const marker = await postAlert(svc.url, { headline: 'public marker', topics: ['world'] });
    for (const r of [granted, parent, keyReader]) await r.waitFor((f) => f.type === 'alert' && f.alert.id === secret.body.id);
    for (const r of [anonStar, anonBare, anonPrivate]) await r.waitFor((f) => f.type === 'alert' && f.alert.id === marker.body.id);
    const privateMarker = await passMarker(svc.url, [wrongToken], ['private/other']);
    for (const r of [anonStar, anonBare, anonPrivate, wrongToken]) {
      expect(JSON.stringify(r.frames)).not.toContain(secret.body.id);
      expect(JSON.stringify(r.frames)).not.toContain('For subscribers only');
    }

    // HTTP: a 404 without the credential, never a hint; the alert with it.
    const anonGet = await getJson(`${svc.url}/v1/alerts/${secret.body.id}`);
    expect(anonGet.status).toBe(404);
    const unknown = await getJson(`${svc.url}/v1/alerts/01HZZZZZZZZZZZZZZZZZZZZZZZ`);
    expect(anonGet.body.detail.replace(secret.body.id, 'X')).toBe(unknown.body.detail.replace('01HZZZZZZZZZZZZZZZZZZZZZZZ', 'X'));
    expect((await getJson(`${svc.url}/v1/alerts/${secret.body.id}`, bearer(token(['private/other'])))).status).toBe(404);
    expect((await getJson(`${svc.url}/v1/alerts/${secret.body.id}`, bearer(token(['private/premium'])))).body.headline).toBe('For subscribers only');
    expect((await getJson(`${svc.url}/v1/alerts/${secret.body.id}`, bearer(subscribeKey))).status).toBe(200);
    // The newsroom's publish key sees the report of the private alert it posted.
    expect((await getJson(`${svc.url}/v1/alerts/${secret.body.id}`, bearer(PUBLISH_KEY))).status).toBe(200);

    // The poll: public topics never include private ones; asking needs a credential.
    await eventually(async () => (await getJson(`${svc.url}/v1/feed?topics=world`)).body.events.length > 0);
    for (const q of ['', '?topics=*', '?topics=world']) expect(JSON.stringify((await getJson(`${svc.url}/v1/feed${q}`)).body)).not.toContain(secret.body.id);
    const noCred = await getJson(`${svc.url}/v1/feed?topics=private/premium`);
    expect(noCred.status).toBe(401);
    const badGrant = await getJson(`${svc.url}/v1/feed?topics=private/premium`, bearer(token(['private/other'])));
    expect(badGrant.status).toBe(403);
    const ok = await getJson(`${svc.url}/v1/feed?topics=private/premium`, bearer(token(['private/premium'])));
    expect(ok.body.events.map((f: any) => f.alert.id)).toEqual([secret.body.id]);
    expect((await getJson(`${svc.url}/v1/feed?topics=private`, bearer(subscribeKey))).body.events.filter((f: any) => f.alert.id !== privateMarker)).toHaveLength(1);
    for (const r of [anonStar, anonBare, anonPrivate, wrongToken, granted, parent, keyReader]) r.close();
  });

  it('closes with 4001 right after the handshake for a bad, forged or expired token', async () => {
    const forged = jwt.sign({ topics: ['private'] }, 'another-secret-0123456789abcdef0123456789', { algorithm: 'HS256', expiresIn: 60 });
    const expired = jwt.sign({ topics: ['private'], exp: Math.floor(Date.now() / 1000) - 10 }, JWT_SECRET, { algorithm: 'HS256' });
    const noExp = jwt.sign({ topics: ['private'] }, JWT_SECRET, { algorithm: 'HS256' });
    const noTopics = jwt.sign({ sub: 'x' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 60 });
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ topics: ['private'], exp: 9e9 })).toString('base64url')}.`;
    for (const t of ['garbage', forged, expired, noExp, noTopics, none]) {
      const err = await openReader(svc.wsUrl, { topics: 'world', token: t }).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(err).toMatch(/closed before welcome: 4001/);
      expect((await getJson(`${svc.url}/v1/alerts/01HZZZZZZZZZZZZZZZZZZZZZZZ`, bearer(t))).status).toBe(401);
      expect((await getJson(`${svc.url}/v1/feed`, bearer(t))).status).toBe(401);
    }
  });

  it('closes with 4001 when a token expires mid-connection', async () => {
    const reader = await openReader(svc.wsUrl, { topics: 'private/premium', token: token(['private/premium'], 2) });
    expect(reader.frames[0].topics).toEqual(['private/premium']);
    const closed = await reader.closed;
    expect(closed.code).toBe(4001);
  });

  it('refuses a subscriber token on a publishing path with 401', async () => {
    const res = await postAlert(svc.url, { headline: 'x', topics: ['world'] }, bearer(token(['private'])));
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/subscriber token/);
    const subKeyPost = await postAlert(svc.url, { headline: 'x', topics: ['world'] }, bearer(subscribeKey));
    expect(subKeyPost.status).toBe(403);
  });
});
