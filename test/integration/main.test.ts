/**
 * `npm start` as a user runs it: the built entry point, settings checked at
 * start, and the private redis-server when no REDIS_URL is given.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { FIXTURE, eventually, getJson, openReader } from '../helpers/clients';
import { MAIN } from '../helpers/service';

function run(env: Record<string, string>) {
  return spawnSync(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 });
}

describe('npm start', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ FLASHWIRE_ROLES: 'api,broker' }, 'FLASHWIRE_ROLES'],
    [{ REDIS_URL: 'http://nope' }, 'REDIS_URL'],
  ])('stops with one line naming a bad setting (%o)', (env, name) => {
    const r = run(env);
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^flashwire: invalid setting ${name}: `));
  });

  it('says how to get Redis when no REDIS_URL is set and no redis-server exists', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-nopath-'));
    const r = run({ PATH: dir, FLASHWIRE_DATA_DIR: dir, PORT: '0' });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no redis-server on the PATH/);
    expect(lines[0]).toMatch(/apt-get install redis-server/);
    expect(lines[0]).toMatch(/brew install redis/);
    expect(lines[0]).toMatch(/docker compose up redis/);
  });

  it('starts a private redis-server with persistence, creates a first publish key, and stops it on exit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-embedded-'));
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', FLASHWIRE_DATA_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    let out = '';
    let port = 0;
    let redisPid = 0;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      out += line + '\n';
      try {
        const rec = JSON.parse(line);
        if (rec.msg === 'flashwire listening') port = rec.port;
        if (rec.msg?.startsWith('started a private redis-server')) redisPid = rec.pid;
      } catch {
        /* the key banner is plain text */
      }
    });
    try {
      await eventually(() => port > 0, 20_000);
      const key = /(fw_[A-Za-z0-9_-]{43})/.exec(out)?.[1];
      expect(key).toBeDefined();
      expect(out).toMatch(/shown only this once/);

      const reader = await openReader(`ws://127.0.0.1:${port}`, { topics: 'europe' });
      const res = await fetch(`http://127.0.0.1:${port}/v1/alerts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
        body: JSON.stringify(FIXTURE),
      });
      expect(res.status).toBe(202);
      await reader.waitFor((f) => f.type === 'alert');
      reader.close();
      expect((await getJson(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect(fs.existsSync(path.join(dir, 'appendonlydir'))).toBe(true);
      expect(redisPid).toBeGreaterThan(0);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // The private redis-server went with it.
    expect(() => process.kill(redisPid, 0)).toThrow();
  });
});
