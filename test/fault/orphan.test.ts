/**
 * Fault: an alert's record written and its send never queued, so no 202 was
 * given. A new alert's record and job are written in one transaction, or
 * with no job at all when the accept sends it itself, so this is left only
 * by an API that died between two steps (an alert accepted behind a
 * backlog: record, then job; finishing an unfinished Idempotency-Key:
 * failpoint api-after-record), by an API of an earlier release that wrote
 * them one after the other, or by a job add that failed. The record must not stay `queued` for ever (issue 11 point
 * 5): a retry with the same Idempotency-Key within
 * FLASHWIRE_ORPHAN_GRACE_SECONDS sends it (api-kill.test.ts), and without
 * one the worker marks it `failed`, with the reason, once the grace period
 * is over; a retry after that is refused rather than answered 202 for an
 * alert that will never be sent.
 */
import { newAlertId } from '../../src/alert/ids';
import { alertInputSchema } from '../../src/alert/schema';
import { Idempotency } from '../../src/api/idempotency';
import { Keys } from '../../src/redis/keys';
import { AlertStore, newRecord } from '../../src/store/alert-store';
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
      const body = { headline: 'Orphaned at api-after-record', topics: ['world'], priority: 'flash' };
      const withKey = { headline: 'Orphaned, retried too late', topics: ['world'], priority: 'flash' };
      const keys = new Keys(rig.prefix);
      // Without an Idempotency-Key: the record as an earlier release's API
      // left it when it died before queuing (record, and in the set the sweep watches).
      const at = Date.now();
      expect(await new AlertStore(rig.client, keys).create(newRecord(newAlertId(at), alertInputSchema.parse(body), 'env', new Date(at)))).toBe(true);
      // With one: an unfinished reservation, finished by an API killed between record and job.
      const reservedAt = Date.now();
      expect((await new Idempotency(rig.client, keys).reserve('env', 'too-late', withKey, newAlertId(reservedAt), reservedAt)).kind).toBe('reserved');
      const doomed = await rig.spawn({ FLASHWIRE_ROLES: 'api', FLASHWIRE_FAILPOINTS: 'api-after-record' });
      await expect(postAlert(doomed.url, withKey, { 'Idempotency-Key': 'too-late' })).rejects.toThrow();
      await doomed.exited;
      expect(doomed.child.signalCode).toBe('SIGKILL');

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
