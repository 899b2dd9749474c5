#!/usr/bin/env node
/**
 * `npm run bench`: Flashwire against the floor (a bare `ws` broadcast) on
 * the same machine, in the same run, with the same reader processes.
 *
 * For each reader count N it starts the service (API + worker in one
 * process, the gateway in another, or several with node:cluster) and the
 * floor, opens N readers on each, spread over client processes and
 * loopback addresses, and measures: POST-to-reader latency over spaced
 * alerts, taken from the two systems in turn (target-run.ts), a burst's
 * deliveries per second and the gateway's peak memory, idle memory per
 * connection, then ingest with autocannon. The floor gets the same readers,
 * the same spaced messages and the same burst, published on Redis pub/sub.
 *
 * Every wait has a time limit and every loop a count; children are killed
 * on exit, however the run ends.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import IORedis from 'ioredis';
import WebSocket from 'ws';
import { freePort } from '../test/helpers/ports';
import { startRedis } from '../test/helpers/redis';
import { treeOf } from '../test/helpers/rss';
import { startAcceptFloor, type AcceptFloor } from './accept-bench';
import { drawLatencyChart } from './chart';
import { waitUntil, type Target } from './fleet';
import { TargetRun, type Measured } from './target-run';
import { openFileLimit } from './proc-stats';
import { forkModule, killAll, nextMessage, now, sleep, spawnService, stopChild, waitHttpOk } from './procs';
import type { Phase } from './readers';
import { runPushBench } from './push';
import { Poster } from './post';
import { renderTable, type AcceptFloorResult, type IngestLoad, type NResult, type RunResult } from './report';
import { median, pct, round } from './stats';
import { alertTopics, readerTopics } from './topics';
import { webhookBench, type WebhookBenchResult } from './webhooks';

const ROOT = path.resolve(__dirname, '../..');
const MAIN_JS = path.join(ROOT, 'dist/server/main.js');
const RESULTS = path.join(ROOT, 'bench/results');
const PUBLISH_KEY = 'bench-publish-key-0123456789abcdef';

interface Options {
  readers: number[];
  alerts: number;
  burst: number;
  gateways: number;
  clientProcs: number | undefined;
  topics: number;
  spacingMs: number;
  ingestSeconds: number;
  ingestConnections: number;
  floor: boolean;
  /** Also measure the accept floor (bare node:http + one XADD; a bare XREAD tailer). */
  acceptFloor: boolean;
  docs: boolean;
  /** Extra node flags for the gateway process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
  gatewayNodeArgs: string[];
  /** Extra node flags for the api+worker process, as for the gateway. */
  apiNodeArgs: string[];
  /** Alerts sent before the spaced ones and reported apart: the first on fresh connections cost more. */
  warmupAlerts: number;
  /** Extra node flags for the reader processes. */
  readerNodeArgs: string[];
  /** Web Push mode: this many subscriptions at a local push-service stand-in (0: off). */
  push: number;
  pushConcurrency: number;
  /** Webhook mode: endpoint counts to measure instead of readers. */
  webhooks: number[] | undefined;
  /** After the burst, SIGKILL one gateway process while alerts flow; its readers resume elsewhere. */
  killGateway: boolean;
  /** Between alerts in the kill phase, ms; 0: twice the spaced alerts' median time to the last reader (at least 1 s). */
  killSpacingMs: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { readers: [2000], alerts: 20, burst: 200, gateways: 1, clientProcs: undefined, topics: 1, spacingMs: 200, ingestSeconds: 10, ingestConnections: 32, floor: true, acceptFloor: true, docs: false, gatewayNodeArgs: [], apiNodeArgs: [], readerNodeArgs: [], warmupAlerts: 2, push: 0, pushConcurrency: 32, webhooks: undefined, killGateway: false, killSpacingMs: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    const n = () => {
      const x = Number(v());
      if (!Number.isInteger(x) || x < 0) throw new Error(`${a} needs a whole number`);
      return x;
    };
    switch (a) {
      case '--readers': o.readers = v().split(',').map(Number); break;
      case '--alerts': o.alerts = n(); break;
      case '--burst': o.burst = n(); break;
      case '--warmup-alerts': o.warmupAlerts = n(); break;
      case '--gateways': o.gateways = n(); break;
      case '--client-procs': o.clientProcs = n(); break;
      case '--topics': o.topics = n(); break;
      case '--spacing-ms': o.spacingMs = n(); break;
      case '--ingest-seconds': o.ingestSeconds = n(); break;
      case '--ingest-connections': o.ingestConnections = n(); break;
      case '--no-floor': o.floor = false; break;
      case '--no-accept-floor': o.acceptFloor = false; break;
      case '--docs': o.docs = true; break;
      case '--webhooks': o.webhooks = v().split(',').map(Number); break;
      case '--gateway-node-args': o.gatewayNodeArgs = v().split(' ').filter(Boolean); break;
      case '--api-node-args': o.apiNodeArgs = v().split(' ').filter(Boolean); break;
      case '--reader-node-args': o.readerNodeArgs = v().split(' ').filter(Boolean); break;
      case '--push': o.push = n(); break;
      case '--push-concurrency': o.pushConcurrency = n(); break;
      case '--kill-gateway': o.killGateway = true; break;
      case '--kill-spacing-ms': o.killSpacingMs = n(); break;
      case '--help':
        process.stdout.write('npm run bench -- [--readers 2000,10000] [--alerts 20] [--warmup-alerts 2] [--burst 200] [--gateways 1] [--client-procs K] [--topics 1] [--spacing-ms 200] [--ingest-seconds 10] [--ingest-connections 32] [--no-floor] [--no-accept-floor] [--docs] [--gateway-node-args "--cpu-prof --cpu-prof-dir=DIR"] [--api-node-args "..."] [--reader-node-args "..."] [--kill-gateway [--kill-spacing-ms MS]]\n       npm run bench -- --push 10000 [--alerts 3] [--push-concurrency 32]   (Web Push fan-out at a local push-service stand-in)\n');
        process.stdout.write('       npm run bench -- --webhooks 100,1000 [--alerts 20] [--burst 200]   (webhook delivery to N local endpoints)\n');
        process.exit(0);
      default: throw new Error(`unknown option ${a} (try --help)`);
    }
  }
  if (o.readers.some((r) => !Number.isInteger(r) || r < 1)) throw new Error('--readers needs whole numbers');
  if (o.webhooks && o.webhooks.some((r) => !Number.isInteger(r) || r < 1)) throw new Error('--webhooks needs whole numbers');
  if (o.topics < 1 || o.topics > 100) throw new Error('--topics must be 1..100 (FLASHWIRE_MAX_TOPICS_PER_CONNECTION)');
  if (o.killGateway && o.gateways < 2) throw new Error('--kill-gateway needs --gateways 2 or more');
  if (o.killSpacingMs !== 0 && o.killSpacingMs < 50) throw new Error('--kill-spacing-ms must be 50 or more');
  return o;
}


const FIXTURE = {
  headline: 'Stoltenberg: Ukraine Belongs in NATO',
  summary:
    "NATO Secretary-General Jens Stoltenberg, on his first visit to Kyiv since Russia's invasion, declared that Ukraine's \"rightful place\" is in the alliance and pledged more support.",
  url: 'https://example.org/news/stoltenberg-ukraine-belongs-in-nato',
};

/**
 * Flashwire and the floor, each with its own readers open at once, their
 * spaced alerts taken in turn: Flashwire's alert k, the accept floor's (when
 * given), the floor's alert k, and so on. A shared machine's load moves by a
 * third within seconds; alerts taken in turn see the same moments, where two
 * phases a minute apart did not. Each system's CPU is counted over its own
 * alerts only. The warm-up alerts go the same way, just before. Then each
 * one's burst, in turn, and the gateway kill last, once the floor's readers
 * are gone.
 */
async function measureInTurn(fw: Target, floorTarget: Target | null, n: number, o: Options, procCount: number, log: (s: string) => void, acceptFloorOne?: (k: number) => Promise<void>): Promise<{ flashwire: Measured; floor: Measured | null }> {
  const fwRun = await TargetRun.open(fw, n, procCount, o, log);
  let floorRun: TargetRun | null = null;
  try {
    floorRun = floorTarget ? await TargetRun.open(floorTarget, n, procCount, o, log) : null;
    // Warm-up alerts in turn too, once both are open: each system is then as warm as the other when the spaced alerts begin.
    for (let k = 0; k < o.warmupAlerts; k++) {
      await fwRun.warmUpOne(k);
      await floorRun?.warmUpOne(k);
    }
    for (let k = 0; k < o.alerts; k++) {
      await fwRun.spacedOne(k);
      if (acceptFloorOne) {
        await acceptFloorOne(k);
        await sleep(o.spacingMs);
      }
      await floorRun?.spacedOne(k);
    }
    const flashwire = await fwRun.finish();
    const floor = floorRun ? await floorRun.finish() : null;
    await floorRun?.close();
    floorRun = null;
    await fwRun.kill();
    return { flashwire, floor };
  } finally {
    await Promise.all([fwRun.close(), floorRun?.close()]);
  }
}

function alertBody(phase: Phase | 'i', k: number, priority: string, topics: string[]): string {
  return JSON.stringify({ headline: `fwb:${phase}:${k} ${FIXTURE.headline}`, summary: FIXTURE.summary, url: FIXTURE.url, topics, priority });
}

async function startFlashwire(redisUrl: string, o: Options, prefix: string, logFile: string): Promise<{ target: Target; apiUrl: string; stopAll(): Promise<void> }> {
  const apiPort = await freePort();
  const gwPort = await freePort();
  const common = {
    ...process.env,
    REDIS_URL: redisUrl,
    HOST: '0.0.0.0',
    FLASHWIRE_PREFIX: prefix,
    FLASHWIRE_PUBLISH_KEY: PUBLISH_KEY,
    FLASHWIRE_MAX_CONNECTIONS: '1000000',
    FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '1000000',
    FLASHWIRE_SHUTDOWN_GRACE_MS: '2000',
  };
  const api = await spawnService(MAIN_JS, { ...common, PORT: String(apiPort), FLASHWIRE_ROLES: 'api,worker', FLASHWIRE_LOG_LEVEL: 'warn' }, 0, o.apiNodeArgs);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitHttpOk(`${apiUrl}/readyz`);
  // The gateway logs at info: it logs only its lifecycle, and "listening" tells us each process is up.
  const listenedAt: number[] = [];
  // Its log (lifecycle, one line per alert and process, readers cut off) is kept beside the results.
  const logTo = fs.createWriteStream(logFile);
  const gw = await spawnService(MAIN_JS, { ...common, PORT: String(gwPort), FLASHWIRE_ROLES: 'gateway', FLASHWIRE_LOG_LEVEL: 'info', FLASHWIRE_GATEWAY_PROCESSES: String(o.gateways) }, o.gateways, o.gatewayNodeArgs, 60_000, (at) => listenedAt.push(at), logTo);
  gw.once('exit', () => logTo.end());
  const poster = new Poster(apiUrl, { Authorization: `Bearer ${PUBLISH_KEY}` });
  const topics = alertTopics(o.topics);
  const target: Target = {
    name: 'flashwire',
    urlBase: `ws://127.0.0.1:${gwPort}/v1/stream?`,
    pid: gw.pid!,
    namedPids: { [api.pid!]: 'flashwire api+worker' },
    accepted: [],
    listenedAt,
    async send(phase, k, priority) {
      const body = alertBody(phase, k, priority, topics);
      const t = now();
      const res = await poster.post('/v1/alerts', body);
      if (res.status !== 202) throw new Error(`POST /v1/alerts answered ${res.status}: ${res.body}`);
      if (phase === 's') this.accepted.push(now() - t);
      return t;
    },
    stop: () => stopService(gw),
  };
  const stopAll = async () => {
    poster.close();
    await Promise.all([stopService(gw), stopChild(api)]);
  };
  return { target, apiUrl, stopAll };
}

/**
 * Stops the gateway, then kills whatever of its process tree is left: a cluster worker that outlived
 * its primary (SIGKILLed after the grace) kept running for the rest of a series of runs and took CPU
 * from the runs after it.
 */
async function stopService(gw: ChildProcess): Promise<void> {
  const pids = gw.pid ? treeOf(gw.pid) : [];
  await stopChild(gw);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

async function startFloor(redisUrl: string, o: Options, frameTemplate: string): Promise<Target> {
  const port = await freePort();
  const channel = `bench-floor-${process.pid}`;
  const child = forkModule(path.join(__dirname, 'floor-server.js'), [], { ...process.env, PORT: String(port), REDIS_URL: redisUrl, FLOOR_CHANNEL: channel, FLOOR_PROCESSES: String(o.gateways) });
  await nextMessage(child, (m: { ev?: string }) => (m.ev === 'floor-ready' ? true : undefined), 30_000, 'floor start');
  const pub = new IORedis(redisUrl);
  const [head, tail] = frameTemplate.split('\u0000') as [string, string];
  return {
    name: 'floor',
    urlBase: `ws://127.0.0.1:${port}/?`,
    pid: child.pid!,
    accepted: [],
    listenedAt: [],
    async send(phase, k) {
      const t = now();
      await pub.publish(channel, `${head}${phase}:${k}${tail}`);
      return t;
    },
    async stop() {
      pub.disconnect();
      await stopChild(child);
    },
  };
}

/** Opens one reader in this process to learn the exact frame Flashwire sends, so the floor sends the same bytes. */
async function captureFrame(target: Target, topics: number): Promise<string> {
  const ws = new WebSocket(`${target.urlBase}topics=${readerTopics(0, topics)}`, { perMessageDeflate: false });
  const got = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no frame captured within 20 s')), 20_000);
    ws.on('message', (d) => {
      const text = String(d);
      if (!text.includes('"headline":"fwb:c:0 ')) return;
      clearTimeout(timer);
      resolve(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  await target.send('c' as 's', 0, 'urgent');
  const frame = await got;
  target.accepted.length = 0;
  ws.close();
  return frame.replace('"headline":"fwb:c:0 ', '"headline":"fwb:\u0000 ');
}

/** Autocannon POSTs alerts to `url` for `--ingest-seconds` over `--ingest-connections`. */
async function postLoad(url: string, o: Options): Promise<IngestLoad & { accepted: number }> {
  let i = 0;
  const r = await autocannon({
    url,
    method: 'POST',
    connections: o.ingestConnections,
    duration: o.ingestSeconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${PUBLISH_KEY}` },
    // Each request a different body and no Idempotency-Key: each one is a new alert.
    requests: [{ setupRequest: (req) => ({ ...req, body: alertBody('i', i++, 'routine', ['ingest']) }) }],
  });
  return {
    accepted: r['2xx'],
    connections: o.ingestConnections,
    seconds: o.ingestSeconds,
    acceptedPerSecond: Math.round(r['2xx'] / o.ingestSeconds),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

async function ingest(apiUrl: string, redisUrl: string, prefix: string, o: Options, log: (s: string) => void): Promise<NResult['ingest']> {
  const redis = new IORedis(redisUrl);
  const feedKey = `${prefix}:feed`;
  const before = await redis.xlen(feedKey);
  log(`ingest: autocannon, ${o.ingestConnections} connections, ${o.ingestSeconds} s`);
  const t0 = Date.now();
  const { accepted, ...load } = await postLoad(`${apiUrl}/v1/alerts`, o);
  // The worker may still be appending: the sent rate counts until the feed holds them all.
  await waitUntil(async () => (await redis.xlen(feedKey)) - before, accepted, 60_000, 10_000, 100);
  const sentSeconds = (Date.now() - t0) / 1000;
  const inFeed = (await redis.xlen(feedKey)) - before;
  redis.disconnect();
  return { ...load, sentPerSecond: Math.round(inFeed / sentSeconds), notInFeed: accepted - inFeed };
}

/** The accept floor's spaced alerts, taken between Flashwire's: POST → 202 and POST → tailer. */
class AcceptFloorSpaced {
  readonly accepted: number[] = [];
  /** POST → tailer per spaced alert, in order; null where the tailer did not have it within 10 s. */
  readonly tailer: (number | null)[] = [];
  constructor(private readonly floor: AcceptFloor, private readonly topics: string[]) {}

  async warm(): Promise<void> {
    // As Flashwire's frame capture does for it: the first POST opens the connection and warms the code paths.
    await this.floor.post(alertBody('c' as 's', 0, 'urgent', this.topics));
    await this.floor.tailed('c:0', 10_000);
  }

  async one(k: number): Promise<void> {
    const { t0, acceptedMs } = await this.floor.post(alertBody('s', k, 'urgent', this.topics));
    this.accepted.push(acceptedMs);
    const t = await this.floor.tailed(`s:${k}`, 10_000);
    this.tailer.push(t === undefined ? null : t - t0);
  }

  result(alerts: number, ingestLoad: IngestLoad | null): AcceptFloorResult {
    const tailed = this.tailer.filter((x): x is number => x !== null);
    return {
      spaced: {
        alerts,
        acceptedMedianMs: round(median(this.accepted), 2),
        tailerMedianMs: round(median(tailed), 2),
        acceptedPerAlertMs: this.accepted.map((x) => round(x, 2)),
        tailerPerAlertMs: this.tailer.map((x) => (x === null ? null : round(x, 2))),
        timeouts: this.tailer.length - tailed.length,
      },
      ingest: ingestLoad,
    };
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const redisServer = await startRedis({ appendfsync: 'always' });
  const redisUrl = redisServer.url;
  log(`redis-server on ${redisUrl} (AOF, appendfsync always, as the service's default); data in ${redisServer.dir}`);
  const run: RunResult = {
    startedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', memoryGiB: round(os.totalmem() / 2 ** 30, 1), node: process.version, loadAverage: os.loadavg().map((x) => round(x, 2)) },
    options: { ...o },
    results: [],
  };
  if (o.push > 0) {
    try {
      const result = await runPushBench(MAIN_JS, redisUrl, PUBLISH_KEY, { subscriptions: o.push, alerts: process.argv.includes('--alerts') ? Math.max(1, o.alerts) : 3, concurrencyPerOrigin: o.pushConcurrency }, log);
      const m = result.median;
      process.stdout.write(
        `\nWeb Push: ${result.subscriptions} subscriptions at one local push-service stand-in, ${result.concurrencyPerOrigin} requests in flight per origin (${run.machine.cpus} cores, ${run.machine.cpuModel})\n` +
          `| alert | POST to first push | POST to last push | pushes/s |\n| --- | --- | --- | --- |\n` +
          result.alerts.map((a, i) => `| ${i + 1} | ${a.toFirstMs} ms | ${a.toLastMs} ms | ${a.pushesPerSecond} |`).join('\n') +
          `\n| median | ${m.toFirstMs} ms | ${m.toLastMs} ms | ${m.pushesPerSecond} |\n`,
      );
      const resultsDir = path.join(ROOT, 'bench/results');
      fs.mkdirSync(resultsDir, { recursive: true });
      fs.writeFileSync(path.join(resultsDir, `${stamp}-push.json`), JSON.stringify({ ...run, push: result }, null, 2) + '\n');
    } finally {
      await redisServer.cleanup();
    }
    return;
  }
  if (o.webhooks) {
    const results: WebhookBenchResult[] = [];
    try {
      for (const n of o.webhooks) results.push(await webhookBench(MAIN_JS, redisUrl, n, o.alerts, o.burst, log));
    } finally {
      await redisServer.cleanup();
    }
    let table = '| endpoints | append → last endpoint p50 / p90 / p99 / max (ms) | append → first endpoint p50 (ms) | burst | deliveries/s |\n| --- | --- | --- | --- | --- |\n';
    for (const r of results) {
      const l = r.appendToLastEndpointMs;
      table += `| ${r.endpoints} | ${l.p50} / ${l.p90} / ${l.p99} / ${l.max} | ${r.appendToFirstEndpointMsP50} | ${r.burstAlerts} alerts = ${r.burstDeliveries} calls in ${r.burstSeconds} s | ${r.deliveriesPerSecond} |\n`;
    }
    process.stdout.write(table);
    const resultsDir = path.join(ROOT, 'bench/results');
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, `webhooks-${stamp}.json`), JSON.stringify({ ...run, webhooks: results }, null, 2) + '\n');
    log(`wrote bench/results/webhooks-${stamp}.json`);
    return;
  }
  try {
    for (const n of o.readers) {
      const procCount = o.clientProcs ?? Math.max(2, Math.ceil(n / 5000));
      const fit = openFilesFit(n, procCount, o);
      if (fit.floorSkipped && o.floor) log(`floor: ${fit.floorSkipped}`);
      const prefix = `b${Date.now().toString(36)}`;
      fs.mkdirSync(RESULTS, { recursive: true });
      const fw = await startFlashwire(redisUrl, o, prefix, path.join(RESULTS, `${stamp}-gateway-${n}.log`));
      let flashwire: Measured;
      let floor: Measured | null = null;
      let frame: string;
      let ingestResult: NResult['ingest'] | null = null;
      let acceptFloor: AcceptFloorResult | null = null;
      const af = o.acceptFloor ? await startAcceptFloor(redisUrl) : null;
      try {
        const afSpaced = af ? new AcceptFloorSpaced(af, alertTopics(o.topics)) : null;
        let floorTarget: Target | null = null;
        try {
          frame = await captureFrame(fw.target, o.topics);
          await afSpaced?.warm();
          if (o.floor && !fit.floorSkipped) floorTarget = await startFloor(redisUrl, o, frame);
          const measured = await measureInTurn(fw.target, floorTarget, n, o, procCount, log, afSpaced ? (k) => afSpaced.one(k) : undefined);
          flashwire = measured.flashwire;
          floor = measured.floor;
          if (o.ingestSeconds > 0) ingestResult = await ingest(fw.apiUrl, redisUrl, prefix, o, log);
        } finally {
          await Promise.all([fw.stopAll(), floorTarget?.stop()]);
        }
        if (af && afSpaced) {
          let afIngest: IngestLoad | null = null;
          if (o.ingestSeconds > 0) {
            log(`accept floor ingest: autocannon, ${o.ingestConnections} connections, ${o.ingestSeconds} s`);
            const { accepted: _accepted, ...load } = await postLoad(af.url, o);
            afIngest = load;
          }
          acceptFloor = afSpaced.result(o.alerts, afIngest);
          log(`accept floor: POST → 202 ${acceptFloor.spaced.acceptedMedianMs} ms, POST → tailer ${acceptFloor.spaced.tailerMedianMs} ms (Flashwire ${flashwire.spaced.acceptedMedianMs} / first reader ${flashwire.spaced.firstReaderMedianMs} ms); ingest ${afIngest?.acceptedPerSecond ?? '-'}/s p99 ${afIngest?.p99Ms ?? '-'} ms`);
        }
      } finally {
        await af?.stop();
      }
      const { latencies: fwLat, ...fwRest } = flashwire;
      const floorRest = floor ? (({ latencies: _l, ...rest }) => rest)(floor) : null;
      run.results.push({
        readers: n,
        topicsPerReader: o.topics,
        gatewayProcesses: o.gateways,
        clientProcesses: procCount,
        frameBytes: Buffer.byteLength(frame.replace('\u0000', 's:0')),
        flashwire: fwRest,
        floor: floorRest,
        ingest: ingestResult,
        acceptFloor,
        ...(o.floor && fit.floorSkipped ? { floorSkipped: fit.floorSkipped } : {}),
        latencyCdf: { flashwire: cdf(fwLat), floor: floor ? cdf(floor.latencies) : null },
      });
    }
  } finally {
    await redisServer.cleanup();
  }
  const table = renderTable(run);
  process.stdout.write(table + '\n');
  const resultsDir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const json = JSON.stringify(run, null, 2) + '\n';
  const svg = drawLatencyChart(run);
  fs.writeFileSync(path.join(resultsDir, `${stamp}.json`), json);
  fs.writeFileSync(path.join(resultsDir, `${stamp}.svg`), svg);
  log(`wrote bench/results/${stamp}.json and .svg`);
  if (o.docs) {
    fs.writeFileSync(path.join(ROOT, 'docs/perf-results.json'), json);
    fs.writeFileSync(path.join(ROOT, 'docs/perf-latency.svg'), svg);
    log('wrote docs/perf-results.json and docs/perf-latency.svg');
  }
}

/** Open files a process needs besides its sockets to readers (Redis links, IPC, its own files), with room to spare. */
const OWN_FILES = 500;

/**
 * Whether N readers fit the open-file limit (which every child inherits) in
 * each process: the readers' processes and Flashwire's gateway processes
 * (also once one is killed) must, or the run stops here with what to change;
 * the floor is left out of the run when its processes would not.
 */
function openFilesFit(n: number, procCount: number, o: Options): { floorSkipped?: string } {
  const limit = openFileLimit();
  const fits = (share: number) => share + OWN_FILES <= limit;
  const perClient = Math.ceil(n / procCount);
  if (!fits(perClient)) throw new Error(`${n} readers over ${procCount} client processes is ${perClient} sockets per process; the open-file limit is ${limit}: use --client-procs ${Math.ceil(n / (limit - OWN_FILES))} or more`);
  const survivors = o.killGateway ? o.gateways - 1 : o.gateways;
  const perGateway = Math.ceil(n / survivors);
  if (!fits(perGateway)) {
    const need = Math.ceil(n / (limit - OWN_FILES)) + (o.killGateway ? 1 : 0);
    throw new Error(`${n} readers over ${survivors} gateway process(es)${o.killGateway ? ' left after the kill' : ''} is ${perGateway} sockets per process; the open-file limit is ${limit}: use --gateways ${need} or more`);
  }
  const perFloor = Math.ceil(n / o.gateways);
  if (!fits(perFloor)) return { floorSkipped: `left out: ${perFloor} sockets per floor process (${o.gateways} process(es)) would pass the open-file limit of ${limit}` };
  return {};
}

/** The latency distribution at 101 percentiles (0..100), for the chart. */
function cdf(s: Float64Array): number[] {
  return Array.from({ length: 101 }, (_, p) => round(p === 0 ? (s[0] ?? NaN) : pct(s, p), 2));
}

const hardStop = setTimeout(() => {
  process.stderr.write('bench: 30 minutes passed; stopping\n');
  killAll();
  process.exit(2);
}, 30 * 60_000);
hardStop.unref();
process.on('exit', killAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
