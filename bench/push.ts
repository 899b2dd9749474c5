/**
 * `npm run bench -- --push N`: Web Push fan-out. N browser subscriptions
 * (default 10,000) point at a local push-service stand-in (node:http, in
 * this process); Flashwire (api + worker, one process) pushes each alert to
 * all of them, encrypted per subscription (RFC 8291) over kept-alive
 * connections. Measured per alert: POST to the first and to the last push
 * received, and pushes per second in between. One sample push is
 * decrypted, so the figures are for real messages.
 */
import { createECDH, createDecipheriv, hkdfSync, randomBytes, type ECDH } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../test/helpers/ports';
import { now, spawnService, stopChild, waitHttpOk } from './procs';
import { median, round } from './stats';

export interface PushBenchOptions {
  subscriptions: number;
  alerts: number;
  concurrencyPerOrigin: number;
}

export interface PushBenchResult {
  subscriptions: number;
  concurrencyPerOrigin: number;
  subscribeSeconds: number;
  alerts: { toFirstMs: number; toLastMs: number; pushesPerSecond: number }[];
  median: { toFirstMs: number; toLastMs: number; pushesPerSecond: number };
}

/** Reads one aes128gcm push (the browser's side), to check the bench sends real messages. */
function decrypt(body: Buffer, ua: ECDH, auth: Buffer): string {
  const salt = body.subarray(0, 16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), ua.getPublicKey(), asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ua.computeSecret(asPublic), auth, info, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const rest = body.subarray(21 + idlen);
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(rest.subarray(rest.length - 16));
  const plain = Buffer.concat([d.update(rest.subarray(0, rest.length - 16)), d.final()]);
  return plain.subarray(0, plain.lastIndexOf(2)).toString();
}

export async function runPushBench(mainJs: string, redisUrl: string, publishKey: string, o: PushBenchOptions, log: (s: string) => void): Promise<PushBenchResult> {
  // The stand-in: counts pushes per alert (by the Topic header) and keeps one body to decrypt.
  const counts = new Map<string, { first: number; last: number; n: number; sample?: Buffer; samplePath?: string }>();
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const topic = String(req.headers.topic);
      const t = now();
      let c = counts.get(topic);
      if (!c) counts.set(topic, (c = { first: t, last: t, n: 0, sample: Buffer.concat(chunks), samplePath: req.url }));
      c.n++;
      c.last = t;
      res.writeHead(201);
      res.end();
      if (c.n === o.subscriptions) for (const w of [...waiters]) w();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fw = await spawnService(
    mainJs,
    {
      ...process.env,
      REDIS_URL: redisUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      FLASHWIRE_ROLES: 'api,worker',
      FLASHWIRE_PREFIX: `p${Date.now().toString(36)}`,
      FLASHWIRE_PUBLISH_KEY: publishKey,
      FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '1000000',
      FLASHWIRE_PUSH_ALLOW_PRIVATE: 'true',
      FLASHWIRE_PUSH_CONCURRENCY_PER_ORIGIN: String(o.concurrencyPerOrigin),
      FLASHWIRE_LOG_LEVEL: 'warn',
    },
    0,
  );
  try {
    await waitHttpOk(`${url}/readyz`);
    // N browsers: their keys, subscribed through the API like a page would.
    const browsers: { ua: ECDH; auth: Buffer }[] = [];
    const t0 = now();
    let next = 0;
    const subscribeOne = async (): Promise<void> => {
      while (next < o.subscriptions) {
        const i = next++;
        const ua = createECDH('prime256v1');
        ua.generateKeys();
        const auth = randomBytes(16);
        browsers[i] = { ua, auth };
        const res = await fetch(`${url}/v1/push/subscriptions`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ subscription: { endpoint: `${origin}/push/${i}`, keys: { p256dh: ua.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } }, topics: ['world'] }),
        });
        await res.arrayBuffer();
        if (res.status !== 201) throw new Error(`subscription ${i}: ${res.status}`);
      }
    };
    await Promise.all(Array.from({ length: 32 }, subscribeOne));
    const subscribeSeconds = (now() - t0) / 1000;
    log(`${o.subscriptions} subscriptions made in ${round(subscribeSeconds, 1)} s`);

    const results: PushBenchResult['alerts'] = [];
    for (let k = 0; k < o.alerts; k++) {
      const posted = now();
      const res = await fetch(`${url}/v1/alerts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${publishKey}` },
        body: JSON.stringify({ headline: `Push bench alert ${k}`, summary: 'A summary of ordinary length, as a newsroom would send with a bulletin.', topics: ['world/europe'], priority: 'bulletin' }),
      });
      const { id } = (await res.json()) as { id: string };
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`alert ${k}: only ${counts.get(id)?.n ?? 0} of ${o.subscriptions} pushes within 10 min`)), 600_000);
        const check = () => {
          if ((counts.get(id)?.n ?? 0) >= o.subscriptions) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        waiters.add(check);
        check();
      });
      const c = counts.get(id)!;
      const i = Number(c.samplePath!.split('/').pop());
      const frame = JSON.parse(decrypt(c.sample!, browsers[i]!.ua, browsers[i]!.auth)) as { alert: { id: string } };
      if (frame.alert.id !== id) throw new Error('a sample push did not decrypt to its alert');
      const r = { toFirstMs: round(c.first - posted, 1), toLastMs: round(c.last - posted, 1), pushesPerSecond: Math.round(o.subscriptions / Math.max(0.001, (c.last - c.first) / 1000)) };
      log(`alert ${k}: first push ${r.toFirstMs} ms after the POST, last (${o.subscriptions}th) ${r.toLastMs} ms, ${r.pushesPerSecond} pushes/s`);
      results.push(r);
    }
    return {
      subscriptions: o.subscriptions,
      concurrencyPerOrigin: o.concurrencyPerOrigin,
      subscribeSeconds: round(subscribeSeconds, 1),
      alerts: results,
      median: {
        toFirstMs: median(results.map((r) => r.toFirstMs)),
        toLastMs: median(results.map((r) => r.toLastMs)),
        pushesPerSecond: median(results.map((r) => r.pushesPerSecond)),
      },
    };
  } finally {
    await stopChild(fw);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
