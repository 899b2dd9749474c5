/**
 * API keys (the contract Credentials): `flashwire keys create|list|revoke`
 * against Redis, secrets stored hashed and shown once, revocation at once in
 * every API and gateway process, and the first-run publish key.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import IORedis from 'ioredis';
import { RedisServer } from '../../src/redis/redis-server';
import { eventually, getJson, openReader, postAlert } from '../helpers/clients';
import { redisForFile } from '../helpers/redis-for-file';
import { childEnv, MAIN, startService } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');
const SECRET = /(fw_[A-Za-z0-9_-]{43})/;

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('API keys', () => {
  const fx = redisForFile();

  it('creates, lists and revokes keys with the CLI; revocation takes effect at once in every API and gateway process', async () => {
    const prefix = uniquePrefix();
    const env = { REDIS_URL: fx.redis.url, FLASHWIRE_PREFIX: prefix };
    const created = await cli(['keys', 'create', '--name', 'mobile-backend', '--scopes', 'publish,subscribe'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/shown only this once/);
    const secret = SECRET.exec(created.stdout)![1]!;

    // Stored hashed: the secret appears nowhere in Redis.
    for (const k of await fx.client.keys(`${prefix}:*`)) {
      const dump = JSON.stringify(await fx.client.hgetall(k));
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice(3));
    }
    const listed = await cli(['keys', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/mobile-backend\s+publish,subscribe/);
    expect(listed.stdout).not.toContain(secret);
    expect((await cli(['keys', 'create', '--name', 'mobile-backend'], env)).code).toBe(1);
    const badScope = await cli(['keys', 'create', '--name', 'x', '--scopes', 'root'], env);
    expect(badScope.code).toBe(1);
    expect(badScope.stderr).toMatch(/scopes must be/);

    const svcEnv = { FLASHWIRE_PREFIX: prefix };
    const [one, two] = await Promise.all([startService(fx.redis.url, svcEnv), startService(fx.redis.url, svcEnv)]);
    try {
      const auth = { Authorization: `Bearer ${secret}` };
      for (const s of [one, two]) expect((await postAlert(s.url, { headline: 'keyed', topics: ['world'] }, auth)).status).toBe(202);
      const r1 = await openReader(one.wsUrl, { topics: 'private/desk', token: secret });
      const r2 = await openReader(two.wsUrl, { topics: 'private/desk' }, { headers: auth });
      const anon = await openReader(two.wsUrl, { topics: 'world' });
      // An SSE reader with the key too: its stream ends on revocation.
      const sse = await fetch(`${two.url}/v1/events?topics=private/desk`, { headers: auth });
      expect(sse.status).toBe(200);
      const sseEnded = (async () => {
        const rd = sse.body!.getReader();
        while (!(await rd.read()).done);
        return true;
      })();
      expect(r1.frames[0].topics).toEqual(['private/desk']);

      const revoked = await cli(['keys', 'revoke', 'mobile-backend'], env);
      expect(revoked.code).toBe(0);
      // At once: no cache anywhere, and connected readers are closed with 4001.
      for (const s of [one, two]) {
        const res = await postAlert(s.url, { headline: 'after revoke', topics: ['world'] }, auth);
        expect(res.status).toBe(401);
        expect((await getJson(`${s.url}/v1/feed`, auth)).status).toBe(401);
      }
      expect((await r1.closed).code).toBe(4001);
      expect((await r2.closed).code).toBe(4001);
      expect(await sseEnded).toBe(true);
      expect(anon.ws.readyState).toBe(anon.ws.OPEN);
      await expect(openReader(one.wsUrl, { token: secret })).rejects.toThrow(/4001/);
      expect((await cli(['keys', 'list'], env)).stdout).not.toMatch(/mobile-backend/);
      const again = await cli(['keys', 'revoke', 'mobile-backend'], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/no key named "mobile-backend"/);
      anon.close();
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  it("talks to the private redis-server's socket under FLASHWIRE_DATA_DIR when REDIS_URL is not set", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-keys-'));
    const server = new RedisServer({ dir });
    await server.start();
    try {
      const env = { FLASHWIRE_DATA_DIR: dir, FLASHWIRE_PREFIX: 'fwkeys' };
      const created = await cli(['keys', 'create', '--name', 'newsdesk', '--json'], env);
      expect(created.code).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({ name: 'newsdesk', scopes: ['publish'], secret: expect.stringMatching(SECRET) });
      const local = new IORedis({ path: server.socketPath });
      expect(await local.hget('fwkeys:apikeys:names', 'newsdesk')).toMatch(/^[0-9a-f]{64}$/);
      local.disconnect();
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const unreachable = await cli(['keys', 'list'], { FLASHWIRE_DATA_DIR: dir });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach Redis/);
  });

  it('creates one publish key on a first run with no keys and no FLASHWIRE_PUBLISH_KEY, and prints it once', async () => {
    const prefix = uniquePrefix();
    const start = () =>
      new Promise<{ out: string; port: number; stop: () => Promise<void> }>((resolve, reject) => {
        const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...childEnv(fx.redis.url, prefix, { FLASHWIRE_PUBLISH_KEY: '' }) }, stdio: ['ignore', 'pipe', 'pipe'] });
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        let out = '';
        const timer = setTimeout(() => {
          child.kill('SIGKILL'); // a child left running would hold the test worker open
          reject(new Error(`no start: ${out}`));
        }, 60_000);
        readline.createInterface({ input: child.stdout! }).on('line', (line) => {
          out += line + '\n';
          try {
            const rec = JSON.parse(line);
            if (rec.msg === 'flashwire listening') {
              clearTimeout(timer);
              resolve({ out, port: rec.port, stop: async () => void (child.kill('SIGTERM'), await exited) });
            }
          } catch {
            /* the key banner is plain text */
          }
        });
      });
    const first = await start();
    let key: string;
    try {
      key = SECRET.exec(first.out)![1]!;
      expect(first.out).toMatch(/shown only this once/);
      // The secret is printed in the banner only, never in a log line.
      expect(first.out.split('\n').filter((l) => l.includes(key!)).length).toBeGreaterThan(0);
      expect(first.out.split('\n').filter((l) => l.startsWith('{') && l.includes(key!))).toHaveLength(0);
      const res = await postAlert(`http://127.0.0.1:${first.port}`, { headline: 'first run', topics: ['world'] }, { Authorization: `Bearer ${key}` });
      expect(res.status).toBe(202);
      expect(res.body.publishedBy).toBe('first-run');
    } finally {
      await first.stop();
    }
    const second = await start();
    try {
      expect(second.out).not.toMatch(SECRET);
      await eventually(async () => (await postAlert(`http://127.0.0.1:${second.port}`, { headline: 'still valid', topics: ['world'] }, { Authorization: `Bearer ${key}` })).status === 202);
    } finally {
      await second.stop();
    }
  });
});
