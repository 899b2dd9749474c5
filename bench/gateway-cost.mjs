#!/usr/bin/env node
/**
 * The figures docs/deploy.md's arithmetic rests on, measured on loopback:
 * gateway CPU per delivery and memory per reader (from the gateway's own
 * /metrics), and what one alert costs Redis (INFO commandstats and CPU).
 * Bounded: READERS readers, ALERTS alerts, then everything is stopped.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node bench/gateway-cost.mjs [READERS=3000] [ALERTS=40] [GATEWAYS=1]
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// The test harness, as the bench build (bench/tsconfig.json) compiles it.
const { startRedis } = require(path.join(root, 'dist/test/helpers/redis.js'));
const IORedis = require('ioredis');
const WebSocket = require('ws');

const READERS = Number(process.argv[2] ?? 3000);
const ALERTS = Number(process.argv[3] ?? 40);
const GATEWAYS = Number(process.argv[4] ?? 1);
const KEY = 'gateway-cost-publish-key-0123456789';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startRole(redisUrl, roles) {
  const child = spawn(process.execPath, [path.join(root, 'dist/server/main.js')], {
    env: { ...process.env, REDIS_URL: redisUrl, PORT: '0', HOST: '127.0.0.1', FLASHWIRE_ROLES: roles, FLASHWIRE_PUBLISH_KEY: KEY, FLASHWIRE_LOG_LEVEL: 'warn', FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '1000000', FLASHWIRE_PREFIX: 'cost' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    // 'flashwire listening' is at info; read the port from /proc instead of logs at warn.
    child.once('exit', (c) => reject(new Error(`${roles} exited ${c}`)));
    const poll = setInterval(() => {
      const out = require('node:child_process').spawnSync('ss', ['-ltnpH'], { encoding: 'utf8' }).stdout;
      const line = out.split('\n').find((l) => l.includes(`pid=${child.pid},`));
      const m = line && /127\.0\.0\.1:(\d+)/.exec(line);
      if (m) { clearInterval(poll); resolve({ child, port: Number(m[1]) }); }
    }, 100);
  });
}

async function scrape(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const get = (name) => text.split('\n').filter((l) => l.startsWith(name + ' ') || l.startsWith(name + '{')).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  return { cpu: get('flashwire_process_cpu_seconds_total'), rss: get('flashwire_process_resident_memory_bytes'), deliveries: get('flashwire_deliveries_total'), f2sSum: get('flashwire_feed_to_socket_seconds_sum'), f2sCount: get('flashwire_feed_to_socket_seconds_count') };
}

async function redisStats(r) {
  const info = await r.info('all');
  const v = (k) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  const calls = {};
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) calls[m[1]] = Number(m[2]);
  return { commands: v('total_commands_processed'), cpu: v('used_cpu_user') + v('used_cpu_sys'), netIn: v('total_net_input_bytes'), netOut: v('total_net_output_bytes'), calls };
}

const redis = await startRedis({ appendfsync: 'everysec' });
const url = redis.url;
const procs = [];
try {
  const api = await startRole(url, 'api,worker');
  procs.push(api.child);
  const gws = [];
  for (let i = 0; i < GATEWAYS; i++) { const g = await startRole(url, 'gateway'); procs.push(g.child); gws.push(g); }

  const before0 = await Promise.all(gws.map((g) => scrape(g.port)));
  let received = 0;
  const sockets = [];
  for (let i = 0; i < READERS; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, READERS - i) }, (_, j) => new Promise((res, rej) => {
      const ws = new WebSocket(`ws://127.0.0.1:${gws[(i + j) % GATEWAYS].port}/v1/stream?topics=world`);
      ws.on('message', (d) => { if (String(d).startsWith('{"type":"alert"')) received++; else if (String(d).includes('"welcome"')) res(); });
      ws.on('error', rej);
      sockets.push(ws);
    })));
  }
  await sleep(1000);
  const before = await Promise.all(gws.map((g) => scrape(g.port)));
  const rc = new IORedis(url);
  // Redis's own idle cost (BullMQ's timers, the tails' blocking reads) over a quiet spell, to subtract.
  const idle0 = await redisStats(rc);
  await sleep(3000);
  const idle1 = await redisStats(rc);
  const idleCpuPerMs = (idle1.cpu - idle0.cpu) / 3000;
  const idleCmdPerMs = (idle1.commands - idle0.commands) / 3000;
  const rBefore = await redisStats(rc);
  const body = JSON.stringify({ headline: 'Cost probe: a headline of ordinary length for a breaking news alert', summary: 'x'.repeat(300), topics: ['world/europe'], url: 'https://news.example/a/1' });
  const t0 = Date.now();
  for (let a = 0; a < ALERTS; a++) {
    const r = await fetch(`http://127.0.0.1:${api.port}/v1/alerts`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' }, body });
    if (r.status !== 202) throw new Error(`post ${r.status}`);
    await sleep(50);
  }
  const deadline = Date.now() + 60_000;
  while (received < READERS * ALERTS && Date.now() < deadline) await sleep(50);
  await sleep(500);
  const after = await Promise.all(gws.map((g) => scrape(g.port)));
  const rAfter = await redisStats(rc);
  const busyMs = Date.now() - t0;
  rc.disconnect();
  for (const ws of sockets) ws.terminate();

  const sum = (xs, f) => xs.reduce((s, x) => s + f(x), 0);
  const deliveries = sum(after, (x) => x.deliveries) - sum(before, (x) => x.deliveries);
  const gwCpu = sum(after, (x) => x.cpu) - sum(before, (x) => x.cpu);
  const calls = Object.fromEntries(Object.entries(rAfter.calls).map(([k, v]) => [k, ((v - (rBefore.calls[k] ?? 0)) / ALERTS)]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]));
  console.log(JSON.stringify({
    readers: READERS, alerts: ALERTS, gateways: GATEWAYS, received, expected: READERS * ALERTS, seconds: (Date.now() - t0) / 1000,
    gateway: {
      cpuMicrosPerDelivery: +(gwCpu / deliveries * 1e6).toFixed(2),
      bytesPerReader: Math.round((sum(before, (x) => x.rss) - sum(before0, (x) => x.rss)) / READERS),
      meanFeedToSocketMs: +((sum(after, (x) => x.f2sSum) - sum(before, (x) => x.f2sSum)) / (sum(after, (x) => x.f2sCount) - sum(before, (x) => x.f2sCount)) * 1000).toFixed(2),
    },
    redisPerAlert: { commands: +((rAfter.commands - rBefore.commands - idleCmdPerMs * busyMs) / ALERTS).toFixed(1), cpuMicros: Math.round((rAfter.cpu - rBefore.cpu - idleCpuPerMs * busyMs) / ALERTS * 1e6), idleCpuPercent: +(idleCpuPerMs * 1000 * 100).toFixed(2), netInBytes: Math.round((rAfter.netIn - rBefore.netIn) / ALERTS), netOutBytes: Math.round((rAfter.netOut - rBefore.netOut) / ALERTS), calls },
    loadAverage: os.loadavg(),
  }, null, 2));
} finally {
  for (const c of procs) c.kill('SIGTERM');
  await Promise.all(procs.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
  await redis.cleanup();
}
