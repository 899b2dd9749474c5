/**
 * Fault: a Redis link goes half-open (a NAT or load balancer dropped its
 * state: no FIN, no RST). Each role in turn (api, worker, gateway, each its
 * own process) reaches Redis through a proxy that, on command, stops
 * forwarding on every open connection without closing it, while still
 * accepting new ones. The role notices the silence, says so in its log,
 * drops the dead links and reconnects: an alert posted after the
 * black-hole reaches every reader exactly once, within 10 s, and the API
 * answers 503 within its timeout meanwhile instead of hanging.
 */
import { eventually, sleep } from '../helpers/clients';
import { BlackholeProxy } from './blackhole-proxy';
import { expectClean, withFaultRig, type ChildService } from './fault-kit';

type Role = 'api' | 'worker' | 'gateway';
const TIMEOUT_MS = 2000;
const SILENT = 'Redis link silent (a ping went unanswered); dropping it and reconnecting';

describe('fault: a half-open Redis link under each role', () => {
  /** `links`: the connections the role must say it dropped (their log lines can trail the recovery, so they are waited for). */
  function halfOpenUnder(role: Role, links: string[]) {
    return withFaultRig(async (rig) => {
      const proxy = BlackholeProxy.forUrl(rig.redis.url);
      rig.onClose(() => proxy.close());
      const viaProxy = await proxy.url();
      const procs = {} as Record<Role, ChildService>;
      for (const r of ['api', 'worker', 'gateway'] as const) {
        procs[r] = await rig.spawn({ FLASHWIRE_ROLES: r, FLASHWIRE_REDIS_TIMEOUT_MS: String(TIMEOUT_MS) }, r === role ? viaProxy : rig.redis.url);
      }
      const readers = await rig.readers(() => procs.gateway.wsUrl);
      const poster = rig.poster(() => procs.api.url, `half-open ${role}`);
      // Flowing before the fault.
      for (let i = 0; i < 3; i++) expect((await poster.postOne()).status).toBe(202);
      await rig.settle(readers, poster.accepted);

      expect(proxy.blackhole()).toBeGreaterThan(0);
      const holedAt = Date.now();
      // Post until accepted: only the API's own links can refuse, with a 503
      // answered within its timeout rather than a request left hanging.
      let after: string | undefined;
      while (!after) {
        const t0 = Date.now();
        const out = await poster.postOne(['world']);
        if (out.status === 202) after = out.id;
        else {
          expect(role).toBe('api');
          expect(out.status).toBe(503);
          expect(out.at - t0).toBeLessThan(TIMEOUT_MS + 3000);
          await sleep(100);
        }
        expect(Date.now() - holedAt).toBeLessThan(30_000);
      }
      const t = await rig.settle(readers, poster.accepted, { timeoutMs: 40_000, markerVia: procs.api.url });
      expectClean(t, poster.accepted.length);
      // Every reader that owes it holds the alert posted after the black-hole, once.
      const got = readers.flatMap((r) => r.received.filter((x) => x.alertId === after));
      expect(got.length).toBeGreaterThan(0);
      const worst = Math.max(...got.map((x) => x.at - holedAt));
      console.log(`half-open under ${role}: ${proxy.holed} links black-holed; posts ${JSON.stringify(poster.counts())}; the alert posted after it on screen ${worst} ms after the black-hole`);
      // A guarantee with margin (silence noticed within about two timeouts), not a performance figure.
      expect(worst).toBeLessThan(10_000);
      // The role said why it reconnected, for each link it dropped.
      const logs = procs[role].logs;
      const dropped = () => new Set(logs.filter((l) => l.msg === SILENT).map((l) => l.connection));
      await eventually(() => links.every((c) => dropped().has(c)), 20_000, 50);
      expect([...dropped()].sort()).toEqual([...links].sort());
      // Readers were not closed by the gateway: it healed its own links.
      if (role === 'gateway') expect(readers.flatMap((r) => r.closes)).toEqual([]);
      return { logs, poster };
    });
  }

  it('the gateway: its feed tail, command and pub/sub links heal and the tail resumes from its position', async () => {
    // Its command link and its pub/sub (revocations) link were pinged, found silent and replaced.
    const { logs } = await halfOpenUnder('gateway', ['flashwire:command', 'flashwire:revocations']);
    await eventually(() => logs.some((l) => l.msg === 'feed tail: Redis did not answer a blocking read in time (half-open link); dropping it, reconnecting, resuming from the position'), 20_000, 50);
  });

  it('the worker: its BullMQ and script links heal and it takes jobs again', async () => {
    // Its script link and BullMQ's command link; BullMQ replaces its blocking link itself.
    await halfOpenUnder('worker', ['flashwire:command', 'flashwire:worker', 'flashwire:worker-bull']);
  });

  it('the api: requests answer 503 within the timeout, then its links heal and posts are accepted', async () => {
    const { poster } = await halfOpenUnder('api', ['flashwire:command', 'flashwire:queue']);
    expect(poster.outcomes.filter((o) => o.status === 'network')).toEqual([]);
  });
});
