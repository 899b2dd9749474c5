/**
 * The Node client as an outside backend gets it: `npm pack` of clients/node,
 * the tarball installed with `npm install` into an empty folder (offline: ws
 * comes as a tarball packed from this repository's own node_modules), then
 * imported by name, from CommonJS, from an ES module and from TypeScript,
 * and used against a running service.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY } from '../helpers/settings';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const PACKAGE = path.join(ROOT, 'clients/node');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('the Node client package', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-client-pkg-'));
  const app = path.join(dir, 'backend');
  let packed: { name: string; filename: string; files: { path: string }[] };

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url);
    const out = await run(NPM, ['pack', '--json', '--pack-destination', dir], { cwd: PACKAGE, timeout: 120_000 });
    packed = (JSON.parse(out.stdout) as (typeof packed)[])[0]!;
    const ws = await run(NPM, ['pack', '--json', '--pack-destination', dir, path.join(ROOT, 'node_modules/ws')], { cwd: dir, timeout: 60_000 });
    const wsTarball = (JSON.parse(ws.stdout) as { filename: string }[])[0]!.filename;
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'mobile-backend', version: '1.0.0', private: true }));
    await run(NPM, ['install', '--offline', '--no-audit', '--no-fund', path.join(dir, wsTarball), path.join(dir, packed.filename)], { cwd: app, timeout: 120_000 });
  }, 300_000);
  afterAll(async () => {
    await svc?.stop();
    await redis?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('packs only its built JS, .d.ts and README, and depends on ws alone', () => {
    expect(packed.name).toBe('@flashwire/client');
    const files = packed.files.map((f) => f.path).sort();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/alert-stream.js', 'dist/alert-stream.d.ts']));
    expect(files.filter((f) => !/^(dist\/[\w-]+\.(js|d\.ts)|README\.md|package\.json)$/.test(f))).toEqual([]);
    const installed = JSON.parse(fs.readFileSync(path.join(app, 'node_modules/@flashwire/client/package.json'), 'utf8'));
    expect(Object.keys(installed.dependencies)).toEqual(['ws']);
    expect(installed.exports['.']).toMatchObject({ types: './dist/index.d.ts' });
  });

  it('is imported by name from an ES module and used: FlashwireApi posts, AlertStream receives', async () => {
    fs.writeFileSync(
      path.join(app, 'relay.mjs'),
      `import { AlertStream, FlashwireApi } from '@flashwire/client';
const options = { url: process.env.FW, key: process.env.KEY };
const api = new FlashwireApi(options);
const stream = new AlertStream({ ...options, topics: ['packaged'], onWelcome: async () => {
  await api.send({ headline: 'from the installed package', topics: ['packaged'] });
} });
for await (const event of stream) {
  console.log(JSON.stringify({ type: event.type, headline: event.alert.headline }));
  break;
}
`,
    );
    const out = await run(process.execPath, ['relay.mjs'], { cwd: app, env: { ...process.env, FW: svc.url, KEY: PUBLISH_KEY }, timeout: 30_000 });
    expect(JSON.parse(out.stdout)).toEqual({ type: 'alert', headline: 'from the installed package' });
  });

  it('loads nothing of the service from CommonJS: only its own files and ws', async () => {
    const script = `const c = require('@flashwire/client');
if (typeof c.AlertStream !== 'function' || typeof c.FlashwireApi !== 'function') throw new Error('missing exports');
console.log(JSON.stringify(Object.keys(require.cache)));`;
    const out = await run(process.execPath, ['-e', script], { cwd: app, timeout: 30_000 });
    const loaded = JSON.parse(out.stdout) as string[];
    const own = path.join(fs.realpathSync(app), 'node_modules');
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.filter((f) => !f.startsWith(path.join(own, '@flashwire/client/')) && !f.startsWith(path.join(own, 'ws/')))).toEqual([]);
  });

  it('ships types a TypeScript consumer compiles against', async () => {
    fs.writeFileSync(
      path.join(app, 'consumer.ts'),
      `import { AlertStream, FlashwireApi, type StreamEvent } from '@flashwire/client';
const options = { url: 'http://localhost:8080', key: 'fw_x' };
const api = new FlashwireApi(options);
const stream = new AlertStream({ ...options, topics: ['europe'], saveEventId: async (id: string) => void id });
export async function relay(): Promise<void> {
  for await (const e of stream) {
    const handled: StreamEvent = e;
    if (handled.type === 'alert') await api.correct(handled.alert.id, { summary: null });
    await stream.ack();
  }
}
`,
    );
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--skipLibCheck', '--typeRoots', path.join(ROOT, 'node_modules/@types'), '--types', 'node', 'consumer.ts'];
    await expect(run(process.execPath, [tsc, ...args], { cwd: app, timeout: 60_000 })).resolves.toBeDefined();
    // And a mistake is caught: the options object, not positional arguments.
    fs.writeFileSync(path.join(app, 'wrong.ts'), `import { FlashwireApi } from '@flashwire/client';\nnew FlashwireApi('http://localhost:8080');\n`);
    await expect(run(process.execPath, [tsc, ...args.slice(0, -1), 'wrong.ts'], { cwd: app, timeout: 60_000 })).rejects.toMatchObject({ stdout: expect.stringContaining('TS2345') });
  });
});
