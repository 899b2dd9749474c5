/**
 * Fault: Redis stops (SIGKILL, as a crash would) while alerts are being
 * posted, then comes back on the same port and AOF. While it is down the API
 * answers 503 — never a 202 that is then lost, because a 202 is only sent
 * after Redis (appendfsync always) has the record and the job. Every process
 * recovers by itself, and everything accepted is delivered exactly once.
 */
import IORedis from 'ioredis';
import { Poster } from '../helpers/poster';
import { eventually, getJson } from '../helpers/clients';
import { PUBLISH_KEY, spawnService, type ChildService } from '../helpers/service';
import { expectClean, faultRedis, openReaders, roleEnv, settleAndCount, stopAll, uniquePrefix, type FaultRedis, type ResumingReader } from './fault-kit';

describe('fault: Redis stops and restarts while alerts are posted', () => {
  let redis: FaultRedis;
  let client: IORedis;
  beforeAll(async () => {
    redis = await faultRedis();
    // Waits for Redis across the restart, as the test's own observer.
    client = new IORedis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    client.on('error', () => undefined);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.cleanup();
  });

  it.each([
    ['killed (SIGKILL)', (r: FaultRedis) => r.kill()],
    ['stopped (SIGTERM)', (r: FaultRedis) => r.stop()],
  ])('answers 503 while Redis is %s, recovers by itself, and delivers every 202 exactly once', async (how, down) => {
    const prefix = uniquePrefix();
    const procs: ChildService[] = [];
    let readers: ResumingReader[] = [];
    const poster = new Poster(() => procs[0]!.url, PUBLISH_KEY, 'redis-restart');
    try {
      // Every role in its own process, each with its own connections to recover.
      for (const role of ['api', 'worker', 'gateway']) procs.push(await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: role })));
      const [api, , gateway] = procs as [ChildService, ChildService, ChildService];
      readers = await openReaders(client, prefix, () => gateway.wsUrl);
      poster.start(50);
      await eventually(() => poster.accepted.length >= 20, 20_000);

      await down(redis);
      const downAt = Date.now();
      await eventually(() => poster.outcomes.filter((o) => o.at > downAt && o.status === 503).length >= 30, 20_000);
      for (const p of procs) expect((await getJson(`${p.url}/readyz`)).status).toBe(503);
      await redis.start();
      const upAt = Date.now();

      // Every process is ready again and the API accepts again, with no restart of ours.
      await eventually(async () => (await Promise.all(procs.map((p) => getJson(`${p.url}/readyz`)))).every((r) => r.status === 200), 20_000);
      await eventually(() => poster.outcomes.filter((o) => o.at > upAt && o.status === 202).length >= 20, 20_000);
      await poster.stop();

      // Only 202 and 503: no 500, no hang, no refused connection.
      const odd = poster.outcomes.filter((o) => o.status !== 202 && o.status !== 503);
      if (odd.length) console.error(odd, procs[0]!.logs.filter((l) => Number(l.level) >= 50));
      expect(Object.keys(poster.counts()).sort()).toEqual(['202', '503']);
      const t = await settleAndCount(client, prefix, readers, poster.accepted, 40_000);
      expectClean(t, poster.accepted.length);
      // And the alerts accepted before the crash survived it (AOF, fsync always).
      const before = poster.outcomes.filter((o) => o.at < downAt && o.id).map((o) => o.id as string);
      expect(before.length).toBeGreaterThanOrEqual(20);
      for (const id of before) expect(await client.exists(`${prefix}:alert:${id}`)).toBe(1);
      console.log(`redis ${how}: ${JSON.stringify(poster.counts())}, down ${upAt - downAt} ms, readers reconnected ${readers.reduce((s, r) => s + r.connects - 1, 0)} times`);
    } finally {
      await poster.stop();
      stopAll(readers);
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
      await redis.start();
    }
  });
});
