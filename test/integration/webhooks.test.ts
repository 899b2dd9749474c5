/**
 * Webhooks (the contract's "Webhooks (mobile backends)"): management with an admin
 * key, Standard Webhooks calls verified with the official `standardwebhooks`
 * package, the exact stream frames in feed order, retries, Retry-After,
 * 410, enable/replay, resync, expiry, private topics, rotation, the
 * response limits and the status-change log lines.
 */
import { Writable } from 'node:stream';
import IORedis from 'ioredis';
import pino from 'pino';
import { Service } from '../../server/service';
import { eventually, getJson, sleep } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { PUBLISH_KEY, testSettings } from '../helpers/settings';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';
import { createAdminKey, postOn, webhookApi, type WebhookApi } from '../helpers/webhooks';

jest.setTimeout(60_000);

interface Svc {
  service: Service;
  url: string;
  prefix: string;
  logs: any[];
  stop(): Promise<void>;
}

async function start(redisUrl: string, env: Record<string, string> = {}, lookup?: Service['options']['webhookLookup']): Promise<Svc> {
  const settings = testSettings(redisUrl, {
    FLASHWIRE_WEBHOOK_ALLOW_PRIVATE: 'true',
    FLASHWIRE_WEBHOOK_RETRY_SCHEDULE_MS: '100,200,300',
    FLASHWIRE_WEBHOOK_LEASE_MS: '2000',
    FLASHWIRE_LOG_LEVEL: 'info',
    ...env,
  });
  const logs: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const service = new Service({ settings, log: pino({ level: 'info' }, sink), redis: { url: redisUrl }, webhookLookup: lookup });
  await service.start();
  return { service, url: `http://127.0.0.1:${service.port}`, prefix: settings.FLASHWIRE_PREFIX, logs, stop: () => service.stop() };
}

const ids = (calls: { id: string }[]) => calls.map((c) => c.id);

describe('webhooks', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Svc;
  let api: WebhookApi;
  let conn: IORedis;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    redis = await startRedis();
    svc = await start(redis.url);
    api = webhookApi(svc.url, await createAdminKey(redis.url, svc.prefix));
    conn = new IORedis(redis.url);
  });
  afterAll(async () => {
    await svc.stop();
    for (const r of receivers) await r.close();
    conn.disconnect();
    await redis.cleanup();
  });

  it('is managed with an admin key: create shows the secret once, list and get never do', async () => {
    const rcv = await receiver();
    const created = await api.call('POST', '/v1/webhooks', { url: rcv.url, topics: ['wh-manage'], description: 'mobile relay' });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'description', 'id', 'secret', 'status', 'topics', 'url']);
    expect(created.body.status).toBe('active');
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(created.body.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    const id = created.body.id as string;

    const list = await api.call('GET', '/v1/webhooks');
    const mine = list.body.webhooks.find((w: any) => w.id === id);
    expect(mine).toMatchObject({ id, url: rcv.url, topics: ['wh-manage'], description: 'mobile relay', status: 'active', lag: { events: 0, seconds: 0 } });
    expect(mine.secret).toBeUndefined();
    expect(mine.cursor).toMatch(/^\d+-\d+$/);
    const one = await api.get(id);
    expect(one.secret).toBeUndefined();
    expect(one.attempts).toEqual([]);

    // Only admin keys manage webhooks.
    const asPublisher = await fetch(`${svc.url}/v1/webhooks`, { headers: { Authorization: `Bearer ${PUBLISH_KEY}` } });
    expect(asPublisher.status).toBe(403);
    expect((await fetch(`${svc.url}/v1/webhooks`)).status).toBe(401);

    // Validation names every bad field.
    const bad = await api.call('POST', '/v1/webhooks', { url: 'ftp://x.example/', topics: ['Not A Topic'], extra: 1 });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(expect.arrayContaining(['topics.0', 'url']));

    expect((await api.call('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect((await api.call('GET', `/v1/webhooks/${id}`)).status).toBe(404);
    expect((await api.call('DELETE', `/v1/webhooks/${id}`)).status).toBe(404);
  });

  it('delivers alert, update and retract as the exact stream frames, in order, signed per Standard Webhooks', async () => {
    const rcv = await receiver();
    const { id, secret } = await api.create(rcv.url, ['wh-order']);
    const alertIds = [];
    for (let i = 0; i < 3; i++) alertIds.push(await postOn(svc.url, 'wh-order', `order ${i}`));
    const a0 = alertIds[0] as string;
    await rcv.waitFor((c) => c.length >= 3);
    const auth = { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' };
    expect((await fetch(`${svc.url}/v1/alerts/${a0}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ headline: 'order 0, corrected' }) })).status).toBe(200);
    expect((await fetch(`${svc.url}/v1/alerts/${a0}/retract`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: 'wrong' }) })).status).toBe(200);
    await rcv.waitFor((c) => c.length >= 5);

    // The bodies are exactly what GET /v1/feed (and the stream) sends, byte for byte, in feed order.
    const created = (await api.get(id)).createdAt;
    expect(created).toBeTruthy();
    const feed = await fetch(`${svc.url}/v1/feed?topics=wh-order`);
    const text = await feed.text();
    const frames = JSON.parse(text).events as any[];
    expect(rcv.calls.map((c) => c.frame)).toEqual(frames);
    for (const f of frames) expect(text).toContain(rcv.calls.find((c) => c.id === f.eventId)!.body);
    expect(rcv.calls.map((c) => c.frame.type)).toEqual(['alert', 'alert', 'alert', 'update', 'retract']);
    expect(ids(rcv.calls)).toEqual(frames.map((f) => f.eventId));
    for (const c of rcv.calls) {
      // The official package, independent of our signer, accepts every call.
      expect(rcv.verify(c, secret)).toEqual(c.frame);
      expect(c.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Math.abs(Number(c.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    }
    // The wrong secret does not verify.
    expect(() => rcv.verify(rcv.calls[0]!, 'whsec_' + Buffer.alloc(32, 7).toString('base64'))).toThrow();
    const after = await api.get(id);
    expect(after.cursor).toBe(frames[frames.length - 1].eventId);
    expect(after.attempts).toHaveLength(5);
    expect(after.attempts[0]).toMatchObject({ eventId: after.cursor, status: 204 });
  });

  it('sends private topics only to an endpoint whose topics name them', async () => {
    const priv = await receiver();
    const all = await receiver();
    await api.create(priv.url, ['private/desk']);
    await api.create(all.url, ['*']);
    await postOn(svc.url, 'private/desk', 'private memo');
    const marker = await postOn(svc.url, 'wh-private-marker', 'public marker');
    await priv.waitFor((c) => c.length >= 1);
    await all.waitFor((c) => c.some((x) => x.frame.alert?.id === marker));
    expect(priv.calls.map((c) => c.frame.alert.topics)).toEqual([['private/desk']]);
    expect(all.calls.some((c) => c.frame.alert?.topics?.some((t: string) => t.startsWith('private')))).toBe(false);
  });

  it('after rotate-secret, signs with both secrets; each verifies alone', async () => {
    const rcv = await receiver();
    const { id, secret: oldSecret } = await api.create(rcv.url, ['wh-rotate']);
    await postOn(svc.url, 'wh-rotate', 'before rotation');
    await rcv.waitFor((c) => c.length >= 1);
    expect(rcv.calls[0]!.signature.split(' ')).toHaveLength(1);
    const rotated = await api.call('POST', `/v1/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    await postOn(svc.url, 'wh-rotate', 'after rotation');
    await rcv.waitFor((c) => c.length >= 2);
    const call = rcv.calls[1]!;
    expect(call.signature.split(' ')).toHaveLength(2);
    expect(rcv.verify(call, newSecret)).toEqual(call.frame);
    expect(rcv.verify(call, oldSecret)).toEqual(call.frame);
    // Each signature alone verifies with its own secret.
    const [sNew, sOld] = call.signature.split(' ');
    expect(rcv.verify({ ...call, signature: sNew! }, newSecret)).toEqual(call.frame);
    expect(rcv.verify({ ...call, signature: sOld! }, oldSecret)).toEqual(call.frame);
    expect(() => rcv.verify({ ...call, signature: sOld! }, newSecret)).toThrow();
  });

  it('retries a failing call with the same webhook-id, honours Retry-After, and holds the next event back until a 2xx', async () => {
    const rcv = await receiver();
    const { id, secret } = await api.create(rcv.url, ['wh-retry']);
    rcv.respond((_c, n, res) => {
      if (n === 1) res.writeHead(503, { 'Retry-After': '2' });
      else if (n === 2) res.writeHead(500);
      else res.writeHead(200);
      res.end('{"ok":' + (n > 2) + '}');
    });
    await postOn(svc.url, 'wh-retry', 'retry 0');
    await postOn(svc.url, 'wh-retry', 'retry 1');
    await rcv.waitFor((c) => c.length >= 1);
    await eventually(async () => (await api.get(id)).status === 'failing');
    await rcv.waitFor((c) => c.length >= 4);
    const [c1, c2, c3, c4] = rcv.calls;
    expect([c1!.id, c2!.id, c3!.id]).toEqual([c1!.id, c1!.id, c1!.id]);
    expect(c4!.id).not.toBe(c1!.id);
    // Retry-After: 2 was honoured (the schedule alone would have retried after ~100 ms).
    expect(c2!.at - c1!.at).toBeGreaterThanOrEqual(1900);
    for (const c of rcv.calls) rcv.verify(c, secret);
    const ep = await eventually(async () => {
      const e = await api.get(id);
      return e.status === 'active' && e.cursor === c4!.id ? e : undefined;
    });
    expect(ep.attempts.map((a: any) => a.status)).toEqual([200, 200, 500, 503]);
    expect(svc.logs.filter((l) => l.webhook === id && l.msg === 'webhook status changed').map((l) => [l.from, l.to])).toEqual([
      ['active', 'failing'],
      ['failing', 'active'],
    ]);
  });

  it('a 410 disables the endpoint at once; enable resumes from its cursor', async () => {
    const rcv = await receiver();
    const { id } = await api.create(rcv.url, ['wh-gone']);
    rcv.respond((_c, n, res) => res.writeHead(n === 1 ? 410 : 204));
    await postOn(svc.url, 'wh-gone', 'gone 0');
    await rcv.waitFor((c) => c.length >= 1);
    const disabled = await eventually(async () => {
      const e = await api.get(id);
      return e.status === 'disabled' ? e : undefined;
    });
    expect(disabled.attempts[0].status).toBe(410);
    await postOn(svc.url, 'wh-gone', 'gone 1');
    await eventually(async () => (await api.get(id)).lag.events === 2);
    expect(rcv.calls).toHaveLength(1);
    const enabled = await api.call('POST', `/v1/webhooks/${id}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body.status).toBe('active');
    await rcv.waitFor((c) => c.length >= 3);
    expect(rcv.calls.map((c) => c.frame.alert.headline)).toEqual(['gone 0', 'gone 0', 'gone 1']);
    expect(svc.logs.filter((l) => l.webhook === id && l.msg === 'webhook status changed').map((l) => [l.from, l.to])).toEqual([
      ['active', 'disabled'],
      ['disabled', 'active'],
    ]);
  });

  it('disable stops delivery; replay goes on from just after the given event', async () => {
    const rcv = await receiver();
    const { id } = await api.create(rcv.url, ['wh-replay']);
    for (let i = 0; i < 3; i++) await postOn(svc.url, 'wh-replay', `replay ${i}`);
    await rcv.waitFor((c) => c.length >= 3);
    expect((await api.call('POST', `/v1/webhooks/${id}/disable`)).body.status).toBe('disabled');
    const first = rcv.calls[0]!.id;
    const replay = await api.call('POST', `/v1/webhooks/${id}/replay`, { from: first });
    expect(replay.status).toBe(202);
    expect(replay.body.cursor).toBe(first);
    expect((await api.call('POST', `/v1/webhooks/${id}/replay`, { from: 'nope' })).status).toBe(422);
    expect((await api.call('POST', `/v1/webhooks/${id}/replay`, { from: '99999999999999-0' })).status).toBe(422);
    await api.call('POST', `/v1/webhooks/${id}/enable`);
    await rcv.waitFor((c) => c.length >= 5);
    expect(rcv.calls.map((c) => c.frame.alert.headline)).toEqual(['replay 0', 'replay 1', 'replay 2', 'replay 1', 'replay 2']);
  });

  it('skips alerts that expired before they could be delivered', async () => {
    const rcv = await receiver();
    const { id } = await api.create(rcv.url, ['wh-expiry']);
    await api.call('POST', `/v1/webhooks/${id}/disable`);
    // A margin for a loaded machine to accept it before it expires; then wait until it surely has.
    const expiresAt = Date.now() + 10_000;
    await postOn(svc.url, 'wh-expiry', 'short-lived', { expiresAt: new Date(expiresAt).toISOString() });
    await postOn(svc.url, 'wh-expiry', 'marker');
    await eventually(async () => (await api.get(id)).lag.events >= 1);
    await sleep(Math.max(0, expiresAt - Date.now()) + 200);
    await api.call('POST', `/v1/webhooks/${id}/enable`);
    await rcv.waitFor((c) => c.length >= 1);
    await eventually(async () => (await api.get(id)).lag.events === 0);
    expect(rcv.calls.map((c) => c.frame.alert.headline)).toEqual(['marker']);
  });

  it('a cursor that fell out of retention gets one resync call, then delivery goes on', async () => {
    const rcv = await receiver();
    const { id, secret } = await api.create(rcv.url, ['wh-resync']);
    await api.call('POST', `/v1/webhooks/${id}/disable`);
    const cursor = (await api.get(id)).cursor as string;
    for (let i = 0; i < 3; i++) await postOn(svc.url, 'wh-resync', `lost ${i}`);
    await eventually(async () => (await api.get(id)).lag.events === 3);
    // Retention trims the feed past the endpoint's cursor.
    const feedKey = `${svc.prefix}:feed`;
    const last = ((await conn.xrevrange(feedKey, '+', '-', 'COUNT', 1)) as [string, string[]][])[0]![0];
    await conn.xtrim(feedKey, 'MINID', last);
    await api.call('POST', `/v1/webhooks/${id}/enable`);
    await rcv.waitFor((c) => c.length >= 1);
    const marker = await postOn(svc.url, 'wh-resync', 'after resync');
    await rcv.waitFor((c) => c.some((x) => x.frame.alert?.id === marker));
    expect(rcv.calls[0]!.frame).toEqual({ type: 'resync', reason: 'trimmed' });
    expect(rcv.calls[0]!.id).toBe(`resync-${cursor}`);
    rcv.verify(rcv.calls[0]!, secret);
    expect(rcv.calls.filter((c) => c.frame.type === 'resync')).toHaveLength(1);
    expect(rcv.calls[rcv.calls.length - 1]!.frame.alert.headline).toBe('after resync');
  });

  it('does not follow redirects, times out slow receivers, and reads at most 4 KiB of an answer', async () => {
    const rcv = await receiver();
    const { id } = await api.create(rcv.url, ['wh-limits']);
    rcv.respond((c, n, res) => {
      if (n === 1) {
        res.writeHead(302, { Location: `${rcv.url}/elsewhere` });
        res.end();
      } else if (n === 2) {
        // An endless 200 answer: the call counts once 4 KiB were read, not when the body ends.
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('x'.repeat(64 * 1024));
        return 'handled';
      } else if (c.frame.alert.headline === 'limits 1' && n === 3) {
        return 'handled'; // never answers: the call times out and is retried
      }
      return undefined;
    });
    await postOn(svc.url, 'wh-limits', 'limits 0');
    await postOn(svc.url, 'wh-limits', 'limits 1');
    await rcv.waitFor((c) => c.length >= 4);
    expect(rcv.calls.map((c) => c.frame.alert.headline)).toEqual(['limits 0', 'limits 0', 'limits 1', 'limits 1']);
    expect(rcv.calls.every((c) => c.path === '/hook')).toBe(true);
    const ep = await eventually(async () => {
      const e = await api.get(id);
      return e.attempts.length >= 4 ? e : undefined;
    });
    expect(ep.attempts.map((a: any) => a.status ?? a.error).reverse()).toEqual([302, 200, 'timeout', 204]);
  }, 90_000);

  it('refuses private addresses unless allowed, at create and again at connect (DNS rebinding)', async () => {
    const rcv = await receiver();
    let answer = '93.184.216.34';
    const strict = await start(redis.url, { FLASHWIRE_WEBHOOK_ALLOW_PRIVATE: 'false', FLASHWIRE_PREFIX: svc.prefix + 's', FLASHWIRE_WEBHOOK_TIMEOUT_MS: '3000' }, async (host) =>
      host === 'rebind.example' ? [{ address: answer, family: 4 }] : [{ address: '10.1.2.3', family: 4 }],
    );
    try {
      const sApi = webhookApi(strict.url, await createAdminKey(redis.url, strict.service.keys.prefix));
      for (const url of [rcv.url, 'http://[::1]:9/x', 'http://169.254.169.254/latest', 'http://internal.example/x', 'http://[::ffff:127.0.0.1]/']) {
        const r = await sApi.call('POST', '/v1/webhooks', { url, topics: ['wh-ssrf'] });
        expect([url, r.status]).toEqual([url, 422]);
        expect(r.body.errors[0].path).toBe('url');
      }
      const { id } = await sApi.create(`http://rebind.example:${rcv.port}/hook`, ['wh-ssrf']);
      // Now the name points inside: the connection is refused before any request.
      answer = '127.0.0.1';
      await postOn(strict.url, 'wh-ssrf', 'rebinding');
      const ep = await eventually(async () => {
        const e = await sApi.get(id);
        return e.attempts.length >= 1 ? e : undefined;
      });
      expect(ep.attempts[0].error).toBe('blocked');
      expect(ep.status).toBe('failing');
      expect(rcv.calls).toHaveLength(0);
      const metrics = await (await fetch(`${strict.url}/metrics`)).text();
      expect(metrics).toMatch(/flashwire_webhook_failures_total\{reason="blocked"\} [1-9]/);
    } finally {
      await strict.stop();
    }
  });

  it('one dead endpoint never holds up another', async () => {
    const dead = await receiver();
    const live = await receiver();
    dead.respond(() => 'handled'); // accepts the call and never answers
    await api.create(dead.url, ['wh-hol']);
    await api.create(live.url, ['wh-hol']);
    await postOn(svc.url, 'wh-hol', 'hol 0');
    await postOn(svc.url, 'wh-hol', 'hol 1');
    await dead.waitFor((c) => c.length >= 1);
    await live.waitFor((c) => c.length >= 2);
    // The dead one is still on its first call (10 s timeout), while the live one has both.
    expect(dead.calls).toHaveLength(1);
    expect(live.calls.map((c) => c.frame.alert.headline)).toEqual(['hol 0', 'hol 1']);
  });

  it('exports deliveries, failures and lag as metrics with bounded labels', async () => {
    const rcv = await receiver();
    const { id } = await api.create(rcv.url, ['wh-metrics']);
    rcv.respond((_c, n, res) => res.writeHead(n === 1 ? 500 : 204));
    await postOn(svc.url, 'wh-metrics', 'metrics');
    await rcv.waitFor((c) => c.length >= 2);
    await eventually(async () => (await api.get(id)).status === 'active');
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    expect(text).toMatch(/^flashwire_webhook_deliveries_total [1-9]\d*$/m);
    expect(text).toMatch(/^flashwire_webhook_failures_total\{reason="http_5xx"\} [1-9]/m);
    expect(text).toMatch(/^flashwire_webhook_lag_seconds \d/m);
    expect(text).toMatch(/^flashwire_webhook_endpoints_leased [1-9]/m);
    expect(text).not.toMatch(/flashwire_webhook_\w+\{[^}]*(webhook|event|url)=/);
  });

  it('keeps the last 20 attempts', async () => {
    const rcv = await receiver();
    const { id } = await api.create(rcv.url, ['wh-attempts']);
    rcv.respond((_c, n, res) => res.writeHead(n <= 24 ? 500 : 204));
    await postOn(svc.url, 'wh-attempts', 'attempts');
    await rcv.waitFor((c) => c.length >= 25, 40_000);
    const ep = await eventually(async () => {
      const e = await api.get(id);
      return e.status === 'active' ? e : undefined;
    });
    expect(ep.attempts).toHaveLength(20);
    expect(ep.attempts[0].status).toBe(204);
    expect(ep.attempts.slice(1).every((a: any) => a.status === 500)).toBe(true);
  });
});

describe('webhooks: failing for too long, and secrets at rest', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Svc;
  let api: WebhookApi;
  let rcv: Receiver;
  let conn: IORedis;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await start(redis.url, { FLASHWIRE_WEBHOOK_DISABLE_AFTER_SECONDS: '2', FLASHWIRE_SECRET_KEY: 'a-secret-key-for-tests-0123456789abcdef' });
    api = webhookApi(svc.url, await createAdminKey(redis.url, svc.prefix));
    rcv = await startReceiver();
    conn = new IORedis(redis.url);
  });
  afterAll(async () => {
    await svc.stop();
    await rcv.close();
    conn.disconnect();
    await redis.cleanup();
  });

  it('encrypts the secret at rest with FLASHWIRE_SECRET_KEY and still signs with it', async () => {
    const good = await startReceiver();
    try {
      const { id, secret } = await api.create(good.url, ['wh-sealed']);
      const stored = (await conn.hget(`${svc.prefix}:webhook:${id}`, 'secret')) as string;
      expect(stored.startsWith('gcm1:')).toBe(true);
      expect(stored).not.toContain(secret.slice(6));
      const dump = JSON.stringify(await conn.hgetall(`${svc.prefix}:webhook:${id}`));
      expect(dump).not.toContain(secret.slice(6));
      await postOn(svc.url, 'wh-sealed', 'sealed');
      await good.waitFor((c) => c.length >= 1);
      expect(good.verify(good.calls[0]!, secret)).toEqual(good.calls[0]!.frame);
      expect(svc.logs.some((l) => /FLASHWIRE_SECRET_KEY is not set/.test(l.msg))).toBe(false);
    } finally {
      await good.close();
    }
  });

  it('disables an endpoint that kept failing for the configured time', async () => {
    const { id } = await api.create(rcv.url, ['wh-24h']);
    rcv.respond((_c, _n, res) => res.writeHead(503));
    await postOn(svc.url, 'wh-24h', 'never accepted');
    const ep = await eventually(async () => {
      const e = await api.get(id);
      return e.status === 'disabled' ? e : undefined;
    }, 30_000);
    expect(ep.attempts.length).toBeGreaterThan(1);
    const n = rcv.calls.length;
    // The first call failed at least 2 s before the one that disabled it.
    expect(rcv.calls[n - 1]!.at - rcv.calls[0]!.at).toBeGreaterThanOrEqual(1900);
    expect(svc.logs.filter((l) => l.webhook === id && l.msg === 'webhook status changed').map((l) => l.to)).toEqual(['failing', 'disabled']);
  });

  it('warns at start when FLASHWIRE_SECRET_KEY is not set', async () => {
    const plain = await start(redis.url, { FLASHWIRE_PREFIX: svc.prefix + 'p' });
    try {
      expect(plain.logs.some((l) => l.level === 40 && /FLASHWIRE_SECRET_KEY is not set/.test(l.msg))).toBe(true);
      const a = webhookApi(plain.url, await createAdminKey(redis.url, plain.service.keys.prefix));
      const { id, secret } = await a.create(rcv.url, ['wh-plain']);
      expect(await conn.hget(`${plain.prefix}:webhook:${id}`, 'secret')).toBe(secret);
    } finally {
      await plain.stop();
    }
  });
});
