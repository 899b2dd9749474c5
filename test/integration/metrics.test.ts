/**
 * /metrics: the Prometheus figures move as alerts flow through the real
 * parts (API, BullMQ worker, feed, gateway sockets), and the endpoint can be
 * closed with a key.
 */
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { eventually, getJson, openReader, postAlert, sleep } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { childEnv, spawnService, startService } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

/** Sums every sample of `name` whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      sum += Number(m[3]);
      found = true;
    }
  }
  if (!found) throw new Error(`no sample ${name}${JSON.stringify(labels)}`);
  return sum;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** A minimal SSE reader: counts `event: alert` blocks. */
async function openSse(url: string, topics: string): Promise<{ alerts: () => number; close(): void }> {
  const ac = new AbortController();
  const res = await fetch(`${url}/v1/events?topics=${topics}`, { signal: ac.signal });
  expect(res.status).toBe(200);
  let text = '';
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString('utf8');
    } catch {
      // aborted
    }
  })();
  return { alerts: () => text.split('\nevent: alert\n').length - 1 + (text.startsWith('event: alert\n') ? 1 : 0), close: () => ac.abort() };
}

const STALLED_WS_CLIENT = `
import socket, sys, time, base64, os
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
s.connect(('127.0.0.1', int(sys.argv[1])))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(('GET /v1/stream?topics=flood HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n'
  'Sec-WebSocket-Key: ' + key + '\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n').encode())
head = b''
while b'\\r\\n\\r\\n' not in head:
  chunk = s.recv(1)
  if not chunk: break
  head += chunk
print(head.split(b'\\r\\n')[0].decode(), flush=True)
time.sleep(120)
`;

describe('metrics', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('count readers by transport, alerts accepted/sent/corrected/retracted/expired, deliveries, latencies, queue depth and Redis reconnects', async () => {
    const prefix = uniquePrefix();
    // API and gateway in one service, the worker in another (same process,
    // same registry), so an alert can expire while no worker runs.
    const front = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api,gateway' });
    let worker: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      const before = await scrape(front.url);
      const ws1 = await openReader(front.wsUrl, { topics: 'world' });
      const ws2 = await openReader(front.wsUrl, { topics: '*' });
      const sse = await openSse(front.url, 'world');
      await eventually(async () => sample(await scrape(front.url), 'flashwire_readers', { transport: 'sse' }) === 1);
      const withReaders = await scrape(front.url);
      expect(sample(withReaders, 'flashwire_readers', { transport: 'ws' })).toBe(2);
      // Default process metrics are there too.
      expect(sample(withReaders, 'flashwire_process_resident_memory_bytes')).toBeGreaterThan(0);

      // Posted with no worker running: they wait in the queue.
      // A margin for a loaded machine to accept it; the worker starts once it surely expired.
      const expiresAt = Date.now() + 10_000;
      const soonExpired = await postAlert(front.url, { headline: 'expires before any worker runs', topics: ['world'], expiresAt: new Date(expiresAt).toISOString() });
      expect(soonExpired.status).toBe(202);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await postAlert(front.url, { headline: `metrics ${i}`, topics: ['world'], priority: i === 0 ? 'flash' : 'urgent' });
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
      const queued = await scrape(front.url);
      expect(sample(queued, 'flashwire_alerts_accepted_total') - sample(before, 'flashwire_alerts_accepted_total')).toBe(4);
      expect(sample(queued, 'flashwire_alerts_accepted_total', { priority: 'flash' })).toBeGreaterThanOrEqual(1);
      // Every job has a priority, so BullMQ keeps the backlog as "prioritized".
      // (The queue figures are cached for a second, so wait for a fresh one.)
      await eventually(async () => {
        const t = await scrape(front.url);
        return sample(t, 'flashwire_queue_jobs', { state: 'prioritized' }) + sample(t, 'flashwire_queue_jobs', { state: 'waiting' }) === 4;
      });

      await sleep(Math.max(1700, expiresAt - Date.now() + 300));
      worker = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'worker' });
      await ws2.waitForCount('alert', 3);
      await ws1.waitForCount('alert', 3);
      await eventually(() => sse.alerts() === 3);

      const flowed = await eventually(async () => {
        const t = await scrape(front.url);
        return sample(t, 'flashwire_deliveries_total') - sample(before, 'flashwire_deliveries_total') === 9 && sample(t, 'flashwire_queue_jobs', { state: 'prioritized' }) === 0 ? t : undefined;
      }, 5000);
      const delta = (name: string, labels: Record<string, string> = {}) => sample(flowed, name, labels) - sample(before, name, labels);
      expect(delta('flashwire_alerts_sent_total')).toBe(3);
      expect(delta('flashwire_alerts_expired_total')).toBe(1);
      expect(delta('flashwire_feed_events_total')).toBe(3);
      expect(delta('flashwire_accept_to_feed_seconds_count')).toBe(3);
      expect(delta('flashwire_accept_to_feed_seconds_count', { priority: 'flash' })).toBe(1);
      // The three sent alerts waited >1.5 s for the worker to start.
      expect(delta('flashwire_accept_to_feed_seconds_sum')).toBeGreaterThan(3 * 1.5);
      expect(delta('flashwire_feed_to_socket_seconds_count')).toBe(3);
      expect(delta('flashwire_alerts_failed_total')).toBe(0);

      // A correction and a retraction of a sent alert.
      const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${(await import('../helpers/settings')).PUBLISH_KEY}` };
      const patched = await fetch(`${front.url}/v1/alerts/${ids[1]}`, { method: 'PATCH', headers, body: JSON.stringify({ headline: 'metrics 1, corrected' }) });
      expect(patched.status).toBe(200);
      const retracted = await fetch(`${front.url}/v1/alerts/${ids[2]}/retract`, { method: 'POST', headers, body: JSON.stringify({ reason: 'wrong' }) });
      expect(retracted.status).toBe(200);
      await ws2.waitFor((f) => f.type === 'retract');
      const changed = await eventually(async () => {
        const t = await scrape(front.url);
        return sample(t, 'flashwire_feed_events_total') - sample(before, 'flashwire_feed_events_total') === 5 ? t : undefined;
      });
      expect(sample(changed, 'flashwire_alerts_corrected_total') - sample(before, 'flashwire_alerts_corrected_total')).toBe(1);
      expect(sample(changed, 'flashwire_alerts_retracted_total') - sample(before, 'flashwire_alerts_retracted_total')).toBe(1);
      expect(sample(changed, 'flashwire_feed_to_socket_seconds_count') - sample(before, 'flashwire_feed_to_socket_seconds_count')).toBe(5);

      // Readers leave: the gauge follows.
      ws1.close();
      ws2.close();
      sse.close();
      await eventually(async () => {
        const t = await scrape(front.url);
        return sample(t, 'flashwire_readers', { transport: 'ws' }) === 0 && sample(t, 'flashwire_readers', { transport: 'sse' }) === 0;
      });

      // Redis goes away and comes back: every connection's reconnect is counted.
      // Labelled by connection, the series appears with the first reconnect.
      const reconnects = (t: string) => (t.includes('\nflashwire_redis_reconnects_total{') ? sample(t, 'flashwire_redis_reconnects_total') : 0);
      const reconnectsBefore = reconnects(await scrape(front.url));
      await redis.stop();
      await sleep(300);
      await redis.start();
      await eventually(async () => (await getJson(`${front.url}/readyz`)).status === 200, 15_000);
      expect(reconnects(await scrape(front.url))).toBeGreaterThan(reconnectsBefore);
    } finally {
      await worker?.stop();
      await front.stop();
    }
  }, 120_000);

  it('count a reader cut off for being too slow', async () => {
    const svc = await startService(redis.url, { FLASHWIRE_MAX_BUFFERED_BYTES: String(16 * 1024), FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '100000' });
    // A raw client that completes the handshake and never reads, with tiny
    // kernel buffers so the backlog lands in the gateway (as in stream-slow.test.ts).
    const stalled = spawn('python3', ['-c', STALLED_WS_CLIENT, String(svc.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const before = await scrape(svc.url);
      const keeping = await openReader(svc.wsUrl, { topics: 'flood' });
      const status = await new Promise<string>((resolve) => readline.createInterface({ input: stalled.stdout! }).once('line', resolve));
      expect(status).toBe('HTTP/1.1 101 Switching Protocols');
      // Other tests' readers may still be counted in this process: count from here.
      const readersBefore = before.includes('\nflashwire_readers{transport="ws"}') ? sample(before, 'flashwire_readers', { transport: 'ws' }) : 0;
      await eventually(async () => sample(await scrape(svc.url), 'flashwire_readers', { transport: 'ws' }) === readersBefore + 2);
      const summary = 'x'.repeat(1024);
      for (let wave = 0; wave < 15; wave++) {
        const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => postAlert(svc.url, { headline: `flood ${wave * 10 + i}`, summary, topics: ['flood'] })));
        for (const r of rs) expect(r.status).toBe(202);
      }
      await keeping.waitForCount('alert', 150, 30_000);
      const after = await eventually(async () => {
        const t = await scrape(svc.url);
        return sample(t, 'flashwire_readers', { transport: 'ws' }) === readersBefore + 1 ? t : undefined;
      }, 10_000);
      expect(sample(after, 'flashwire_slow_reader_disconnects_total') - sample(before, 'flashwire_slow_reader_disconnects_total')).toBe(1);
      keeping.close();
    } finally {
      const gone = new Promise((r) => (stalled.exitCode !== null || stalled.signalCode !== null ? r(undefined) : stalled.once('exit', r)));
      stalled.kill('SIGKILL');
      await gone;
      await svc.stop();
    }
  });

  it('sum every forked process of a gateway started with FLASHWIRE_GATEWAY_PROCESSES, whichever one answers the scrape', async () => {
    const gw = await spawnService(childEnv(redis.url, uniquePrefix(), { FLASHWIRE_ROLES: 'gateway', FLASHWIRE_GATEWAY_PROCESSES: '2' }), 60_000);
    try {
      await eventually(() => gw.logs.filter((l) => l.msg === 'flashwire listening').length === 2, 30_000);
      // The primary hands connections out round-robin, so readers land on both processes.
      const readers = await Promise.all(Array.from({ length: 6 }, () => openReader(gw.wsUrl, { topics: 'world' })));
      for (let i = 0; i < 6; i++) {
        // A fresh connection each time, so the scrapes too are spread over both processes.
        const text = await fetch(`${gw.url}/metrics`, { headers: { Connection: 'close' } }).then((r) => r.text());
        expect(sample(text, 'flashwire_readers', { transport: 'ws' })).toBe(6);
      }
      for (const r of readers) r.close();
    } finally {
      await gw.stop();
    }
  });

  it('asks for FLASHWIRE_METRICS_KEY as a bearer token when one is set', async () => {
    const key = 'metrics-key-0123456789abcdef';
    const svc = await startService(redis.url, { FLASHWIRE_METRICS_KEY: key, FLASHWIRE_ROLES: 'gateway' });
    try {
      const none = await fetch(`${svc.url}/metrics`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(none.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await none.json()).toMatchObject({ status: 401, type: 'https://flashwire.dev/problems/unauthorized', detail: expect.stringContaining('FLASHWIRE_METRICS_KEY') });
      expect((await fetch(`${svc.url}/metrics`, { headers: { Authorization: 'Bearer wrong-key-0123456789abcdef' } })).status).toBe(401);
      expect(sample(await scrape(svc.url, { Authorization: `Bearer ${key}` }), 'flashwire_readers', { transport: 'ws' })).toBe(0);
    } finally {
      await svc.stop();
    }
  });
});
