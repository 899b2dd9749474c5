/**
 * A stand-in for a browser's push service (RFC 8030) on node:http, and the
 * browser's side of a subscription: its keys, and reading what arrives with
 * an independent implementation of RFC 8188/8291 (the http_ece package).
 */
import { createECDH, createPublicKey, randomBytes, verify, type ECDH } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ece = require('http_ece') as { decrypt(buf: Buffer, params: Record<string, unknown>): Buffer };

export interface ReceivedPush {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  at: number;
  /** The status this stand-in answered with. */
  answered: number;
}

export interface PushServiceStandIn {
  origin: string;
  received: ReceivedPush[];
  /** Answers for the next requests to `path`, in order (then 201). */
  script(path: string, answers: { status: number; headers?: Record<string, string> }[]): void;
  /** Resolves once `n` pushes that match have arrived. */
  waitFor(pred: (p: ReceivedPush) => boolean, n?: number, timeoutMs?: number): Promise<ReceivedPush[]>;
  close(): Promise<void>;
}

/** `delayMs`: how long each answer waits, to keep pushes in flight. */
export async function startPushService(options: { delayMs?: number } = {}): Promise<PushServiceStandIn> {
  const received: ReceivedPush[] = [];
  const scripts = new Map<string, { status: number; headers?: Record<string, string> }[]>();
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const answer = scripts.get(path)?.shift() ?? { status: 201 };
      const respond = () => {
        if (res.destroyed) return;
        received.push({ path, headers: req.headers, body: Buffer.concat(chunks), at: Date.now(), answered: answer.status });
        res.writeHead(answer.status, { ...(answer.headers ?? {}), ...(answer.status === 201 ? { Location: `${path}/msg/${received.length}` } : {}) });
        res.end();
        for (const w of [...waiters]) w();
      };
      if (options.delayMs) setTimeout(respond, options.delayMs);
      else respond();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    received,
    script: (path, answers) => scripts.set(path, [...answers]),
    waitFor: (pred, n = 1, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const got = received.filter(pred);
          if (got.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(got);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${n} pushes; got ${received.length}: ${received.map((r) => `${r.path}:${r.answered}`).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A browser's side of one subscription. */
export class FakeBrowser {
  readonly ecdh: ECDH = createECDH('prime256v1');
  readonly auth = randomBytes(16);

  constructor(readonly endpoint: string) {
    this.ecdh.generateKeys();
  }

  /** As `PushSubscription.toJSON()` gives it. */
  get subscription() {
    return { endpoint: this.endpoint, expirationTime: null, keys: { p256dh: this.ecdh.getPublicKey().toString('base64url'), auth: this.auth.toString('base64url') } };
  }

  /** Decrypts a push body with http_ece: an implementation that shares no code with ours. */
  read(body: Buffer): string {
    return ece.decrypt(body, { version: 'aes128gcm', privateKey: this.ecdh, authSecret: this.auth.toString('base64url') }).toString('utf8');
  }
}

/** Checks a VAPID `Authorization` header (RFC 8292): ES256 by `publicKey`; answers the JWT's claims. */
export function checkVapid(header: string | undefined, publicKey: string): { token: string; claims: Record<string, unknown> } {
  const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(header ?? '');
  if (!m) throw new Error(`not a vapid Authorization header: ${header}`);
  const [, token, k] = m;
  if (k !== publicKey) throw new Error('k= is not the service public key');
  const [h, p, s] = token!.split('.') as [string, string, string];
  const head = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  if (head.alg !== 'ES256' || head.typ !== 'JWT') throw new Error(`unexpected JWT header ${JSON.stringify(head)}`);
  const raw = Buffer.from(publicKey, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) throw new Error('bad ES256 signature');
  return { token: token!, claims: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown> };
}
