/**
 * Fault: the API SIGKILLed between accepting a request and answering it, at
 * each step of POST /v1/alerts (failpoints in src/api/routes/alerts.ts). The
 * client sees its connection drop, never a 202; a retry of the same POST
 * with the same Idempotency-Key on a fresh API ends with exactly one alert:
 * one record, one feed entry, one delivery to each reader.
 */
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
  it.each(['api-after-reserve', 'api-after-record', 'api-before-answer'])('leaves one alert after a kill at %s and a retry with the same Idempotency-Key', (point) =>
    withFaultRig(async (rig) => {
      const back = await rig.spawn({ FLASHWIRE_ROLES: 'worker,gateway' });
      const readers = await rig.readers(() => back.wsUrl);
      const doomed = await rig.spawn({ FLASHWIRE_ROLES: 'api', FLASHWIRE_FAILPOINTS: point });
      const body = { headline: `Killed at ${point}`, topics: ['europe/ukraine'], priority: 'flash' };
      const key = `retry-${point}`;
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

      // Past the marker nothing earlier can still arrive: the counts below are final.
      const t = await rig.settle(readers, [retry.body.id as string], { markerVia: fresh.url });
      expectClean(t, 1);
      expect(await recordsWithHeadline(rig, body.headline)).toEqual([new Keys(rig.prefix).alert(retry.body.id)]);
      expect((await readFeed(rig.client, rig.prefix)).filter((e) => e.type === 'alert').map((e) => e.alertId)).toEqual([retry.body.id, t.marker]);
      // Readers whose topics cover europe/ukraine: world-only and sport,tech get nothing.
      expect(readers.map((r) => r.received.filter((x) => x.alertId === retry.body.id).length)).toEqual([0, 1, 1, 1, 0]);
    }));
});
