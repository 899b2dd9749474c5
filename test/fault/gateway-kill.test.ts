/**
 * Fault: a gateway SIGKILLed with readers connected. Its readers reconnect
 * to the second gateway with `since` and resume: the replay from the feed
 * and live delivery meet at the seam with no gap and no duplicate.
 */
import { eventually } from '../helpers/clients';
import { expectClean, READER_TOPICS, withFaultRig } from './fault-kit';

describe('fault: SIGKILL a gateway with readers connected', () => {
  it('resumes its readers on a second gateway with since: every alert once, in order, none lost across the kill', () =>
    withFaultRig(async (rig) => {
      const api = await rig.spawn({ FLASHWIRE_ROLES: 'api,worker' });
      const doomed = await rig.spawn({ FLASHWIRE_ROLES: 'gateway' });
      const second = await rig.spawn({ FLASHWIRE_ROLES: 'gateway' });
      // Two sets of readers: the doomed gateway's (first connection there,
      // every later one on the second) and a control group on the second.
      const topics = [...READER_TOPICS, ...READER_TOPICS];
      const readers = await rig.readers((i, attempt) => (i < READER_TOPICS.length && attempt === 0 ? doomed.wsUrl : second.wsUrl), topics);
      const poster = rig.poster(() => api.url, 'gateway-kill');
      poster.start(40);
      await eventually(() => poster.accepted.length >= 40, 20_000);
      await doomed.kill('SIGKILL');
      const acceptedAtKill = poster.accepted.length;
      await eventually(() => poster.accepted.length >= acceptedAtKill + 60, 20_000);
      await poster.stop();
      const t = await rig.settle(readers, poster.accepted, { markerVia: api.url });
      expectClean(t, poster.accepted.length);
      expect(poster.counts()).toEqual({ '202': poster.accepted.length });
      // Each reader of the killed gateway came back, on the other one, without a resync (the count checks for those).
      for (const r of readers.slice(0, READER_TOPICS.length)) expect(r.connects).toBeGreaterThanOrEqual(2);
    }));
});
