/**
 * The editorial lifecycle around an alert: expiry (the contract `expiresAt`:
 * never delivered nor replayed after it, status `expired`) and the audit
 * trail (which key created, corrected and retracted it, and when).
 */
import { ApiKeyStore } from '../../src/auth/api-keys';
import { Keys } from '../../src/redis/keys';
import { eventually, getJson, openReader, postAlert, sleep } from '../helpers/clients';
import { redisForFile } from '../helpers/redis-for-file';
import { startService, PUBLISH_KEY } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

async function call(url: string, method: string, body: unknown, key = PUBLISH_KEY) {
  const res = await fetch(url, { method, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

describe('the newsroom workflow', () => {
  const fx = redisForFile();

  it('stops delivering and replaying an alert at expiresAt, and reports it expired', async () => {
    const svc = await startService(fx.redis.url);
    try {
      const live = await openReader(svc.wsUrl, { topics: 'markets' });
      const before = (await getJson(`${svc.url}/v1/feed?topics=markets`)).body.next ?? '0-0';
      // Far enough that delivery and the early replay surely come first.
      const expiresAt = new Date(Date.now() + 30_000).toISOString();
      const posted = await postAlert(svc.url, { headline: 'Markets halt for ten minutes', topics: ['markets'], expiresAt });
      const frame = await live.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id);
      expect(frame.alert.expiresAt).toBe(expiresAt);
      // Resuming before expiry replays it...
      const early = await openReader(svc.wsUrl, { topics: 'markets', since: before });
      await early.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id);
      expect((await getJson(`${svc.url}/v1/alerts/${posted.body.id}`)).body.status).toBe('sent');

      await sleep(Date.parse(expiresAt) - Date.now() + 100);
      // ...and after it, nothing: not over the stream, not in the poll.
      const late = await openReader(svc.wsUrl, { topics: 'markets', since: before });
      const marker = await postAlert(svc.url, { headline: 'marker', topics: ['markets'] });
      await late.waitFor((f) => f.type === 'alert' && f.alert.id === marker.body.id);
      expect(late.frames.some((f) => f.alert?.id === posted.body.id)).toBe(false);
      expect((await getJson(`${svc.url}/v1/feed?topics=markets&after=${before}`)).body.events.map((f: any) => f.alert.id)).toEqual([marker.body.id]);
      expect((await getJson(`${svc.url}/v1/alerts/${posted.body.id}`)).body.status).toBe('expired');
      // An expired alert can be neither corrected nor retracted.
      expect((await call(`${svc.url}/v1/alerts/${posted.body.id}`, 'PATCH', { headline: 'too late' })).status).toBe(409);
      expect((await call(`${svc.url}/v1/alerts/${posted.body.id}/retract`, 'POST', { reason: 'too late' })).status).toBe(409);
      for (const r of [live, early, late]) r.close();
    } finally {
      await svc.stop();
    }
  }, 90_000);

  it('never sends an alert whose expiresAt passed before a worker could send it', async () => {
    const prefix = uniquePrefix();
    const api = await startService(fx.redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api,gateway' });
    try {
      const reader = await openReader(api.wsUrl, { topics: 'late' });
      // A margin for a loaded machine to accept it; then wait until it surely expired.
      const expiresAt = Date.now() + 10_000;
      const posted = await postAlert(api.url, { headline: 'Stale before sending', topics: ['late'], expiresAt: new Date(expiresAt).toISOString() });
      expect(posted.body.status).toBe('queued');
      await sleep(Math.max(0, expiresAt - Date.now()) + 300);
      const worker = await startService(fx.redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'worker' });
      try {
        await eventually(async () => (await fx.client.hget(new Keys(prefix).alert(posted.body.id), 'status')) === 'expired', 15_000);
      } finally {
        await worker.stop();
      }
      expect(await fx.client.xlen(new Keys(prefix).feed)).toBe(0);
      // Nothing is in the feed, so nothing can still be on its way to the reader.
      expect(reader.ofType('alert')).toHaveLength(0);
      expect((await getJson(`${api.url}/v1/alerts/${posted.body.id}`)).body.status).toBe('expired');
      reader.close();
    } finally {
      await api.stop();
    }
  });

  it('keeps an audit trail of which key created, corrected and retracted the alert, and when', async () => {
    const svc = await startService(fx.redis.url);
    try {
      const store = new ApiKeyStore(fx.client, new Keys(svc.prefix));
      const copy = (await store.create('copy-desk', ['publish'])).secret;
      const standards = (await store.create('standards-editor', ['publish'])).secret;
      const posted = await postAlert(svc.url, { headline: 'Audit me', topics: ['world'] });
      expect(posted.body.audit).toEqual([{ action: 'created', by: 'env', at: posted.body.createdAt }]);
      await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${posted.body.id}`)).body.status === 'sent');
      const fixed = await call(`${svc.url}/v1/alerts/${posted.body.id}`, 'PATCH', { headline: 'Audit me, corrected', url: 'https://news.example/a' }, copy);
      expect(fixed.status).toBe(200);
      const pulled = await call(`${svc.url}/v1/alerts/${posted.body.id}/retract`, 'POST', { reason: 'Single-sourced' }, standards);
      expect(pulled.status).toBe(200);
      const got = (await getJson(`${svc.url}/v1/alerts/${posted.body.id}`)).body;
      expect(got.publishedBy).toBe('env');
      expect(got.audit).toEqual([
        { action: 'created', by: 'env', at: posted.body.createdAt },
        { action: 'corrected', by: 'copy-desk', at: fixed.body.updatedAt, fields: ['headline', 'url'] },
        { action: 'retracted', by: 'standards-editor', at: expect.any(String), reason: 'Single-sourced' },
      ]);
      expect(got.retraction).toEqual({ reason: 'Single-sourced', by: 'standards-editor', at: got.audit[2].at });
      const times = got.audit.map((e: any) => Date.parse(e.at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    } finally {
      await svc.stop();
    }
  });
});
