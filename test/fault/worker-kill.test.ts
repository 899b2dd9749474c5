/**
 * Fault: a worker SIGKILLed in the middle of a burst's fan-out. BullMQ's
 * stalled-job recovery hands its locked jobs to the surviving worker and the
 * atomic append (append-send-2.lua) makes a re-run of an appended send a
 * no-op, so every reader gets every alert once, in order — and an alert whose
 * worker died is on screen within 10 s of the kill with the shipped defaults.
 */
import IORedis from 'ioredis';
import { Poster } from '../helpers/poster';
import { readFeed } from '../helpers/ledger';
import { eventually } from '../helpers/clients';
import { PUBLISH_KEY, spawnService, type ChildService } from '../helpers/service';
import { expectClean, faultRedis, openReaders, roleEnv, settleAndCount, stopAll, uniquePrefix, type FaultRedis, type ResumingReader } from './fault-kit';

const BURST = 40;

describe('fault: SIGKILL a worker mid fan-out', () => {
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

  async function burstWithDoomedWorker(failpoints: string, extra: Record<string, string>, doomedExtra: Record<string, string> = {}, survivorSays?: string) {
    const prefix = uniquePrefix();
    const procs: ChildService[] = [];
    let readers: ResumingReader[] = [];
    try {
      const front = await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'api,gateway', ...extra }));
      procs.push(front);
      readers = await openReaders(client, prefix, () => front.wsUrl);
      // Post the burst while no worker runs, so the doomed worker starts on a
      // full queue and is killed with jobs in every state.
      const poster = new Poster(() => front.url, PUBLISH_KEY, 'burst');
      for (let i = 0; i < BURST; i++) await poster.postOne();
      expect(poster.accepted).toHaveLength(BURST);
      const doomed = await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'worker', FLASHWIRE_FAILPOINTS: failpoints, ...extra, ...doomedExtra }));
      procs.push(doomed);
      await doomed.exited;
      const killedAt = Date.now();
      expect(doomed.child.signalCode).toBe('SIGKILL');
      const feedAtKill = new Set((await readFeed(client, prefix)).map((e) => e.alertId));
      // The dead worker got part of the way: some sent, some not.
      expect(feedAtKill.size).toBeGreaterThan(0);
      expect(feedAtKill.size).toBeLessThan(BURST);
      const survivor = await spawnService(roleEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'worker', ...extra }));
      procs.push(survivor);
      const t = await settleAndCount(client, prefix, readers, poster.accepted, 40_000);
      expectClean(t, BURST);
      // Readers may hold every alert (from the dead worker's appends) before the
      // survivor takes the stalled jobs: wait for its word before stopping it.
      if (survivorSays) await eventually(async () => survivor.logs.some((l) => l.msg === survivorSays), 30_000, 50);
      return { readers, killedAt, feedAtKill, accepted: poster.accepted, survivor };
    } finally {
      stopAll(readers);
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    }
  }

  it('delivers every alert once, in order, when the worker dies between appending and completing its job', async () => {
    // The survivor finds the appended-but-unfinished sends and appends nothing (it says so).
    const run = await burstWithDoomedWorker('worker-after-append@10', {}, {}, 'alert already in the feed; nothing appended');
    expect(run.survivor.logs.some((l) => l.msg === 'alert already in the feed; nothing appended')).toBe(true);
  });

  it('gets an alert whose worker died to readers within 10 s of the kill, with the default lock and stalled check', async () => {
    // '' selects the shipped defaults (5000 ms lock, 2000 ms stalled check).
    // Four at a time, so the kill on the tenth job finds some sent and a few locked, unsent.
    const run = await burstWithDoomedWorker('worker-before-append@10', { FLASHWIRE_JOB_LOCK_MS: '', FLASHWIRE_STALLED_INTERVAL_MS: '' }, { FLASHWIRE_WORKER_CONCURRENCY: '4' });
    const stranded = run.accepted.filter((id) => !run.feedAtKill.has(id));
    expect(stranded.length).toBeGreaterThan(0);
    for (const r of run.readers) {
      for (const got of r.received.filter((x) => stranded.includes(x.alertId))) {
        // A guarantee with margin (lock 5 s + stalled check 2 s ≈ 7 s), not a performance figure.
        expect(got.at - run.killedAt).toBeLessThan(10_000);
      }
    }
    const worst = Math.max(...run.readers.flatMap((r) => r.received.filter((x) => stranded.includes(x.alertId)).map((x) => x.at - run.killedAt)));
    console.log(`worker kill: ${stranded.length} stranded alerts, last on screen ${worst} ms after the kill`);
  });
});
