/**
 * Fault: the API SIGKILLed between accepting a request and answering it, at
 * each step of POST /v1/alerts (failpoints in src/api/routes/alerts.ts). The
 * client sees its connection drop, never a 202; a retry of the same POST
 * with the same Idempotency-Key on a fresh API ends with exactly one alert:
 * one record, one feed entry, one delivery to each reader.
 *
 * A new Idempotency-Key is accepted in one round trip, so a kill lands
 * before it (nothing written) or after it (everything written); behind a
 * backlog, the record and then the job, with a kill between the two. An
 * unfinished one (its first request died, or an API of an earlier release
 * reserved it) is finished step by step, with a kill between the steps too.
 */
import { Queue } from 'bullmq';
import { newAlertId } from '../../src/alert/ids';
import { Idempotency } from '../../src/api/idempotency';
import { QUEUE_NAME } from '../../src/queue/alert-queue';
import { Keys } from '../../src/redis/keys';
import { postAlert } from '../helpers/clients';
import { readFeed } from '../helpers/ledger';
import { expectClean, withFaultRig, type FaultRig } from './fault-kit';

/** Every alert record under the rig's prefix with this headline. */
async function recordsWithHeadline(rig: FaultRig, headline: string): Promise<string[]> {
  const keys = await rig.client.keys(new Keys(rig.prefix).alert('*'));
  const out: string[] = [];
  for (const k of keys) if ((await rig.client.hget(k, 'headline')) === headline) out.push(k);
  return out;
}

describe('fault: SIGKILL the API between accepting and answering', () => {
  it.each([
    ['api-before-accept', 'new'],
    ['api-before-answer', 'new'],
    ['api-before-queue', 'new'],
    ['api-after-record', 'unfinished'],
    ['api-before-answer', 'unfinished'],
  ] as const)('leaves one alert after a kill at %s (a %s Idempotency-Key) and a retry with the same key', (point, state) =>
    withFaultRig(async (rig) => {
      const back = await rig.spawn({ FLASHWIRE_ROLES: 'worker,gateway' });
      const readers = await rig.readers(() => back.wsUrl);
      const doomed = await rig.spawn({ FLASHWIRE_ROLES: 'api', FLASHWIRE_FAILPOINTS: point });
      // Behind a backlog (here: a paused queue) the job is added in a second
      // round trip after the record; resumed once the retry has answered.
      const queue = new Queue(QUEUE_NAME, { connection: rig.client, prefix: new Keys(rig.prefix).bullPrefix });
      if (point === 'api-before-queue') await queue.pause();
      const body = { headline: `Killed at ${point}, ${state} key`, topics: ['europe/ukraine'], priority: 'flash' };
      const key = `retry-${point}-${state}`;
      if (state === 'unfinished') {
        // Reserved for an alert nothing was written for yet: what a request
        // that died right after its reservation left behind.
        const at = Date.now();
        expect((await new Idempotency(rig.client, new Keys(rig.prefix)).reserve('env', key, body, newAlertId(at), at)).kind).toBe('reserved');
      }
      // The client never gets an answer: its connection drops with the process.
      await expect(postAlert(doomed.url, body, { 'Idempotency-Key': key })).rejects.toThrow();
      await doomed.exited;
      expect(doomed.child.signalCode).toBe('SIGKILL');

      const fresh = await rig.spawn({ FLASHWIRE_ROLES: 'api' });
      const retry = await postAlert(fresh.url, body, { 'Idempotency-Key': key });
      expect(retry.status).toBe(202);
      const again = await postAlert(fresh.url, body, { 'Idempotency-Key': key });
      expect(again.status).toBe(202);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.id).toBe(retry.body.id);
      await queue.resume();
      await queue.close();

      // Past the marker nothing earlier can still arrive: the counts below are final.
      const t = await rig.settle(readers, [retry.body.id as string], { markerVia: fresh.url });
      expectClean(t, 1);
      expect(await recordsWithHeadline(rig, body.headline)).toEqual([new Keys(rig.prefix).alert(retry.body.id)]);
      expect((await readFeed(rig.client, rig.prefix)).filter((e) => e.type === 'alert').map((e) => e.alertId)).toEqual([retry.body.id, t.marker]);
      // Readers whose topics cover europe/ukraine: world-only and sport,tech get nothing.
      expect(readers.map((r) => r.received.filter((x) => x.alertId === retry.body.id).length)).toEqual([0, 1, 1, 1, 0]);
    }));
});
