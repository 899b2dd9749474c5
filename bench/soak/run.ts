/**
 * `npm run soak -- --minutes N`: connection churn plus steady alerts against
 * api, worker and gateway processes, printing each minute the RSS, V8 heap
 * and event-loop delay of every process (from /proc and /metrics) and of
 * this runner, to show that nothing grows without bound. Ends with the same
 * count as the chaos run: lost and duplicated must be 0.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';
import WebSocket from 'ws';
import { feedHead, formatTally, settle, tally } from '../../test/helpers/ledger';
import { freePort } from '../../test/helpers/ports';
import { Poster, SUBSCRIPTIONS } from '../../test/helpers/poster';
import { startRedis } from '../../test/helpers/redis';
import { ResumingReader } from '../../test/helpers/resuming-reader';
import { roleEnv, RoleProcess } from '../../test/helpers/roles';
import { rssOf } from '../../test/helpers/rss';

const PUBLISH_KEY = 'soak-publish-key-0123456789abcdef';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : Number(process.argv[i + 1]);
}

const mb = (n: number | undefined) => (n === undefined ? '   n/a' : (n / 1024 / 1024).toFixed(1).padStart(6));

/** A few figures from a process's /metrics (prom-client default metrics). */
async function scrape(url: string): Promise<{ heap?: number; lagP99?: number }> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    const num = (name: string) => {
      const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    const lag = num('flashwire_nodejs_eventloop_lag_p99_seconds');
    return { heap: num('flashwire_nodejs_heap_size_used_bytes'), ...(lag !== undefined ? { lagP99: lag * 1000 } : {}) };
  } catch {
    return {};
  }
}

/** Opens a connection, waits for its welcome, closes it: one unit of churn. */
function flicker(wsUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${wsUrl}/v1/stream?topics=world`);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      ws.terminate();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 5000);
    ws.on('error', () => done(false));
    ws.once('message', () => done(true));
  });
}

async function main(): Promise<void> {
  const minutes = arg('minutes', 5);
  const reportEveryMs = arg('report-seconds', 60) * 1000;
  const nReaders = arg('readers', 100);
  const churnPerSecond = arg('churn', 20);
  const redis = await startRedis({ appendfsync: 'always' });
  const prefix = `soak${randomBytes(4).toString('hex')}`;
  const env = roleEnv(redis.url, prefix, PUBLISH_KEY);
  const procs = [
    new RoleProcess('api', await freePort(), { ...env, FLASHWIRE_ROLES: 'api' }),
    new RoleProcess('worker', await freePort(), { ...env, FLASHWIRE_ROLES: 'worker' }),
    new RoleProcess('gateway', await freePort(), { ...env, FLASHWIRE_ROLES: 'gateway' }),
  ] as const;
  const [api, , gateway] = procs;
  const client = new IORedis(redis.url);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const readers: ResumingReader[] = [];
  const poster = new Poster(() => api.url, PUBLISH_KEY, 'soak');
  let churned = 0;
  let churnFailed = 0;
  let exitCode = 1;
  try {
    for (const p of procs) await p.start();
    const since = await feedHead(client, prefix);
    for (let i = 0; i < nReaders; i++) readers.push(new ResumingReader({ topics: SUBSCRIPTIONS[i % SUBSCRIPTIONS.length]!, since, pickUrl: () => gateway.wsUrl }));
    await Promise.all(readers.map((r) => r.start()));
    console.log(`soak: ${minutes} min, ${nReaders} resuming readers, ${churnPerSecond} connection churns/s, 10 alerts/s; report every ${reportEveryMs / 1000} s`);
    console.log('minute  process   rss MB  heap MB  loop p99 ms');
    poster.start(100);
    // Churn: short-lived connections, and resuming readers dropped and back.
    const churn = setInterval(() => {
      for (let i = 0; i < churnPerSecond; i++) {
        if (i % 4 === 0) readers[Math.floor(Math.random() * readers.length)]!.drop();
        else void flicker(gateway.wsUrl).then((ok) => (ok ? churned++ : churnFailed++));
      }
    }, 1000);
    const started = Date.now();
    while (Date.now() - started < minutes * 60_000) {
      await new Promise((r) => setTimeout(r, Math.min(reportEveryMs, minutes * 60_000 - (Date.now() - started))));
      const label = ((Date.now() - started) / 60_000).toFixed(1).padStart(6);
      for (const p of procs) {
        const m = await scrape(p.url);
        console.log(`${label}  ${p.name.padEnd(8)} ${mb(rssOf(p.pid))}  ${mb(m.heap)}  ${m.lagP99 === undefined ? '   n/a' : m.lagP99.toFixed(1).padStart(6)}`);
      }
      console.log(`${label}  runner   ${mb(process.memoryUsage().rss)}  ${mb(process.memoryUsage().heapUsed)}  ${(loop.percentile(99) / 1e6).toFixed(1).padStart(6)}   (accepted ${poster.accepted.length}, churned ${churned}, churn failures ${churnFailed}, reader resumes ${readers.reduce((s, r) => s + r.connects - 1, 0)})`);
      loop.reset();
    }
    clearInterval(churn);
    await poster.stop();
    const feed = await settle(client, prefix, readers, poster.accepted, 30_000);
    const t = tally(poster.accepted, feed, readers);
    console.log(`soak: ${formatTally(t)}; post answers ${JSON.stringify(poster.counts())}`);
    for (const p of t.problems) console.log(`  problem: ${p}`);
    console.log(`lost ${t.lost}`);
    console.log(`duplicated ${t.duplicated}`);
    exitCode = t.lost === 0 && t.duplicated === 0 && t.disorder === 0 && churnFailed === 0 ? 0 : 1;
    console.log(exitCode === 0 ? 'PASS' : 'FAIL');
  } finally {
    await Promise.all(readers.map((r) => r.stop()));
    await Promise.all(procs.map((p) => p.stop()));
    client.disconnect();
    await redis.cleanup();
  }
  process.exit(exitCode);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
