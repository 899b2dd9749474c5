/**
 * The chaos run (`npm run chaos`, and a bounded one among the fault tests):
 * readers on two gateways, a steady stream of alerts, and random SIGKILLs
 * and restarts of workers and gateways, with at least one of each kind kept
 * alive. At the end every accepted alert must be in the
 * feed once and every reader must hold everything owed to it, once, in
 * order: lost and duplicated must both be 0.
 */
import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import { feedHead, formatTally, settle, tally, type Tally } from './ledger';
import { Poster, SUBSCRIPTIONS } from './poster';
import { ResumingReader } from './resuming-reader';
import { freePort } from './ports';
import { startRedis } from './redis';
import { roleEnv, RoleProcess } from './roles';

export interface ChaosOptions {
  seconds: number;
  readers?: number;
  /** Milliseconds between alerts. */
  postEveryMs?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  seed: number;
  tally: Tally;
  faults: string[];
  postCounts: Record<string, number>;
  readerReconnects: number;
  ok: boolean;
}

const PUBLISH_KEY = 'chaos-publish-key-0123456789abcdef';

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const seed = o.seed ?? randomBytes(4).readUInt32LE(0);
  const rand = prng(seed);
  const log = o.log ?? ((l: string) => console.log(l));
  const redis = await startRedis({ appendfsync: 'always' });
  const prefix = `chaos${randomBytes(4).toString('hex')}`;
  const env = roleEnv(redis.url, prefix, PUBLISH_KEY);
  const client = new IORedis(redis.url, { maxRetriesPerRequest: null });
  const api = new RoleProcess('api', await freePort(), { ...env, FLASHWIRE_ROLES: 'api' });
  const workers = [0, 1].map(async (i) => new RoleProcess(`worker${i}`, await freePort(), { ...env, FLASHWIRE_ROLES: 'worker' }));
  const gateways = [0, 1].map(async (i) => new RoleProcess(`gateway${i}`, await freePort(), { ...env, FLASHWIRE_ROLES: 'gateway' }));
  const ws = await Promise.all(workers);
  const gs = await Promise.all(gateways);
  const all = [api, ...ws, ...gs];
  const readers: ResumingReader[] = [];
  const poster = new Poster(() => api.url, PUBLISH_KEY);
  const faults: string[] = [];
  let chaosOn = true;
  try {
    for (const p of all) await p.start();
    const since = await feedHead(client, prefix);
    const n = o.readers ?? 40;
    for (let i = 0; i < n; i++) {
      readers.push(new ResumingReader({ topics: SUBSCRIPTIONS[i % SUBSCRIPTIONS.length]!, since, pickUrl: (attempt) => gs[attempt === 0 ? i % gs.length : Math.floor(Math.random() * gs.length)]!.wsUrl }));
    }
    await Promise.all(readers.map((r) => r.start()));
    log(`chaos: seed ${seed}, ${n} readers on ${gs.length} gateways, ${ws.length} workers, ${o.seconds} s`);
    poster.start(o.postEveryMs ?? 50);

    const started = Date.now();
    const pending: Promise<void>[] = [];
    while (Date.now() - started < o.seconds * 1000) {
      await sleep(800 + rand() * 2200);
      if (!chaosOn || Date.now() - started >= o.seconds * 1000) break;
      if (rand() < 0.2) {
        // A network fault: a quarter of the readers drop and resume wherever
        // they land, which also spreads them over both gateways again.
        const dropped = readers.filter(() => rand() < 0.25);
        for (const r of dropped) r.drop();
        faults.push(`${((Date.now() - started) / 1000).toFixed(1)}s dropped ${dropped.length} reader connections`);
        log(`  ${faults[faults.length - 1]}`);
        continue;
      }
      const pool = rand() < 0.5 ? ws : gs;
      const alive = pool.filter((p) => p.ready);
      // Keep one of each kind serving: only kill when another is alive.
      if (alive.length < 2) continue;
      const victim = alive[Math.floor(rand() * alive.length)]!;
      const graceful = pool === gs && rand() < 0.25;
      const downMs = Math.round(200 + rand() * 2500);
      await victim.kill(graceful ? 'SIGTERM' : 'SIGKILL');
      const t = ((Date.now() - started) / 1000).toFixed(1);
      faults.push(`${t}s ${graceful ? 'SIGTERM' : 'SIGKILL'} ${victim.name}, restarted after ${downMs} ms`);
      log(`  ${faults[faults.length - 1]}  (posted ${poster.outcomes.length}, accepted ${poster.accepted.length})`);
      pending.push(sleep(downMs).then(() => victim.start()));

    }
    chaosOn = false;
    await Promise.all(pending);
    await poster.stop();
    for (const p of all) if (!p.running) await p.start();
    // A worker killed holding jobs releases them after its lock expires and
    // the next stalled check (~7 s with the defaults).
    const feed = await settle(client, prefix, readers, poster.accepted, 30_000);
    const t = tally(poster.accepted, feed, readers);
    const unexpected = Object.keys(poster.counts()).filter((s) => s !== '202');
    const ok = t.lost === 0 && t.duplicated === 0 && t.disorder === 0 && unexpected.length === 0;
    const result: ChaosResult = { seed, tally: t, faults, postCounts: poster.counts(), readerReconnects: readers.reduce((s, r) => s + r.connects - 1, 0), ok };
    log(`chaos: ${faults.length} faults, ${result.readerReconnects} reader reconnects, post answers ${JSON.stringify(result.postCounts)}`);
    log(`chaos: ${formatTally(t)}`);
    for (const p of t.problems) log(`  problem: ${p}`);
    return result;
  } finally {
    chaosOn = false;
    await poster.stop().catch(() => undefined);
    await Promise.all(readers.map((r) => r.stop()));
    await Promise.all(all.map((p) => p.stop()));
    client.disconnect();
    await redis.cleanup();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A deterministic PRNG, so a failing chaos run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
