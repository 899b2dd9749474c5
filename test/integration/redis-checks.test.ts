/**
 * What Flashwire asks of its Redis (the contract's "Cursors, visibility,
 * retention", issue 11 point 3): it refuses a Redis older than 7.0 with one
 * line, warns about an external Redis that would weaken a 202, answers 503
 * (and /readyz not ready) while Redis is out of memory, and its scripts
 * record an append before the trim, so a failing trim never leaves an
 * appended event unmarked.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import IORedis from 'ioredis';
import { appendSend } from '../../workers/fanout.worker';
import { Keys } from '../../src/redis/keys';
import { RedisServer } from '../../src/redis/redis-server';
import { runScript } from '../../src/redis/scripts';
import { AlertChanges } from '../../src/store/alert-changes';
import { AlertStore, newRecord } from '../../src/store/alert-store';
import { getJson, postAlert } from '../helpers/clients';
import { freePort, startRedis } from '../helpers/redis';
import { MAIN, spawnService, startService } from '../helpers/service';
import { testEnv, testSettings } from '../helpers/settings';

jest.setTimeout(60_000);

/**
 * A TCP server speaking just enough RESP to pass for Redis 6.0.16: INFO
 * answers with that version, every other command with +OK.
 */
function fakeOldRedis(version: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      // Commands arrive as RESP arrays of bulk strings; answer each whole one.
      for (;;) {
        const m = /^\*(\d+)\r\n/.exec(buf);
        if (!m) return;
        let pos = m[0].length;
        const args: string[] = [];
        for (let i = 0; i < Number(m[1]); i++) {
          const b = /^\$(\d+)\r\n/.exec(buf.slice(pos));
          if (!b) return;
          const start = pos + b[0].length;
          if (buf.length < start + Number(b[1]) + 2) return;
          args.push(buf.slice(start, start + Number(b[1])));
          pos = start + Number(b[1]) + 2;
        }
        buf = buf.slice(pos);
        if (args[0]?.toLowerCase() === 'info') {
          const text = `# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\n# Persistence\r\nloading:0\r\n`;
          socket.write(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
        } else {
          socket.write('+OK\r\n');
        }
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      }),
    );
  });
}

describe('Redis version', () => {
  it('refuses to start on Redis 6.0 with one line saying so', async () => {
    const fake = await fakeOldRedis('6.0.16');
    try {
      const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...testEnv(`redis://127.0.0.1:${fake.port}`, { FLASHWIRE_LOG_LEVEL: 'info' }) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      child.stderr!.on('data', (d) => (stderr += String(d)));
      child.stdout!.on('data', (d) => (stdout += String(d)));
      // Never left behind, whatever happens: a process that does not stop by itself fails the test.
      const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(guard);
      expect(code).toBe(1);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^flashwire: Redis 6\.0\.16 at redis:\/\/127\.0\.0\.1:\d+ is too old: Flashwire needs Redis 7\.0 or newer$/);
      expect(stdout).not.toMatch(/flashwire listening/);
    } finally {
      await fake.close();
    }
  });
});

describe('external Redis configuration', () => {
  it('warns at start when appendonly is off or the eviction policy may drop keys, saying what a 202 no longer guarantees', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-redis-'));
    const port = await freePort();
    const weak = new RedisServer({ dir, port, persist: false });
    await weak.start();
    const admin = new IORedis(`redis://127.0.0.1:${port}`);
    let svc: Awaited<ReturnType<typeof spawnService>> | undefined;
    try {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      svc = await spawnService(testEnv(`redis://127.0.0.1:${port}`, { FLASHWIRE_LOG_LEVEL: 'info' }));
      const warnings = svc.logs.filter((l) => l.level === 40).map((l) => String(l.msg));
      expect(warnings.find((m) => /appendonly no/.test(m))).toMatch(/a 202 then no longer survives a restart of Redis/);
      expect(warnings.find((m) => /maxmemory-policy allkeys-lru/.test(m))).toMatch(/a 202 no longer guarantees delivery/);
    } finally {
      await svc?.stop();
      admin.disconnect();
      await weak.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says nothing about a Redis configured as a queue needs (AOF on, noeviction)', async () => {
    const good = await startRedis();
    let svc: Awaited<ReturnType<typeof spawnService>> | undefined;
    try {
      // With the webhook secret key set too, a well-configured install starts without a single warning.
      svc = await spawnService(testEnv(good.url, { FLASHWIRE_LOG_LEVEL: 'info', FLASHWIRE_SECRET_KEY: 'k'.repeat(32) }));
      expect(svc.logs.filter((l) => l.level === 40)).toEqual([]);
    } finally {
      await svc?.stop();
      await good.cleanup();
    }
  });
});

describe('Redis out of memory', () => {
  it('answers POST with 503 naming the cause and /readyz not ready, until Redis has room again', async () => {
    // Its own Redis: the test fills it by lowering maxmemory below what it holds.
    const redis = await startRedis();
    const admin = new IORedis(redis.url);
    const svc = await startService(redis.url);
    try {
      expect((await getJson(`${svc.url}/readyz`)).status).toBe(200);
      expect((await postAlert(svc.url, { headline: 'Before the squeeze', topics: ['world'] })).status).toBe(202);

      await admin.config('SET', 'maxmemory', '1');
      const refused = await postAlert(svc.url, { headline: 'No room', topics: ['world'] });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(refused.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
      expect(refused.body.detail).toMatch(/Redis is out of memory/);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      // Idempotent posts go through another script first: the same answer.
      expect((await postAlert(svc.url, { headline: 'No room', topics: ['world'] }, { 'Idempotency-Key': 'oom-1' })).status).toBe(503);
      const ready = await getJson(`${svc.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body.detail).toMatch(/out of memory/);

      await admin.config('SET', 'maxmemory', '0');
      expect((await getJson(`${svc.url}/readyz`)).status).toBe(200);
      expect((await postAlert(svc.url, { headline: 'Room again', topics: ['world'] })).status).toBe(202);
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
      await svc.stop();
      admin.disconnect();
      await redis.cleanup();
    }
  });
});

describe('scripts record before they trim', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: IORedis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new IORedis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.cleanup();
  });

  it('a send whose trim fails is still marked, and its retry appends nothing', async () => {
    const settings = testSettings(redis.url);
    const keys = new Keys(settings.FLASHWIRE_PREFIX);
    const store = new AlertStore(client, keys);
    const rec = newRecord('01TRIMFAILSEND0000000000AA', { headline: 'Trim fails', topics: ['world'], priority: 'flash' }, 'test', new Date());
    await store.create(rec);
    // The trim is the script's last step; a retention it cannot use makes it
    // fail there, as XTRIM MINID did on Redis 6.0.
    const args = ['{}', 'world', '', new Date().toISOString(), 1000, 'not-a-number', rec.id, '0', 60_000];
    await expect(runScript(client, 'appendSend', [keys.alert(rec.id), keys.feed], args)).rejects.toThrow();
    const marked = await store.get(rec.id);
    expect(marked?.status).toBe('sent');
    expect(marked?.eventId).toBeDefined();
    expect(await client.xlen(keys.feed)).toBe(1);

    // The job is retried: exactly one event, marked once.
    const retry = await appendSend({ redis: client, keys, settings }, rec.id);
    expect(retry).toEqual({ outcome: 'duplicate', eventId: marked?.eventId });
    const feed = await client.xrange(keys.feed, '-', '+');
    expect(feed.map(([id]) => id)).toEqual([marked?.eventId]);
  });

  it('a correction whose trim fails is still recorded, and its retry appends nothing', async () => {
    const settings = testSettings(redis.url);
    const keys = new Keys(settings.FLASHWIRE_PREFIX);
    const store = new AlertStore(client, keys);
    const rec = newRecord('01TRIMFAILCHANGE00000000AA', { headline: 'Trim fails too', topics: ['world'], priority: 'flash' }, 'test', new Date());
    await store.create(rec);
    await appendSend({ redis: client, keys, settings }, rec.id);
    const sent = (await store.get(rec.id))!;

    const args = ['sent', sent.rev ?? '0', 'update', '"alert":{}', 'world', '', 1000, 'not-a-number', rec.id, 60_000, 'headline', 'Trim fails too (fixed)'];
    await expect(runScript(client, 'appendChange', [keys.alert(rec.id), keys.feed, keys.report(rec.id)], args)).rejects.toThrow();
    const changed = (await store.get(rec.id))!;
    expect(changed.headline).toBe('Trim fails too (fixed)');
    expect(changed.rev).toBe('1');
    expect(await client.xlen(keys.feed)).toBe(2);

    // The editor retries the same PATCH: nothing new, nothing appended.
    const changes = new AlertChanges(client, keys, { maxEntries: 1000, retentionMs: 60_000 });
    const again = await changes.correct(rec.id, { headline: 'Trim fails too (fixed)' }, 'test');
    expect(again.kind).toBe('done');
    expect(await client.xlen(keys.feed)).toBe(2);
  });
});
