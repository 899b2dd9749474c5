/**
 * Many nodes on one machine: an API process, two workers and three gateways
 * as real child processes against one Redis. Every alert reaches the readers
 * of every gateway exactly once, in feed order, and enters the feed once
 * whichever process sent it.
 */
import IORedis from 'ioredis';
import { Keys } from '../../src/redis/keys';
import { eventually, getJson, openReader, postAlert, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { childEnv, spawnService, type ChildService } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';
import { compareEventIds } from '../../src/feed/event-id';

const ALERTS = 50;

describe('scale-out: three gateways and two workers', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const children: ChildService[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await redis.cleanup();
  });

  it(`deliver each of ${ALERTS} alerts to the readers of every gateway exactly once, in order`, async () => {
    const prefix = uniquePrefix();
    const env = (roles: string) => childEnv(redis.url, prefix, { FLASHWIRE_ROLES: roles, FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '100000' });
    // One after another: six Node processes starting at once on two cores are slow to listen.
    const started: ChildService[] = [];
    for (const roles of ['api', 'worker', 'worker', 'gateway', 'gateway', 'gateway']) {
      const c = await spawnService(env(roles), 60_000);
      children.push(c);
      started.push(c);
    }
    const [api, w1, w2, ...gateways] = started as [ChildService, ChildService, ChildService, ...ChildService[]];

    // Two readers per gateway: one on the alerts' topic, one on everything.
    const readers: TestReader[] = [];
    for (const g of gateways) {
      readers.push(await openReader(g.wsUrl, { topics: 'world' }));
      readers.push(await openReader(g.wsUrl, { topics: '*' }));
    }

    // Posted concurrently in small waves, so both workers have jobs in flight together.
    const ids: string[] = [];
    for (let wave = 0; wave < ALERTS / 10; wave++) {
      const res = await Promise.all(Array.from({ length: 10 }, (_, i) => postAlert(api.url, { headline: `scale-out ${wave * 10 + i}`, topics: ['world/europe'] })));
      for (const r of res) {
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
    }

    for (const r of readers) await r.waitForCount('alert', ALERTS, 30_000);
    // Anything extra would have arrived by the time the marker does.
    const marker = await postAlert(api.url, { headline: 'marker', topics: ['world'] });
    for (const r of readers) await r.waitFor((f) => f.type === 'alert' && f.alert.id === marker.body.id, 15_000);

    const expected = [...ids, marker.body.id].sort();
    for (const r of readers) {
      const alerts = r.ofType('alert');
      expect(alerts.map((f) => f.alert.id).sort()).toEqual(expected);
      for (let i = 1; i < alerts.length; i++) expect(compareEventIds(alerts[i].eventId, alerts[i - 1].eventId)).toBeGreaterThan(0);
    }
    // Every gateway's readers saw the same event ids.
    const eventIdsOf = (r: TestReader) => r.ofType('alert').map((f) => f.eventId).join(',');
    for (const r of readers) expect(eventIdsOf(r)).toBe(eventIdsOf(readers[0]!));

    // The feed holds each alert once; the workers shared the work between them.
    const conn = new IORedis(redis.url);
    try {
      const entries = (await conn.xrange(new Keys(prefix).feed, '-', '+')) as [string, string[]][];
      // Fields alternate name, value: the alert id is the value after the name "alert".
      const fed = entries.map(([, f]) => f[f.findIndex((x, i) => i % 2 === 0 && x === 'alert') + 1]);
      expect(fed.sort()).toEqual(expected);
    } finally {
      conn.disconnect();
    }
    // Each entered once, by whichever process sent it: the accepting API
    // while the queue was idle, else one of the workers.
    const appended = (w: ChildService) => w.logs.filter((l) => l.msg === 'alert entered the feed').length;
    expect(appended(api) + appended(w1) + appended(w2)).toBe(ALERTS + 1);

    // The delivery report sums the three gateways: two readers each.
    await eventually(async () => (await getJson(`${api.url}/v1/alerts/${ids[0]}`)).body.report.deliveries === 6, 10_000);
    for (const r of readers) r.close();
    // For the report: how the workers split the jobs.
    process.stdout.write(`scale-out: the API appended ${appended(api)}, worker 1 ${appended(w1)}, worker 2 ${appended(w2)}\n`);
  });
});
