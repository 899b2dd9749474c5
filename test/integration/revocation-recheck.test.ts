/**
 * Revocation that cannot be missed: a key revoked while a gateway's pub/sub
 * link is down (the announcement is lost: pub/sub keeps nothing) still
 * closes its readers with 4001, when the link comes back and, even while it
 * stays down, at the next periodic re-check (FLASHWIRE_KEY_RECHECK_MS).
 *
 * The service reaches Redis through a small TCP proxy, so the test can cut
 * the gateway's pub/sub connection alone and hold its reconnect attempts
 * until it chooses to let them through.
 */
import net from 'node:net';
import IORedis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { Keys } from '../../src/redis/keys';
import { eventually, openReader, postAlert, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';

/** Forwards to Redis; can cut one connection and hold new ones until released. */
class LinkProxy {
  private readonly server = net.createServer((c) => this.accept(c));
  private readonly sockets = new Set<net.Socket>();
  /** Client sockets by the local port of their upstream connection (what Redis sees as `addr`). */
  private readonly byUpstreamPort = new Map<number, net.Socket>();
  private holding = false;
  readonly held: net.Socket[] = [];
  port = 0;

  constructor(private readonly redisPort: number) {}

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private accept(client: net.Socket): void {
    this.track(client);
    if (this.holding) {
      client.pause();
      this.held.push(client);
      return;
    }
    this.forward(client);
  }

  private forward(client: net.Socket): void {
    const upstream = net.connect(this.redisPort, '127.0.0.1');
    this.track(upstream);
    upstream.on('connect', () => this.byUpstreamPort.set(upstream.localPort!, client));
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => this.sockets.delete(s));
  }

  /** Cuts the connection Redis knows by `upstreamPort`, and holds every new one. */
  cut(upstreamPort: number): void {
    this.holding = true;
    const client = this.byUpstreamPort.get(upstreamPort);
    if (!client) throw new Error(`no proxied connection from port ${upstreamPort}`);
    client.destroy();
  }

  /** Lets held and later connections through. */
  release(): void {
    this.holding = false;
    for (const c of this.held.splice(0)) if (!c.destroyed) this.forward(c);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** The `addr` port of the gateway's pub/sub connection, as Redis lists it; undefined when it has none. */
async function pubSubPort(admin: IORedis): Promise<number | undefined> {
  const list = (await admin.client('LIST')) as string;
  const line = list.split('\n').find((l) => / name=flashwire:revocations /.test(l) && / sub=1 /.test(l));
  const m = line ? / addr=[^ ]+:(\d+) /.exec(line) : null;
  return m ? Number(m[1]) : undefined;
}

function closedWithin(r: TestReader, ms: number): Promise<{ code: number; reason: string } | 'still open'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    r.closed,
    new Promise<'still open'>((resolve) => {
      timer = setTimeout(() => resolve('still open'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('key revocation while the pub/sub link is down', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let admin: IORedis;
  beforeAll(async () => {
    redis = await startRedis();
    admin = new IORedis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.cleanup();
  });

  async function setUp(recheckMs: string) {
    const proxy = new LinkProxy(Number(new URL(redis.url).port));
    await proxy.start();
    const svc = await startService(proxy.url, { FLASHWIRE_KEY_RECHECK_MS: recheckMs });
    const store = new ApiKeyStore(admin, new Keys(svc.prefix));
    const revoked = (await store.create('revoked-backend', ['subscribe'])).secret;
    const kept = (await store.create('kept-backend', ['subscribe'])).secret;
    const revokedReader = await openReader(svc.wsUrl, { topics: 'world' }, { headers: { Authorization: `Bearer ${revoked}` } });
    const keptReader = await openReader(svc.wsUrl, { topics: 'world' }, { headers: { Authorization: `Bearer ${kept}` } });

    // Cut the gateway's pub/sub link, hold its reconnects, and wait until
    // Redis no longer has it subscribed: a revocation now reaches nobody.
    const port = await eventually(() => pubSubPort(admin));
    proxy.cut(port);
    await eventually(async () => (await pubSubPort(admin)) === undefined);
    expect(await store.revoke('revoked-backend')).toBe(true);
    if (Number(recheckMs) >= 3_600_000) {
      // With no periodic re-check due, the lost announcement leaves the reader served.
      const marker = await postAlert(svc.url, { headline: 'after the revocation', topics: ['world'] });
      await revokedReader.waitFor((f) => f.type === 'alert' && f.alert.id === marker.body.id, 20_000);
      expect(revokedReader.ws.readyState).toBe(revokedReader.ws.OPEN);
    }
    const done = async () => {
      keptReader.close();
      await svc.stop();
      await proxy.close();
    };
    return { proxy, svc, revokedReader, keptReader, done };
  }

  it('closes the readers of a key revoked meanwhile with 4001 once the link comes back', async () => {
    // The periodic re-check is out of the way: only the reconnect can catch it.
    const t = await setUp('3600000');
    try {
      t.proxy.release();
      expect(await closedWithin(t.revokedReader, 20_000)).toMatchObject({ code: 4001 });
      await eventually(async () => (await pubSubPort(admin)) !== undefined);
      // Readers of other keys are untouched.
      const later = await postAlert(t.svc.url, { headline: 'still served', topics: ['world'] });
      await t.keptReader.waitFor((f) => f.type === 'alert' && f.alert.id === later.body.id, 20_000);
      expect(t.keptReader.ws.readyState).toBe(t.keptReader.ws.OPEN);
    } finally {
      await t.done();
    }
  });

  it('closes them at the next periodic re-check, even while the link stays down', async () => {
    const t = await setUp('300');
    try {
      expect(await closedWithin(t.revokedReader, 20_000)).toMatchObject({ code: 4001 });
      // The link is still held down: this was the periodic re-check.
      expect(await pubSubPort(admin)).toBeUndefined();
      expect(t.proxy.held.length).toBeGreaterThan(0);
      const later = await postAlert(t.svc.url, { headline: 'still served', topics: ['world'] });
      await t.keptReader.waitFor((f) => f.type === 'alert' && f.alert.id === later.body.id, 20_000);
    } finally {
      t.proxy.release();
      await t.done();
    }
  });
});
