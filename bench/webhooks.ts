/**
 * `npm run bench -- --webhooks N[,M]`: webhook delivery to N local
 * endpoints (each its own HTTP server on its own port, as N backends would
 * be). One api+worker process delivers; this process receives.
 *
 * Measured: for spaced alerts, the time from the event entering the feed
 * (its eventId's milliseconds, Redis's clock on this machine) to the call
 * reaching the last of the N endpoints; then, for a burst, deliveries per
 * second from the first post to the last call.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import IORedis from 'ioredis';
import { ApiKeyStore } from '../src/auth/api-keys';
import { Keys } from '../src/redis/keys';
import { freePort } from '../test/helpers/ports';
import { sleep, spawnService, stopChild } from './procs';
import { pct, round, sorted } from './stats';

export interface WebhookBenchResult {
  endpoints: number;
  spacedAlerts: number;
  appendToLastEndpointMs: { p50: number; p90: number; p99: number; max: number };
  appendToFirstEndpointMsP50: number;
  burstAlerts: number;
  burstDeliveries: number;
  burstSeconds: number;
  deliveriesPerSecond: number;
}

export async function webhookBench(mainJs: string, redisUrl: string, n: number, spaced: number, burst: number, log: (s: string) => void): Promise<WebhookBenchResult> {
  const prefix = `bw${Date.now().toString(36)}`;
  const publishKey = 'bench-publish-key-0123456789abcdef';
  // Per event: arrival times at each endpoint.
  const arrivals = new Map<string, number[]>();
  let calls = 0;
  let lastCallAt = 0;
  const servers: http.Server[] = [];
  for (let i = 0; i < n; i++) {
    const s = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const at = Date.now();
        const id = String(req.headers['webhook-id']);
        let list = arrivals.get(id);
        if (!list) arrivals.set(id, (list = []));
        list.push(at);
        calls++;
        lastCallAt = at;
        res.writeHead(204).end();
      });
    });
    s.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    servers.push(s);
  }
  const port = await freePort();
  const child = await spawnService(
    mainJs,
    {
      ...process.env,
      REDIS_URL: redisUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      FLASHWIRE_PREFIX: prefix,
      FLASHWIRE_ROLES: 'api,worker',
      FLASHWIRE_PUBLISH_KEY: publishKey,
      FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '1000000',
      FLASHWIRE_WEBHOOK_ALLOW_PRIVATE: 'true',
      FLASHWIRE_LOG_LEVEL: 'info',
      FLASHWIRE_SHUTDOWN_GRACE_MS: '2000',
    },
    1,
  );
  const api = `http://127.0.0.1:${port}`;
  const conn = new IORedis(redisUrl);
  try {
    const admin = (await new ApiKeyStore(conn, new Keys(prefix)).create('bench', ['admin'])).secret;
    for (const s of servers) {
      const res = await fetch(`${api}/v1/webhooks`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`, topics: ['bench'] }),
      });
      if (res.status !== 201) throw new Error(`create webhook: ${res.status} ${await res.text()}`);
    }
    log(`${n} endpoints created; waiting for the worker to lease them`);
    const leaseKeys = servers.length;
    for (let t = 0; t < 600; t++) {
      const leased = (await conn.keys(`${prefix}:webhook:*:lease`)).length;
      if (leased >= leaseKeys) break;
      await sleep(100);
    }
    const post = async (k: number) => {
      const res = await fetch(`${api}/v1/alerts`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${publishKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ headline: `webhook bench ${k}`, topics: ['bench'], priority: 'urgent' }),
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`POST /v1/alerts answered ${res.status}`);
    };
    const waitCalls = async (target: number, limitMs: number) => {
      const deadline = Date.now() + limitMs;
      while (calls < target && Date.now() < deadline) await sleep(10);
      if (calls < target) throw new Error(`only ${calls} of ${target} calls arrived in ${limitMs} ms`);
    };

    // Spaced: one alert at a time, each to every endpoint.
    const toLast: number[] = [];
    const toFirst: number[] = [];
    for (let k = 0; k < spaced; k++) {
      const before = calls;
      await post(k);
      await waitCalls(before + n, 120_000);
      await sleep(100);
    }
    for (const [id, times] of arrivals) {
      const fed = Number(id.slice(0, id.indexOf('-')));
      toLast.push(Math.max(...times) - fed);
      toFirst.push(Math.min(...times) - fed);
    }
    const s = sorted(Float64Array.from(toLast));
    log(`spaced: append -> last of ${n} endpoints p50 ${round(pct(s, 50), 1)} ms, max ${round(s[s.length - 1] ?? 0, 1)} ms`);

    // Burst: `burst` alerts posted back to back; deliveries per second until the last call.
    const before = calls;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: burst }, (_, k) => post(spaced + k)));
    await waitCalls(before + burst * n, 600_000);
    const seconds = (lastCallAt - t0) / 1000;
    const deliveries = calls - before;
    log(`burst: ${deliveries} deliveries in ${round(seconds, 2)} s = ${Math.round(deliveries / seconds)}/s`);
    return {
      endpoints: n,
      spacedAlerts: spaced,
      appendToLastEndpointMs: { p50: round(pct(s, 50), 1), p90: round(pct(s, 90), 1), p99: round(pct(s, 99), 1), max: round(s[s.length - 1] ?? 0, 1) },
      appendToFirstEndpointMsP50: round(pct(sorted(toFirst), 50), 1),
      burstAlerts: burst,
      burstDeliveries: deliveries,
      burstSeconds: round(seconds, 2),
      deliveriesPerSecond: Math.round(deliveries / seconds),
    };
  } finally {
    conn.disconnect();
    await stopChild(child);
    await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
  }
}
