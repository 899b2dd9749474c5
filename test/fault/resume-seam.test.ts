/**
 * Fault: readers dropped and resuming over and over while alerts arrive as
 * fast as the API takes them, so live events keep landing while a replay is
 * in flight. Guarantee 4's seam — replay from memory or from Redis, then the
 * events held meanwhile — must give each reader every event once, in order.
 * One gateway replays from its memory, the other (no cache) from Redis.
 */
import { eventually, sleep } from '../helpers/clients';
import { expectClean, READER_TOPICS, withFaultRig } from './fault-kit';

const RESUMES = 300;

describe('fault: constant resumes under a fast stream', () => {
  it('gives every reader every event once, in order, across hundreds of resumes from memory and from Redis', () =>
    withFaultRig(async (rig) => {
      const api = await rig.spawn({ FLASHWIRE_ROLES: 'api,worker' });
      const gateways = [await rig.spawn({ FLASHWIRE_ROLES: 'gateway' }), await rig.spawn({ FLASHWIRE_ROLES: 'gateway', FLASHWIRE_REPLAY_CACHE_ENTRIES: '0' })];
      const topics = Array.from({ length: 6 }, () => READER_TOPICS).flat();
      const readers = await rig.readers((i) => gateways[i % 2]!.wsUrl, topics);
      const posters = [0, 1, 2, 3].map(() => rig.poster(() => api.url, 'seam'));
      for (const p of posters) p.start(8);
      // Counted in resumes, not seconds: a loaded machine just takes longer
      // (the test's own timeout bounds it).
      const resumed = () => readers.reduce((s, r) => s + r.connects - 1, 0);
      while (resumed() < RESUMES) {
        await sleep(40);
        for (let k = 0; k < 4; k++) readers[Math.floor(Math.random() * readers.length)]!.drop();
      }
      for (const p of posters) await p.stop();
      const accepted = posters.flatMap((p) => p.accepted);
      await eventually(() => readers.every((r) => r.isConnected), 30_000);
      const t = await rig.settle(readers, accepted, { timeoutMs: 60_000, markerVia: api.url });
      console.log(`resume seam: ${accepted.length} alerts, ${resumed()} resumes, ${t.delivered} deliveries`);
      expectClean(t, accepted.length);
    }));
});
