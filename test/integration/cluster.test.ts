/**
 * Redis Cluster through configuration alone: three real masters made into a
 * cluster with redis-cli. With a hash-tag prefix every key Flashwire and
 * BullMQ use lands in one slot, so the Lua scripts, MULTI and BullMQ work;
 * without one the process refuses to start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { createLogger } from '../../src/log';
import { hasHashTag, topologyFromSettings } from '../../src/redis/topology';
import { Service } from '../../server/service';
import { eventually, getJson, openReader, postAlert } from '../helpers/clients';
import { freePort } from '../helpers/redis';
import { PUBLISH_KEY, testSettings, uniquePrefix } from '../helpers/settings';

interface Node {
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

async function startNode(dir: string): Promise<Node> {
  const port = await freePort();
  const nodeDir = path.join(dir, String(port));
  fs.mkdirSync(nodeDir);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--save', '', '--appendonly', 'no', '--dir', nodeDir], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await eventually(() => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', 10_000, 50);
  return { port, child, exited };
}

describe('Redis Cluster', () => {
  let dir: string;
  const nodes: Node[] = [];
  const services: Service[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-cluster-'));
    for (let i = 0; i < 3; i++) nodes.push(await startNode(dir));
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`cluster create failed: ${created.stdout} ${created.stderr}`);
    for (const n of nodes) {
      await eventually(() => /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout), 20_000, 100);
    }
  });
  afterAll(async () => {
    for (const s of services) await s.stop();
    for (const n of nodes) {
      n.child.kill('SIGKILL');
      await n.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const env = (prefix: string) => ({ REDIS_URL: '', REDIS_CLUSTER_NODES: nodes.map((n) => `127.0.0.1:${n.port}`).join(','), FLASHWIRE_PREFIX: prefix });

  it('refuses a prefix without a hash tag, naming the fix', () => {
    expect(hasHashTag('{fw}')).toBe(true);
    expect(hasHashTag('fw:{eu}')).toBe(true);
    expect(hasHashTag('fw')).toBe(false);
    expect(hasHashTag('{}fw')).toBe(false);
    expect(() => topologyFromSettings(testSettings('redis://unused', env('fw')))).toThrow(/FLASHWIRE_PREFIX to be a hash tag such as \{fw\}/);
    expect(() => topologyFromSettings(testSettings('redis://127.0.0.1:1', { ...env('{fw}'), REDIS_URL: 'redis://127.0.0.1:1' }))).toThrow(/set only one of/);
  });

  it('runs every role on the cluster: accepts, queues (BullMQ), appends once, delivers, corrects and retracts', async () => {
    const prefix = `{${uniquePrefix()}}`;
    const settings = testSettings('redis://unused', env(prefix));
    const target = topologyFromSettings(settings)!;
    expect('cluster' in target).toBe(true);
    // Two processes' worth of roles, each with its own connections, to exercise more than one client.
    const api = new Service({ settings: { ...settings, FLASHWIRE_ROLES: ['api', 'worker'] }, log: createLogger('silent'), redis: target });
    await api.start();
    services.push(api);
    const gw = new Service({ settings: { ...settings, FLASHWIRE_ROLES: ['gateway'] }, log: createLogger('silent'), redis: target });
    await gw.start();
    services.push(gw);
    const url = `http://127.0.0.1:${api.port}`;

    const reader = await openReader(`ws://127.0.0.1:${gw.port}`, { topics: 'world' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await postAlert(url, { headline: `cluster ${i}`, topics: ['world'] });
      expect(r.status).toBe(202);
      ids.push(r.body.id);
    }
    await reader.waitForCount('alert', 5, 15_000);
    expect(reader.ofType('alert').map((f) => f.alert.id)).toEqual(ids);

    const headers = { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' };
    expect((await fetch(`${url}/v1/alerts/${ids[0]}`, { method: 'PATCH', headers, body: JSON.stringify({ headline: 'cluster 0, corrected' }) })).status).toBe(200);
    expect((await fetch(`${url}/v1/alerts/${ids[1]}/retract`, { method: 'POST', headers, body: JSON.stringify({ reason: 'test' }) })).status).toBe(200);
    await reader.waitFor((f) => f.type === 'update' && f.alert.id === ids[0]);
    await reader.waitFor((f) => f.type === 'retract' && f.id === ids[1]);
    await eventually(async () => (await getJson(`${url}/v1/alerts/${ids[2]}`)).body.status === 'sent');

    // Every key, Flashwire's and BullMQ's, sits on the one node that owns the prefix's slot.
    const perNode = await Promise.all(
      nodes.map(async (n) => {
        const c = new IORedis({ port: n.port, host: '127.0.0.1' });
        const keys = await c.keys(`${prefix}*`);
        c.disconnect();
        return keys;
      }),
    );
    const holding = perNode.filter((k) => k.length > 0);
    expect(holding).toHaveLength(1);
    expect(holding[0]!.some((k) => k.startsWith(`${prefix}:bull:alerts:`))).toBe(true);
    expect(holding[0]).toContain(`${prefix}:feed`);
    reader.close();

    // The CLI reaches the cluster the same way: an admin key it makes opens the dashboard.
    const cli = spawnSync(process.execPath, [path.resolve(__dirname, '../../dist/src/cli/main.js'), 'keys', 'create', '--name', 'ops', '--scopes', 'admin', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, ...env(prefix) },
    });
    expect(cli.stderr).toBe('');
    const { secret } = JSON.parse(cli.stdout) as { secret: string };
    expect((await fetch(`${url}/admin/queues`, { headers: { Authorization: `Bearer ${secret}` } })).status).toBe(200);
  });
});
