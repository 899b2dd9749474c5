/**
 * Fault: a gateway SIGKILLed with readers connected. Its readers reconnect
 * to the second gateway with `since` and resume: the replay from the feed
 * and live delivery meet at the seam with no gap and no duplicate.
 */
import IORedis from 'ioredis';
import { Poster } from '../helpers/poster';
import { eventually } from '../helpers/clients';
import { PUBLISH_KEY, spawnService, type ChildService } from '../helpers/service';
import { expectClean, faultRedis, openReaders, READER_TOPICS, roleEnv, settleAndCount, stopAll, uniquePrefix, type FaultRedis, type ResumingReader } from './fault-kit';

describe('fault: SIGKILL a gateway with readers connected', () => {
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

  it('resumes its readers on a second gateway with since: every alert once, in order, none lost across the kill', async () => {
    const prefix = uniquePrefix();
    const procs: ChildService[] = [];
    let readers: ResumingReader[] = [];
    const poster = new Poster(() => procs[0]!.url, PUBLISH_KEY, 'gateway-kill');
    try {
      procs.push(await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'api,worker' })));
      const doomed = await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'gateway' }));
      const second = await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'gateway' }));
      procs.push(doomed, second);
      // Two sets of readers: the doomed gateway's (first connection there,
      // every later one on the second) and a control group on the second.
      const topics = [...READER_TOPICS, ...READER_TOPICS];
      readers = await openReaders(client, prefix, (i, attempt) => (i < READER_TOPICS.length && attempt === 0 ? doomed.wsUrl : second.wsUrl), topics);
      poster.start(40);
      await eventually(() => poster.accepted.length >= 40, 20_000);
      await doomed.kill('SIGKILL');
      const acceptedAtKill = poster.accepted.length;
      await eventually(() => poster.accepted.length >= acceptedAtKill + 60, 20_000);
      await poster.stop();
      const t = await settleAndCount(client, prefix, readers, poster.accepted);
      expectClean(t, poster.accepted.length);
      expect(poster.counts()).toEqual({ '202': poster.accepted.length });
      const moved = readers.slice(0, READER_TOPICS.length);
      // Each reader of the killed gateway came back once, on the other one, and did not resync.
      for (const r of moved) expect(r.connects).toBe(2);
      for (const r of readers.slice(READER_TOPICS.length)) expect(r.connects).toBe(1);
    } finally {
      await poster.stop();
      stopAll(readers);
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    }
  });
});
