/**
 * Fault: readers dropped and resuming over and over while alerts arrive as
 * fast as the API takes them, so live events keep landing while a replay is
 * in flight. Guarantee 4's seam — replay from memory or from Redis, then the
 * events held meanwhile — must give each reader every event once, in order.
 * One gateway replays from its memory, the other (no cache) from Redis.
 */
import IORedis from 'ioredis';
import { Poster } from '../helpers/poster';
import { eventually, sleep } from '../helpers/clients';
import { PUBLISH_KEY, spawnService, type ChildService } from '../helpers/service';
import { expectClean, faultRedis, openReaders, READER_TOPICS, roleEnv, settleAndCount, stopAll, uniquePrefix, type FaultRedis, type ResumingReader } from './fault-kit';

describe('fault: constant resumes under a fast stream', () => {
  let redis: FaultRedis;
  let client: IORedis;
  beforeAll(async () => {
    redis = await faultRedis();
    client = new IORedis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.cleanup();
  });

  it('gives every reader every event once, in order, across hundreds of resumes from memory and from Redis', async () => {
    const prefix = uniquePrefix();
    const procs: ChildService[] = [];
    let readers: ResumingReader[] = [];
    const posters = [0, 1, 2, 3].map(() => new Poster(() => procs[0]!.url, PUBLISH_KEY, 'seam'));
    try {
      procs.push(await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'api,worker' })));
      procs.push(await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'gateway' })));
      procs.push(await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'gateway', FLASHWIRE_REPLAY_CACHE_ENTRIES: '0' })));
      const topics = Array.from({ length: 6 }, () => READER_TOPICS).flat();
      readers = await openReaders(client, prefix, (i) => procs[1 + (i % 2)]!.wsUrl, topics);
      for (const p of posters) p.start(8);
      // Counted in resumes, not seconds: a loaded machine just takes longer.
      const resumed = () => readers.reduce((s, r) => s + r.connects - 1, 0);
      const cap = Date.now() + 60_000;
      while (resumed() < 400 && Date.now() < cap) {
        await sleep(40);
        for (let k = 0; k < 4; k++) readers[Math.floor(Math.random() * readers.length)]!.drop();
      }
      for (const p of posters) await p.stop();
      const accepted = posters.flatMap((p) => p.accepted);
      await eventually(() => readers.every((r) => r.isConnected), 10_000);
      const t = await settleAndCount(client, prefix, readers, accepted);
      const resumes = resumed();
      console.log(`resume seam: ${accepted.length} alerts, ${resumes} resumes, ${t.delivered} deliveries`);
      expect(resumes).toBeGreaterThan(300);
      expectClean(t, accepted.length);
    } finally {
      for (const p of posters) await p.stop();
      stopAll(readers);
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    }
  });
});
