/** Small real clients for tests: HTTP via fetch, readers via ws. */
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { PUBLISH_KEY } from './settings';

// The shared fixture beside the repo, or the copy kept in test/fixtures.
const SHARED_FIXTURE = path.resolve(__dirname, '../../../shared/fixtures/stoltenberg-nato-alert.json');
const LOCAL_FIXTURE = path.resolve(__dirname, '../fixtures/stoltenberg-nato-alert.json');
export const FIXTURE = JSON.parse(fs.readFileSync(fs.existsSync(SHARED_FIXTURE) ? SHARED_FIXTURE : LOCAL_FIXTURE, 'utf8')) as Record<string, unknown>;

export async function postAlert(baseUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${baseUrl}/v1/alerts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PUBLISH_KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export interface TestReader {
  ws: WebSocket;
  frames: any[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first frame (from the start) matching, waiting if needed. */
  waitFor(pred: (f: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Resolves once `n` frames of `type` have arrived. */
  waitForCount(type: string, n: number, timeoutMs?: number): Promise<any[]>;
  ofType(type: string): any[];
  send(frame: unknown): void;
  close(): void;
}

/** Opens a reader on /v1/stream and resolves after its welcome frame. */
export function openReader(wsUrl: string, query: Record<string, string> = {}, opts: WebSocket.ClientOptions = {}): Promise<TestReader> {
  const qs = new URLSearchParams(query).toString();
  const ws = new WebSocket(`${wsUrl}/v1/stream${qs ? '?' + qs : ''}`, opts);
  const frames: any[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)));
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => {
    resolve({ code, reason: String(reason) });
    for (const w of [...waiters]) w();
  }));
  const waitFor = (pred: (f: any) => boolean, timeoutMs = 10_000) =>
    new Promise<any>((resolve, reject) => {
      const check = () => {
        const f = frames.find(pred);
        if (f) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(f);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out; frames so far: ${JSON.stringify(frames).slice(0, 2000)}`));
      }, timeoutMs);
      timer.unref(); // a reader refused before its welcome leaves this wait behind
      waiters.add(check);
      check();
    });
  const reader: TestReader = {
    ws,
    frames,
    closed,
    waitFor,
    waitForCount: async (type, n, timeoutMs = 10_000) => {
      await waitFor(() => frames.filter((f) => f.type === type).length >= n, timeoutMs);
      return frames.filter((f) => f.type === type);
    },
    ofType: (type) => frames.filter((f) => f.type === type),
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    close: () => ws.close(),
  };
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    void closed.then((c) => reject(new Error(`closed before welcome: ${c.code} ${c.reason}`)));
    void waitFor((f) => f.type === 'welcome').then(() => resolve(reader), reject);
  });
}

/** Waits until `fn` returns truthy, polling. */
type Falsy = undefined | null | false | 0 | '';
export async function eventually<T>(fn: () => Promise<T | Falsy> | T | Falsy, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
