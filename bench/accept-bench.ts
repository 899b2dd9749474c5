/**
 * The measuring side of the accept floor (`accept-floor.ts`): starts its
 * server and its tailer as two child processes on the bench's Redis, and
 * times one alert from the POST to its `202` and to the tailer.
 */
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../test/helpers/ports';
import type { Tailed } from './accept-floor';
import { Poster } from './post';
import { forkModule, nextMessage, now, stopChild } from './procs';

export interface AcceptFloor {
  /** Where alerts are POSTed. */
  url: string;
  /** Posts one body; the POST's send time and how long the `202` took, ms. */
  post(body: string): Promise<{ t0: number; acceptedMs: number }>;
  /** When the tailer had alert `key` (`s:3`), or undefined if not within `timeoutMs`. */
  tailed(key: string, timeoutMs: number): Promise<number | undefined>;
  stop(): Promise<void>;
}

export async function startAcceptFloor(redisUrl: string): Promise<AcceptFloor> {
  const port = await freePort();
  const env = { ...process.env, REDIS_URL: redisUrl, PORT: String(port), FLOOR_STREAM: `bench-accept-floor-${process.pid}-${Date.now().toString(36)}` };
  const modulePath = path.join(__dirname, 'accept-floor.js');
  const children: ChildProcess[] = [];
  const arrivals = new Map<string, number>();
  const waiters = new Set<() => void>();
  const stop = async () => void (await Promise.all(children.map((c) => stopChild(c))));
  try {
    for (const role of ['tailer', 'server']) {
      const child = forkModule(modulePath, [role], env);
      children.push(child);
      await nextMessage(child, (m: { ev?: string }) => (m.ev === 'accept-floor-ready' ? true : undefined), 30_000, `accept floor ${role} start`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  children[0]!.on('message', (m: Tailed) => {
    if (m.ev !== 'tailed' || arrivals.has(m.key)) return;
    arrivals.set(m.key, m.t);
    for (const w of [...waiters]) w();
  });
  const url = `http://127.0.0.1:${port}/`;
  const poster = new Poster(url);
  return {
    url,
    async post(body) {
      const t0 = now();
      const res = await poster.post('/', body);
      if (res.status !== 202) throw new Error(`accept floor answered ${res.status}`);
      return { t0, acceptedMs: now() - t0 };
    },
    tailed(key, timeoutMs) {
      return new Promise((resolve) => {
        const check = () => {
          const t = arrivals.get(key);
          if (t === undefined) return;
          done(t);
        };
        const done = (t: number | undefined) => {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(t);
        };
        const timer = setTimeout(() => done(undefined), timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      poster.close();
      await stop();
    },
  };
}
