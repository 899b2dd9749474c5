/**
 * Fault: the API SIGKILLed after writing an alert's record and before
 * queuing its send (failpoint api-after-record), so no 202 was given. The
 * record must not stay `queued` for ever (issue 11 point 5): a retry with
 * the same Idempotency-Key within FLASHWIRE_ORPHAN_GRACE_SECONDS sends it
 * (api-kill.test.ts), and without one the worker marks it `failed`, with
 * the reason, once the grace period is over; a retry after that is refused
 * rather than answered 202 for an alert that will never be sent.
 */
import { Keys } from '../../src/redis/keys';
import { eventually, getJson, postAlert } from '../helpers/clients';
import { readFeed } from '../helpers/ledger';
import { withFaultRig, type FaultRig } from './fault-kit';

async function recordWithHeadline(rig: FaultRig, headline: string): Promise<string | undefined> {
  for (const k of await rig.client.keys(new Keys(rig.prefix).alert('*'))) if ((await rig.client.hget(k, 'headline')) === headline) return k.slice(k.lastIndexOf(':') + 1);
  return undefined;
}

describe('fault: an alert record whose send was never queued', () => {
  it('is marked failed with a reason after the grace period, and never sent', () =>
    withFaultRig(async (rig) => {
      const back = await rig.spawn({ FLASHWIRE_ROLES: 'worker,gateway', FLASHWIRE_ORPHAN_GRACE_SECONDS: '2' });
      const doomed = await rig.spawn({ FLASHWIRE_ROLES: 'api', FLASHWIRE_FAILPOINTS: 'api-after-record' });
      const body = { headline: 'Orphaned at api-after-record', topics: ['world'], priority: 'flash' };
      const withKey = { headline: 'Orphaned, retried too late', topics: ['world'], priority: 'flash' };
      await expect(postAlert(doomed.url, body)).rejects.toThrow();
      await doomed.exited;
      expect(doomed.child.signalCode).toBe('SIGKILL');
      const again = await rig.spawn({ FLASHWIRE_ROLES: 'api', FLASHWIRE_FAILPOINTS: 'api-after-record' });
      await expect(postAlert(again.url, withKey, { 'Idempotency-Key': 'too-late' })).rejects.toThrow();
      await again.exited;

      const id = (await recordWithHeadline(rig, body.headline))!;
      const retriedId = (await recordWithHeadline(rig, withKey.headline))!;
      expect(id).toBeDefined();
      expect(retriedId).toBeDefined();
      const fresh = await rig.spawn({ FLASHWIRE_ROLES: 'api' });

      const failed = await eventually(async () => {
        const a = (await getJson(`${fresh.url}/v1/alerts/${id}`)).body;
        return a.status === 'failed' ? a : undefined;
      }, 30_000, 100);
      expect(failed.audit[failed.audit.length - 1]).toMatchObject({ action: 'failed', by: 'flashwire', reason: expect.stringMatching(/never queued/) });
      // The line comes through the worker's stdout pipe, which may trail the Redis write: wait for it.
      await eventually(async () => back.logs.some((l) => l.alertId === id && l.msg === 'alert marked failed'), 10_000, 50);

      // Past the grace period, the retry cannot bring it back as a 202.
      await eventually(async () => (await getJson(`${fresh.url}/v1/alerts/${retriedId}`)).body.status === 'failed', 30_000, 100);
      const late = await postAlert(fresh.url, withKey, { 'Idempotency-Key': 'too-late' });
      expect(late.status).toBe(409);
      expect(late.body.detail).toMatch(/marked failed/);

      // A later alert through the same worker is sent and in the feed: the
      // orphans, which come before it, are not and never will be.
      const marker = await postAlert(fresh.url, { headline: 'Marker', topics: ['world'] });
      expect(marker.status).toBe(202);
      await eventually(async () => (await getJson(`${fresh.url}/v1/alerts/${marker.body.id}`)).body.status === 'sent', 30_000);
      expect((await readFeed(rig.client, rig.prefix)).filter((e) => e.type === 'alert').map((e) => e.alertId)).toEqual([marker.body.id]);
      expect((await getJson(`${fresh.url}/v1/alerts/${retriedId}`)).body.status).toBe('failed');
      expect(await rig.client.zcard(new Keys(rig.prefix).unqueued)).toBe(0);
    }));
});
