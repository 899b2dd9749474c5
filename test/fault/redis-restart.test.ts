/**
 * Fault: Redis stops (SIGKILL, as a crash would) while alerts are being
 * posted, then comes back on the same port and AOF. While it is down the API
 * answers 503 — never a 202 that is then lost, because a 202 is only sent
 * after Redis (appendfsync always) has the record and the job. Every process
 * recovers by itself, and everything accepted is delivered exactly once.
 */
import { eventually, getJson } from '../helpers/clients';
import type { PrivateRedis } from '../helpers/redis';
import { expectClean, withFaultRig } from './fault-kit';

describe('fault: Redis stops and restarts while alerts are posted', () => {
  it.each([
    ['killed (SIGKILL)', (r: PrivateRedis) => r.kill()],
    ['stopped (SIGTERM)', (r: PrivateRedis) => r.stop()],
  ])('answers 503 while Redis is %s, recovers by itself, and delivers every 202 exactly once', (how, down) =>
    withFaultRig(async (rig) => {
      // Every role in its own process, each with its own connections to recover.
      const api = await rig.spawn({ FLASHWIRE_ROLES: 'api' });
      const worker = await rig.spawn({ FLASHWIRE_ROLES: 'worker' });
      const gateway = await rig.spawn({ FLASHWIRE_ROLES: 'gateway' });
      const procs = [api, worker, gateway];
      const readers = await rig.readers(() => gateway.wsUrl);
      const poster = rig.poster(() => api.url, 'redis-restart');
      poster.start(50);
      await eventually(() => poster.accepted.length >= 20, 20_000);

      await down(rig.redis);
      const downAt = Date.now();
      await eventually(() => poster.outcomes.filter((o) => o.at > downAt && o.status === 503).length >= 30, 20_000);
      for (const p of procs) expect((await getJson(`${p.url}/readyz`)).status).toBe(503);
      await rig.redis.start();
      const upAt = Date.now();

      // Every process is ready again and the API accepts again, with no restart of ours.
      await eventually(async () => (await Promise.all(procs.map((p) => getJson(`${p.url}/readyz`)))).every((r) => r.status === 200), 20_000);
      await eventually(() => poster.outcomes.filter((o) => o.at > upAt && o.status === 202).length >= 20, 20_000);
      await poster.stop();

      // Only 202 and 503: no 500, no hang, no refused connection.
      const odd = poster.outcomes.filter((o) => o.status !== 202 && o.status !== 503);
      if (odd.length) console.error(odd, api.logs.filter((l) => Number(l.level) >= 50));
      expect(Object.keys(poster.counts()).sort()).toEqual(['202', '503']);
      const t = await rig.settle(readers, poster.accepted, { timeoutMs: 40_000, markerVia: api.url });
      expectClean(t, poster.accepted.length);
      // And the alerts accepted before the crash survived it (AOF, fsync always).
      const before = poster.outcomes.filter((o) => o.at < downAt && o.id).map((o) => o.id as string);
      expect(before.length).toBeGreaterThanOrEqual(20);
      for (const id of before) expect(await rig.client.exists(`${rig.prefix}:alert:${id}`)).toBe(1);
      console.log(`redis ${how}: ${JSON.stringify(poster.counts())}, down ${upAt - downAt} ms, readers reconnected ${readers.reduce((s, r) => s + r.connects - 1, 0)} times`);
    }));

  it('stops cleanly on SIGTERM once Redis is gone for good, every role in one process', () =>
    withFaultRig(async (rig) => {
      // A long grace: the process's own deadline (grace + 2 s, then exit 1)
      // is far past a clean stop, so exit 0 means stop() itself finished.
      const svc = await rig.spawn({ FLASHWIRE_ROLES: 'api,worker,gateway', FLASHWIRE_SHUTDOWN_GRACE_MS: '60000' });
      await rig.readers(() => svc.wsUrl);
      await rig.redis.kill();
      // Every connection has seen Redis go: the stop starts from there.
      await eventually(async () => (await getJson(`${svc.url}/readyz`)).status === 503, 20_000);
      // Before, the worker's BullMQ close and the webhooks tail each waited
      // on a command that ioredis held for a Redis that never came back.
      expect(await svc.kill('SIGTERM')).toBe(0);
      expect(svc.logs.some((l) => l.msg === 'flashwire stopped')).toBe(true);
      // Back for the rig's own client, which closes cleanly only when connected.
      await rig.redis.start();
      await rig.client.ping();
    }), 90_000);
});
