/**
 * A real redis-server per test file, on a free port with its own data
 * directory, so tests can stop, kill and restart it.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RedisServer } from '../../src/redis/redis-server';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedis(options: { appendfsync?: 'always' | 'everysec' } = {}): Promise<RedisServer & { url: string; cleanup(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-redis-'));
  const port = await freePort();
  const server = new RedisServer({ dir, port, appendfsync: options.appendfsync ?? 'everysec' }) as RedisServer & { url: string; cleanup(): Promise<void> };
  await server.start();
  server.url = `redis://127.0.0.1:${port}`;
  server.cleanup = async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return server;
}
