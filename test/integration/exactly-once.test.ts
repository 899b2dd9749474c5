/**
 * Guarantee 2: each send enters the feed once and only once, however often
 * its job is retried or its worker dies mid-way.
 */
import { appendSend } from '../../workers/fanout.worker';
import { Keys } from '../../src/redis/keys';
import { eventually, FIXTURE, getJson, openReader, postAlert } from '../helpers/clients';
import { framesBefore, passMarker } from '../helpers/marker';
import { redisForFile } from '../helpers/redis-for-file';
import { childEnv, spawnService, startService } from '../helpers/service';
import { testSettings, uniquePrefix } from '../helpers/settings';

describe('exactly-once append to the feed', () => {
  const fx = redisForFile();

  /** A stream entry's field value (names sit at even positions). */
  function field(f: string[], name: string): string | undefined {
    for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === name) return f[i + 1];
    return undefined;
  }

  async function feedEntriesFor(prefix: string, alertId: string): Promise<string[]> {
    const entries = (await fx.client.xrange(new Keys(prefix).feed, '-', '+')) as [string, string[]][];
    return entries.filter(([, f]) => field(f, 'alert') === alertId).map(([id]) => id);
  }

  it('appends once when the append runs many times, even concurrently', async () => {
    const svc = await startService(fx.redis.url, { FLASHWIRE_ROLES: 'api' });
    try {
      const posted = await postAlert(svc.url, FIXTURE);
      const deps = { redis: fx.client, keys: new Keys(svc.prefix), settings: testSettings(fx.redis.url, { FLASHWIRE_PREFIX: svc.prefix }) };
      const results = await Promise.all(Array.from({ length: 10 }, () => appendSend(deps, posted.body.id)));
      expect(results.filter((r) => r.outcome === 'appended')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(9);
      expect(new Set(results.map((r) => r.eventId)).size).toBe(1);
      expect(await feedEntriesFor(svc.prefix, posted.body.id)).toEqual([results[0]!.eventId]);
    } finally {
      await svc.stop();
    }
  });

  it('appends once when the job fails after the append and BullMQ retries it', async () => {
    process.env.FLASHWIRE_FAILPOINTS = 'worker-after-append=throw';
    // Through the queue, to the worker that fails: the accept would send it itself.
    const svc = await startService(fx.redis.url, { FLASHWIRE_DIRECT_SEND: 'false' });
    try {
      const reader = await openReader(svc.wsUrl, { topics: 'europe' });
      const posted = await postAlert(svc.url, FIXTURE);
      // The first attempt appends, then fails; the alert is already out.
      await reader.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id);
      const keys = new Keys(svc.prefix);
      await eventually(async () => Number(await fx.client.hget(`${keys.bullPrefix}:alerts:${posted.body.id}`, 'atm')) >= 1);
      delete process.env.FLASHWIRE_FAILPOINTS;
      await eventually(async () => (await fx.client.hget(`${keys.bullPrefix}:alerts:${posted.body.id}`, 'finishedOn')) !== null || (await fx.client.exists(`${keys.bullPrefix}:alerts:${posted.body.id}`)) === 0, 15_000);
      expect(await feedEntriesFor(svc.prefix, posted.body.id)).toHaveLength(1);
      const marker = await passMarker(svc.url, [reader], ['europe']);
      expect(framesBefore(reader, marker).filter((f) => f.type === 'alert' && f.alert.id === posted.body.id)).toHaveLength(1);
      expect((await getJson(`${svc.url}/v1/alerts/${posted.body.id}`)).body.status).toBe('sent');
      reader.close();
    } finally {
      delete process.env.FLASHWIRE_FAILPOINTS;
      await svc.stop();
    }
  });

  it('appends once when the worker is killed between the append and completing the job', async () => {
    const prefix = uniquePrefix();
    const api = await spawnService(childEnv(fx.redis.url, prefix, { FLASHWIRE_ROLES: 'api,gateway', FLASHWIRE_DIRECT_SEND: 'false' }));
    const doomed = await spawnService(childEnv(fx.redis.url, prefix, { FLASHWIRE_ROLES: 'worker', FLASHWIRE_FAILPOINTS: 'worker-after-append' }));
    try {
      const reader = await openReader(api.wsUrl, { topics: 'nato' });
      const posted = await postAlert(api.url, FIXTURE);
      // The doomed worker appends, then SIGKILLs itself before completing.
      expect(await doomed.exited).toBeNull();
      expect(doomed.child.signalCode).toBe('SIGKILL');
      await reader.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id);
      const keys = new Keys(prefix);
      const jobKey = `${keys.bullPrefix}:alerts:${posted.body.id}`;
      expect(await fx.client.hget(jobKey, 'finishedOn')).toBeNull();

      // A healthy worker recovers the stalled job; the script sees the send.
      const healthy = await spawnService(childEnv(fx.redis.url, prefix, { FLASHWIRE_ROLES: 'worker' }));
      try {
        await eventually(async () => (await fx.client.hget(jobKey, 'finishedOn')) !== null || (await fx.client.exists(jobKey)) === 0, 20_000);
        await eventually(() => healthy.logs.some((l) => l.msg === 'alert already in the feed; nothing appended' && l.alertId === posted.body.id), 5000);
      } finally {
        await healthy.stop();
      }
      expect(await feedEntriesFor(prefix, posted.body.id)).toHaveLength(1);
      expect(reader.ofType('alert').filter((f) => f.alert.id === posted.body.id)).toHaveLength(1);
      reader.close();
    } finally {
      await doomed.kill('SIGKILL');
      await api.stop();
    }
  });

  it('sends flash before bulletin before urgent before routine when a backlog forms', async () => {
    const prefix = uniquePrefix();
    const api = await startService(fx.redis.url, { FLASHWIRE_ROLES: 'api', FLASHWIRE_PREFIX: prefix });
    try {
      const order = ['routine', 'urgent', 'bulletin', 'flash', 'routine', 'flash'];
      const ids: Record<string, string> = {};
      for (const [i, priority] of order.entries()) {
        const res = await postAlert(api.url, { headline: `p${i} ${priority}`, topics: ['world'], priority });
        ids[res.body.id] = priority;
      }
      const worker = await startService(fx.redis.url, { FLASHWIRE_ROLES: 'worker', FLASHWIRE_PREFIX: prefix, FLASHWIRE_WORKER_CONCURRENCY: '1' });
      try {
        const keys = new Keys(prefix);
        await eventually(async () => (await fx.client.xlen(keys.feed)) === order.length, 15_000);
        const entries = (await fx.client.xrange(keys.feed, '-', '+')) as [string, string[]][];
        const sent = entries.map(([, f]) => ids[field(f, 'alert') as string]);
        expect(sent).toEqual(['flash', 'flash', 'bulletin', 'urgent', 'routine', 'routine']);
      } finally {
        await worker.stop();
      }
    } finally {
      await api.stop();
    }
  });
});
