/**
 * A real HTTP server standing in for a mobile backend: it records every
 * webhook call and answers as the test says (by default `204`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Call {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  frame: any;
  at: number;
  path: string;
}

export type Responder = (call: Call, n: number, res: http.ServerResponse) => unknown;

export interface Receiver {
  url: string;
  port: number;
  calls: Call[];
  /** Sets how the next calls are answered (`res.writeHead` etc.), or the default 204. */
  respond(fn?: Responder): void;
  /** Calls deduplicated by webhook-id, first seen first. */
  unique(): Call[];
  waitFor(pred: (calls: Call[]) => boolean, timeoutMs?: number): Promise<Call[]>;
  /** Checks one call with the official standardwebhooks package (throws when it does not verify). */
  verify(call: Call, secret: string): unknown;
  /** Stops listening (calls then fail to connect). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const calls: Call[] = [];
  let responder: Responder | undefined;
  const open = new Set<import('node:net').Socket>();
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const call: Call = {
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body,
        frame: body ? JSON.parse(body) : undefined,
        at: Date.now(),
        path: req.url ?? '',
      };
      calls.push(call);
      for (const w of [...waiters]) w();
      const out = responder?.(call, calls.length, res);
      if (out === 'handled') return;
      if (!res.headersSent) res.writeHead(204);
      if (!res.writableEnded) res.end();
    });
  });
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  const listen = (p: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, '127.0.0.1', () => resolve());
  });
  await listen(port);
  const actual = (server.address() as AddressInfo).port;
  const stop = () => new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const s of open) s.destroy();
  });
  return {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    calls,
    respond: (fn) => (responder = fn),
    unique: () => {
      const seen = new Set<string>();
      return calls.filter((c) => (seen.has(c.id) ? false : (seen.add(c.id), true)));
    },
    waitFor: (pred, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pred(calls)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(calls);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: condition not met in ${timeoutMs} ms; calls: ${JSON.stringify(calls.map((c) => [c.id, c.frame?.type])).slice(0, 1500)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    verify: (call, secret) => new Webhook(secret).verify(call.body, { 'webhook-id': call.id, 'webhook-timestamp': call.timestamp, 'webhook-signature': call.signature }),
    down: stop,
    up: () => listen(actual),
    close: stop,
  };
}
