/**
 * Fault: the Web Push sender's worker SIGKILLed in the middle of an
 * alert's fan-out. Its lease runs out, another worker takes it and resumes
 * from the durable cursor: every subscription gets the interrupted alert
 * (some twice: the one repeat a crash allows), and every later alert
 * exactly once.
 */
import { eventually, postAlert } from '../helpers/clients';
import { FakeBrowser, startPushService } from '../helpers/push-service';
import { startService } from '../helpers/service';
import { withFaultRig } from './fault-kit';

const SUBSCRIPTIONS = 24;

describe('fault: SIGKILL the Web Push sender mid fan-out', () => {
  it('resumes from the cursor on another worker: the interrupted alert reaches everyone, later ones exactly once', () =>
    withFaultRig(async (rig) => {
      // Slow answers keep pushes in flight when the kill comes.
      const ps = await startPushService({ delayMs: 100 });
      rig.onClose(() => ps.close());
      const env = { FLASHWIRE_PUSH_ALLOW_PRIVATE: 'true', FLASHWIRE_PUSH_CONCURRENCY_PER_ORIGIN: '4', FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '100000' };
      const api = await startService(rig.redis.url, { ...env, FLASHWIRE_PREFIX: rig.prefix, FLASHWIRE_ROLES: 'api' });
      rig.onClose(() => api.stop());
      const doomed = await rig.spawn({ ...env, FLASHWIRE_ROLES: 'worker' });

      const browsers = Array.from({ length: SUBSCRIPTIONS }, (_, i) => new FakeBrowser(`${ps.origin}/crash/${i}`));
      for (const b of browsers) {
        const res = await fetch(`${api.url}/v1/push/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ subscription: b.subscription, topics: ['crash'] }) });
        expect(res.status).toBe(201);
      }
      const ids = (frames: { alert: { id: string } }[]) => frames.map((f) => f.alert.id);
      const readAll = (b: FakeBrowser) => ps.received.filter((p) => p.path === new URL(b.endpoint).pathname && p.answered < 300).map((p) => JSON.parse(b.read(p.body)) as { alert: { id: string } });

      // 24 pushes, 4 at a time, 100 ms each: the kill lands mid fan-out.
      const interrupted = await postAlert(api.url, { headline: 'Interrupted', topics: ['crash'] });
      await ps.waitFor((p) => p.path.startsWith('/crash/'), 6, 30_000);
      await doomed.kill('SIGKILL');
      const before = ps.received.length;
      expect(before).toBeLessThan(SUBSCRIPTIONS);

      await rig.spawn({ ...env, FLASHWIRE_ROLES: 'worker' });
      const later = await postAlert(api.url, { headline: 'After the crash', topics: ['crash'] });
      const marker = await postAlert(api.url, { headline: 'Marker', topics: ['crash'] });
      // The dead worker's lease (10 s) runs out first: generous limits.
      await eventually(() => browsers.every((b) => ids(readAll(b)).includes(marker.body.id)), 60_000, 100);

      for (const b of browsers) {
        const got = ids(readAll(b));
        // In feed order; the interrupted alert at least once (twice where it was sent before the kill).
        const firstLater = got.indexOf(later.body.id);
        expect(got.slice(0, firstLater).every((id) => id === interrupted.body.id)).toBe(true);
        expect(firstLater).toBeGreaterThanOrEqual(1);
        expect(firstLater).toBeLessThanOrEqual(2);
        expect(got.slice(firstLater)).toEqual([later.body.id, marker.body.id]);
      }
      // The repeats are those answered before the kill, and at most the 4 then in flight.
      const repeats = browsers.filter((b) => ids(readAll(b)).filter((id) => id === interrupted.body.id).length === 2).length;
      expect(repeats).toBeGreaterThanOrEqual(1);
      expect(repeats).toBeLessThanOrEqual(before + 4);
    }), 120_000);
});
