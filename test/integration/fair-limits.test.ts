/**
 * Honest figures, fair limits (issue 11 point 8): a receipt counts only an
 * alert written to the acknowledging connection, once; corrections and
 * retractions share the per-key write limit; an anonymous feed poll reads a
 * bounded number of entries and is limited per client address; and a final
 * send failure never overwrites `sent` or `retracted`.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadSettings } from '../../config/settings';
import { ANONYMOUS_SCAN_BUDGET } from '../../src/api/routes/feed';
import { newAlertId } from '../../src/alert/ids';
import { Keys } from '../../src/redis/keys';
import { Service } from '../../server/service';
import { AlertChanges } from '../../src/store/alert-changes';
import { AlertStore, newRecord } from '../../src/store/alert-store';
import { appendSend } from '../../workers/fanout.worker';
import { eventually, getJson, openReader, postAlert } from '../helpers/clients';
import { redisForFile } from '../helpers/redis-for-file';
import { startService, PUBLISH_KEY } from '../helpers/service';
import { testEnv, testSettings } from '../helpers/settings';

jest.setTimeout(60_000);

const auth = { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' };

describe('fair limits and honest figures', () => {
  const fx = redisForFile();

  it('counts a receipt only for an alert written to that connection, and only once', async () => {
    const svc = await startService(fx.redis.url);
    const world = await openReader(svc.wsUrl, { topics: 'world' });
    const sport = await openReader(svc.wsUrl, { topics: 'sport' });
    try {
      const a = (await postAlert(svc.url, { headline: 'A', topics: ['world'] })).body.id as string;
      const b = (await postAlert(svc.url, { headline: 'B', topics: ['sport'] })).body.id as string;
      const c = (await postAlert(svc.url, { headline: 'C', topics: ['world'] })).body.id as string;
      const fa = await world.waitFor((f) => f.type === 'alert' && f.alert.id === a);
      const fb = await sport.waitFor((f) => f.type === 'alert' && f.alert.id === b);
      const fc = await world.waitFor((f) => f.type === 'alert' && f.alert.id === c);

      // A twice, B (written to the other connection, never to this one), then C.
      world.send({ type: 'ack', eventId: fa.eventId });
      world.send({ type: 'ack', eventId: fa.eventId });
      world.send({ type: 'ack', eventId: fb.eventId });
      world.send({ type: 'ack', eventId: fc.eventId });
      // Acks are handled in order: once C's receipt is in, every earlier one is too.
      const receipts = async (id: string) => (await getJson(`${svc.url}/v1/alerts/${id}`)).body.report.receipts as number;
      await eventually(async () => (await receipts(c)) === 1);
      expect(await receipts(a)).toBe(1);
      expect(await receipts(b)).toBe(0);

      // Its own reader's ack does count for B; and an older alert acked after a newer one still counts.
      sport.send({ type: 'ack', eventId: fb.eventId });
      await eventually(async () => (await receipts(b)) === 1);
    } finally {
      world.close();
      sport.close();
      await svc.stop();
    }
  });

  it('puts corrections and retractions through the per-key write limit', async () => {
    const svc = await startService(fx.redis.url, { FLASHWIRE_ROLES: 'api', FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '3' });
    try {
      const posted = await postAlert(svc.url, { headline: 'Limited', topics: ['world'], sendAt: new Date(Date.now() + 3600_000).toISOString() });
      expect(posted.status).toBe(202);
      const id = posted.body.id as string;
      const patch = () => fetch(`${svc.url}/v1/alerts/${id}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ headline: `Limited ${Math.random()}` }) });
      const retract = () => fetch(`${svc.url}/v1/alerts/${id}/retract`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: 'Too many' }) });
      expect((await patch()).status).toBe(200);
      expect((await patch()).status).toBe(200);
      const refusedPatch = await patch();
      expect(refusedPatch.status).toBe(429);
      expect(refusedPatch.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await refusedPatch.json()) as { detail: string }).detail).toMatch(/FLASHWIRE_PUBLISH_RATE_PER_MINUTE/);
      expect((await retract()).status).toBe(429);
      expect((await postAlert(svc.url, { headline: 'Limited too', topics: ['world'] })).status).toBe(429);
      // Nothing was changed by the refused requests.
      expect((await getJson(`${svc.url}/v1/alerts/${id}`)).body.status).toBe('scheduled');
    } finally {
      await svc.stop();
    }
  });

  it('reads at most a fixed number of entries per anonymous feed poll; next lets the caller go on', async () => {
    const svc = await startService(fx.redis.url, { FLASHWIRE_ROLES: 'api,worker' });
    try {
      const keys = new Keys(svc.prefix);
      // A busy feed of other topics, then one alert the poller wants.
      const filler = ANONYMOUS_SCAN_BUDGET + 200;
      const pipe = fx.client.pipeline();
      for (let i = 0; i < filler; i++) pipe.xadd(keys.feed, '*', 'type', 'alert', 'alert', `filler-${i}`, 'topics', 'sport', 'exp', '', 'body', `"alert":{"id":"filler-${i}"}`);
      await pipe.exec();
      const wanted = (await postAlert(svc.url, { headline: 'Wanted', topics: ['world'] })).body.id as string;
      await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${wanted}`)).body.status === 'sent');
      const entries = await fx.client.xrange(keys.feed, '-', '+');

      const first = await getJson(`${svc.url}/v1/feed?topics=world&limit=500`);
      expect(first.status).toBe(200);
      expect(first.body.events).toEqual([]);
      // It stopped after the budget and says where to go on.
      expect(first.body.next).toBe(entries[ANONYMOUS_SCAN_BUDGET - 1]![0]);
      const second = await getJson(`${svc.url}/v1/feed?topics=world&limit=500&after=${first.body.next}`);
      expect(second.body.events.map((e: { alert: { id: string } }) => e.alert.id)).toEqual([wanted]);

      // A credential reads further in one request.
      const keyed = await getJson(`${svc.url}/v1/feed?topics=world&limit=500`, { Authorization: `Bearer ${PUBLISH_KEY}` });
      expect(keyed.body.events.map((e: { alert: { id: string } }) => e.alert.id)).toEqual([wanted]);
    } finally {
      await svc.stop();
    }
  });

  it('rate-limits anonymous feed polls per client address', async () => {
    const svc = await startService(fx.redis.url, { FLASHWIRE_ROLES: 'api', FLASHWIRE_FEED_ANON_RATE_PER_MINUTE: '3' });
    try {
      for (let i = 0; i < 3; i++) expect((await getJson(`${svc.url}/v1/feed`)).status).toBe(200);
      const refused = await getJson(`${svc.url}/v1/feed`);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(refused.body.detail).toMatch(/FLASHWIRE_FEED_ANON_RATE_PER_MINUTE/);
      // A poller with a credential is not an anonymous one.
      expect((await getJson(`${svc.url}/v1/feed`, { Authorization: `Bearer ${PUBLISH_KEY}` })).status).toBe(200);
    } finally {
      await svc.stop();
    }
  });

  it("never lets the worker's final failure overwrite sent", async () => {
    // Every send appends, then fails right after (as a worker losing Redis
    // at that moment would), with one attempt: its final failure follows a
    // successful append.
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    // Through the worker, whose job fails: the accept would send it itself.
    const settings = loadSettings(testEnv(fx.redis.url, { FLASHWIRE_JOB_ATTEMPTS: '1', FLASHWIRE_DIRECT_SEND: 'false' }));
    const service = new Service({ settings, log: pino({ level: 'info' }, sink), redis: { url: fx.redis.url } });
    process.env.FLASHWIRE_FAILPOINTS = 'worker-after-append=throw';
    try {
      await service.start();
      const url = `http://127.0.0.1:${service.port}`;
      const id = (await postAlert(url, { headline: 'Sent, then the job failed', topics: ['world'] })).body.id as string;
      await eventually(() => lines.find((l) => l.alertId === id && l.msg === 'final send failure after the alert was settled; status kept'));
      const alert = (await getJson(`${url}/v1/alerts/${id}`)).body;
      expect(alert.status).toBe('sent');
      expect(alert.eventId).toBeDefined();
    } finally {
      delete process.env.FLASHWIRE_FAILPOINTS;
      await service.stop();
    }
  });

  it('marks failed only what was never sent: retracted stays retracted', async () => {
    const settings = testSettings(fx.redis.url);
    const keys = new Keys(settings.FLASHWIRE_PREFIX);
    const store = new AlertStore(fx.client, keys);
    const input = { headline: 'Retracted, then a late failure', topics: ['world'], priority: 'flash' as const };
    const sentThenRetracted = newAlertId();
    await store.create(newRecord(sentThenRetracted, input, 'desk', new Date()));
    await appendSend({ redis: fx.client, keys, settings }, sentThenRetracted);
    await new AlertChanges(fx.client, keys, { maxEntries: 1000, retentionMs: 60_000 }).retract(sentThenRetracted, 'Wrong', 'desk');
    expect(await store.markFailed(sentThenRetracted, 'late')).toEqual({ kind: 'kept', status: 'retracted' });
    expect((await store.get(sentThenRetracted))?.status).toBe('retracted');

    const neverSent = newAlertId();
    await store.create(newRecord(neverSent, input, 'desk', new Date()));
    expect(await store.markFailed(neverSent, 'every attempt failed')).toEqual({ kind: 'failed' });
    const failed = (await store.get(neverSent))!;
    expect(failed.status).toBe('failed');
    expect(failed.audit[failed.audit.length - 1]).toMatchObject({ action: 'failed', by: 'flashwire', reason: 'every attempt failed' });
  });
});
