/**
 * A private redis-server on a free port with its own data directory, so a
 * test or a benchmark run can stop, kill and restart it without touching
 * anyone else's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RedisServer } from '../../src/redis/redis-server';
import { freePort } from './ports';

// Tests that start their own servers on chosen ports import it from here.
export { freePort };

export type PrivateRedis = RedisServer & { url: string; dir: string; cleanup(): Promise<void> };

/** `appendfsync`: `always` where a 202 must survive a kill of Redis; `everysec` (the default here) is faster. */
export async function startRedis(options: { appendfsync?: 'always' | 'everysec' } = {}): Promise<PrivateRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-redis-'));
  const port = await freePort();
  const server = new RedisServer({ dir, port, appendfsync: options.appendfsync ?? 'everysec' }) as PrivateRedis;
  await server.start();
  server.url = `redis://127.0.0.1:${port}`;
  server.dir = dir;
  server.cleanup = async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return server;
}
