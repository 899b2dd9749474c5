/**
 * Fault: the API SIGKILLed between accepting a request and answering it, at
 * each step of POST /v1/alerts (failpoints in src/api/routes/alerts.ts). The
 * client sees its connection drop, never a 202; a retry of the same POST
 * with the same Idempotency-Key on a fresh API ends with exactly one alert:
 * one record, one feed entry, one delivery to each reader.
 */
import IORedis from 'ioredis';
import { readFeed } from '../helpers/ledger';
import { Keys } from '../../src/redis/keys';
import { postAlert } from '../helpers/clients';
import { spawnService, type ChildService } from '../helpers/service';
import { expectClean, faultRedis, openReaders, roleEnv, settleAndCount, stopAll, uniquePrefix, type FaultRedis, type ResumingReader } from './fault-kit';

describe('fault: SIGKILL the API between accepting and answering', () => {
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

  /** Every alert record under the prefix with this headline. */
  async function recordsWithHeadline(prefix: string, headline: string): Promise<string[]> {
    const keys = await client.keys(`${new Keys(prefix).alert('*')}`);
    const out: string[] = [];
    for (const k of keys) if ((await client.hget(k, 'headline')) === headline) out.push(k);
    return out;
  }

  it.each(['api-after-reserve', 'api-after-record', 'api-before-answer'])('leaves one alert after a kill at %s and a retry with the same Idempotency-Key', async (point) => {
    const prefix = uniquePrefix();
    const procs: ChildService[] = [];
    let readers: ResumingReader[] = [];
    try {
      const back = await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'worker,gateway' }));
      procs.push(back);
      readers = await openReaders(client, prefix, () => back.wsUrl);
      const doomed = await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'api', FLASHWIRE_FAILPOINTS: point }));
      procs.push(doomed);
      const body = { headline: `Killed at ${point}`, topics: ['europe/ukraine'], priority: 'flash' };
      const key = `retry-${point}`;
      // The client never gets an answer: its connection drops with the process.
      await expect(postAlert(doomed.url, body, { 'Idempotency-Key': key })).rejects.toThrow();
      await doomed.exited;
      expect(doomed.child.signalCode).toBe('SIGKILL');

      const fresh = await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'api' }));
      procs.push(fresh);
      const retry = await postAlert(fresh.url, body, { 'Idempotency-Key': key });
      expect(retry.status).toBe(202);
      const again = await postAlert(fresh.url, body, { 'Idempotency-Key': key });
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.id).toBe(retry.body.id);

      const t = await settleAndCount(client, prefix, readers, [retry.body.id as string]);
      expectClean(t, 1);
      expect(await recordsWithHeadline(prefix, body.headline)).toEqual([new Keys(prefix).alert(retry.body.id)]);
      expect((await readFeed(client, prefix)).filter((e) => e.type === 'alert').map((e) => e.alertId)).toEqual([retry.body.id]);
      // Readers whose topics cover europe/ukraine: world-only and sport,tech get nothing.
      expect(readers.map((r) => r.received.length)).toEqual([0, 1, 1, 1, 0]);
    } finally {
      stopAll(readers);
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    }
  });
});
