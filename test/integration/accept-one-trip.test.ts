/**
 * POST /v1/alerts in one round trip (src/api/accept.ts): the key, the rate
 * limit, the Idempotency-Key, the record and BullMQ's job add in one MULTI.
 * What a refusal leaves behind (nothing: no record, no job, no stand-in at
 * a job's key), that the in-process key cache never outlives a revocation,
 * and the accept's own send while a worker runs and the queue is idle:
 * post order kept, no job, and the queue again once it is busy or paused.
 */
import { Queue } from 'bullmq';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { QUEUE_NAME } from '../../src/queue/alert-queue';
import { Keys } from '../../src/redis/keys';
import { eventually, getJson, postAlert } from '../helpers/clients';
import { redisForFile } from '../helpers/redis-for-file';
import { startService } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

describe('accepting an alert in one round trip', () => {
  const fx = redisForFile();

  /** An API alone (no worker), so every job it queued is still waiting to be counted. */
  async function api(env: Record<string, string> = {}) {
    const prefix = env.FLASHWIRE_PREFIX ?? uniquePrefix();
    const svc = await startService(fx.redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api', ...env });
    const keys = new Keys(prefix);
    const queue = new Queue(QUEUE_NAME, { connection: fx.client, prefix: keys.bullPrefix });
    return {
      svc,
      keys,
      /** Ids of every job in the queue, sorted. */
      jobIds: async () => (await queue.getJobs(['wait', 'prioritized', 'delayed', 'active', 'completed', 'failed'])).map((j) => j.id!).sort(),
      records: async () => (await fx.client.keys(keys.alert('*'))).length,
      /** Hashes under the queue's prefix that a refusal's stand-in would have left. */
      standIns: async () => {
        const out: string[] = [];
        for (const k of await fx.client.keys(`${keys.bullPrefix}:${QUEUE_NAME}:*`)) {
          if ((await fx.client.type(k)) === 'hash' && (await fx.client.hexists(k, 'fwRefused'))) out.push(k);
        }
        return out;
      },
      stop: async () => {
        await queue.close();
        await svc.stop();
      },
    };
  }

  it('answers 401 to the very next POST after a revocation, though the key was cached by the one before', async () => {
    const t = await api();
    try {
      const store = new ApiKeyStore(fx.client, t.keys);
      const { secret } = await store.create('wire-desk', ['publish']);
      const auth = { Authorization: `Bearer ${secret}` };
      const first = await postAlert(t.svc.url, { headline: 'before the revocation', topics: ['world'] }, auth);
      expect(first.status).toBe(202);

      expect(await store.revoke('wire-desk')).toBe(true);
      const after = await postAlert(t.svc.url, { headline: 'after the revocation', topics: ['world'] }, auth);
      expect(after.status).toBe(401);
      expect(after.body.detail).toBe('unknown or revoked API key');
      // Answers given before the accept script say 401 first, as without the cache.
      expect((await postAlert(t.svc.url, { headline: '' }, auth)).status).toBe(401);
      const dry = await fetch(`${t.svc.url}/v1/alerts?dryRun=true`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...auth }, body: JSON.stringify({ headline: 'dry', topics: ['world'] }) });
      expect(dry.status).toBe(401);

      expect(await t.jobIds()).toEqual([first.body.id]);
      expect(await t.records()).toBe(1);
      expect(await t.standIns()).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('leaves no record and no job for a rate-limited POST, and still answers 429 before a bad body', async () => {
    const t = await api({ FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '2' });
    try {
      const ok = [await postAlert(t.svc.url, { headline: 'one', topics: ['world'] }), await postAlert(t.svc.url, { headline: 'two', topics: ['world'] })];
      expect(ok.map((r) => r.status)).toEqual([202, 202]);
      const over = await postAlert(t.svc.url, { headline: 'three', topics: ['world'] });
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const overWithKey = await postAlert(t.svc.url, { headline: 'four', topics: ['world'] }, { 'Idempotency-Key': 'over-the-limit' });
      expect(overWithKey.status).toBe(429);
      expect((await postAlert(t.svc.url, { headline: '' })).status).toBe(429);

      expect(await t.jobIds()).toEqual(ok.map((r) => r.body.id as string).sort());
      expect(await t.records()).toBe(2);
      expect(await t.standIns()).toEqual([]);
      expect(await fx.client.zcard(t.keys.unqueued)).toBe(0);
      // A refused request reserves nothing: the key is free once the window allows.
      expect(await fx.client.keys(`${t.svc.prefix}:idem:*`)).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('adds no job for a replay, nor for a reused key with another body', async () => {
    const t = await api({ FLASHWIRE_APPROVAL_PRIORITIES: 'bulletin' });
    try {
      const body = { headline: 'replayed', topics: ['world'], priority: 'flash' };
      const first = await postAlert(t.svc.url, body, { 'Idempotency-Key': 'replay-1' });
      expect(first.status).toBe(202);
      const again = await postAlert(t.svc.url, body, { 'Idempotency-Key': 'replay-1' });
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      const reused = await postAlert(t.svc.url, { ...body, headline: 'another body' }, { 'Idempotency-Key': 'replay-1' });
      expect(reused.status).toBe(422);

      // An alert held for approval: its deadline job, once.
      const heldBody = { ...body, headline: 'held', priority: 'bulletin' };
      const held = await postAlert(t.svc.url, heldBody, { 'Idempotency-Key': 'replay-2' });
      expect(held.status).toBe(202);
      expect(held.body.status).toBe('pending_approval');
      expect((await postAlert(t.svc.url, heldBody, { 'Idempotency-Key': 'replay-2' })).headers.get('idempotent-replayed')).toBe('true');

      expect(await t.jobIds()).toEqual([first.body.id, `${held.body.id}-approval`].sort());
      expect(await t.records()).toBe(2);
      expect(await t.standIns()).toEqual([]);
      expect(await fx.client.zcard(t.keys.unqueued)).toBe(0);
    } finally {
      await t.stop();
    }
  });

  describe('sending at once', () => {
    /** API and worker in one process: the worker's claim holds, so the accept may send. */
    async function running(env: Record<string, string> = {}) {
      const t = await api({ FLASHWIRE_ROLES: 'api,worker', ...env });
      const feedIds = async () => ((await fx.client.xrange(t.keys.feed, '-', '+')) as [string, string[]][]).map(([, f]) => f[f.findIndex((x, i) => i % 2 === 0 && x === 'alert') + 1]);
      return { ...t, feedIds };
    }

    it('puts back-to-back posts in the feed in the order they were accepted, with no job', async () => {
      const t = await running();
      try {
        const ids: string[] = [];
        for (let i = 0; i < 40; i++) {
          const res = await postAlert(t.svc.url, { headline: `in turn ${i}`, topics: ['world'], priority: i % 3 === 0 ? 'flash' : 'routine' });
          expect(res.status).toBe(202);
          // The 202 is the alert as accepted, as an Idempotency-Key would replay it.
          expect(res.body.status).toBe('queued');
          ids.push(res.body.id);
        }
        expect(await t.feedIds()).toEqual(ids);
        const sent = await getJson(`${t.svc.url}/v1/alerts/${ids[0]}`);
        expect(sent.body).toMatchObject({ status: 'sent', eventId: expect.stringMatching(/^\d+-\d+$/), sentAt: expect.any(String) });
        expect(await t.jobIds()).toEqual([]);
        expect(await t.standIns()).toEqual([]);
        expect(await fx.client.zcard(t.keys.unqueued)).toBe(0);
      } finally {
        await t.stop();
      }
    });

    it('queues instead while the queue is paused, and sends flash first once it resumes', async () => {
      const t = await running();
      const queue = new Queue(QUEUE_NAME, { connection: fx.client, prefix: t.keys.bullPrefix });
      try {
        await queue.pause();
        const routine = await postAlert(t.svc.url, { headline: 'held routine', topics: ['world'], priority: 'routine' });
        const flashBody = { headline: 'held flash', topics: ['world'], priority: 'flash' };
        const flash = await postAlert(t.svc.url, flashBody, { 'Idempotency-Key': 'behind-a-backlog' });
        expect(flash.status).toBe(202);
        // Its job was added in a second round trip; the 202 is remembered with it.
        const replay = await postAlert(t.svc.url, flashBody, { 'Idempotency-Key': 'behind-a-backlog' });
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(replay.body).toEqual(flash.body);
        expect(await t.jobIds()).toEqual([routine.body.id, flash.body.id].sort());
        expect(await fx.client.zcard(t.keys.unqueued)).toBe(0);
        expect(await t.feedIds()).toEqual([]);
        // A post behind a backlog waits its turn too, whatever the worker does meanwhile.
        await queue.resume();
        await eventually(async () => (await t.feedIds()).length === 2, 15_000);
        expect(await t.feedIds()).toEqual([flash.body.id, routine.body.id]);
        // Idle again: the next one is sent by the accept.
        await eventually(async () => (await queue.getActiveCount()) + (await queue.getWaitingCount()) === 0, 15_000);
        const next = await postAlert(t.svc.url, { headline: 'after the backlog', topics: ['world'] });
        expect((await t.feedIds()).at(-1)).toBe(next.body.id);
        expect(await t.jobIds()).not.toContain(next.body.id);
      } finally {
        await queue.close();
        await t.stop();
      }
    });

    it('queues every alert with FLASHWIRE_DIRECT_SEND=false, and once the worker has stopped', async () => {
      const off = await running({ FLASHWIRE_DIRECT_SEND: 'false' });
      try {
        const res = await postAlert(off.svc.url, { headline: 'through the queue', topics: ['world'] });
        await eventually(async () => (await off.feedIds()).includes(res.body.id), 15_000);
        expect(await off.jobIds()).toEqual([res.body.id]);
      } finally {
        await off.stop();
      }
      // A worker that stopped withdrew its claim: an API alone queues.
      expect(await fx.client.zcard(off.keys.workers)).toBe(0);
      const alone = await api({ FLASHWIRE_PREFIX: off.svc.prefix });
      try {
        const res = await postAlert(alone.svc.url, { headline: 'no worker', topics: ['world'] });
        expect(await alone.jobIds()).toContain(res.body.id);
        expect(await off.feedIds()).not.toContain(res.body.id);
      } finally {
        await alone.stop();
      }
    });
  });
});
