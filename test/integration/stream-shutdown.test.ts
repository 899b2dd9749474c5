/**
 * SIGTERM on a gateway process: its readers get 1001, the process exits
 * cleanly within its grace period, and readers that resume on another
 * gateway with `since` lose nothing and see nothing twice.
 */
import { openReader, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { childEnv, spawnService, startService, type ChildService } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';
import { publishContinuously, STREAM_ENV } from './stream-helpers';

const events = (frames: any[]) => frames.filter((f) => f.type === 'alert');

describe('graceful shutdown of a gateway', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let publisher: Awaited<ReturnType<typeof startService>>;
  const children: ChildService[] = [];
  const prefix = uniquePrefix();
  beforeAll(async () => {
    redis = await startRedis();
    publisher = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api,worker' });
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await publisher?.stop();
    await redis?.cleanup();
  });

  it('closes readers with 1001 on SIGTERM, exits within the grace period, and readers resume on a second gateway without loss', async () => {
    const env = childEnv(redis.url, prefix, { FLASHWIRE_ROLES: 'gateway', FLASHWIRE_SHUTDOWN_GRACE_MS: '3000' });
    const [gw1, gw2] = await Promise.all([spawnService(env), spawnService(env)]);
    children.push(gw1, gw2);

    const control = await openReader(gw2.wsUrl, { topics: 'shutdown' });
    // Each reader keeps every frame across its connections and reconnects to gw2 the moment gw1 lets it go.
    const readers = await Promise.all(
      [1, 2, 3].map(async () => {
        const first = await openReader(gw1.wsUrl, { topics: 'shutdown' });
        const state = { connections: [first] as TestReader[], closeCode: 0, resumed: undefined as Promise<TestReader> | undefined };
        state.resumed = first.closed.then(async (c) => {
          state.closeCode = c.code;
          const since = events(first.frames).at(-1)?.eventId ?? '0-0';
          const next = await openReader(gw2.wsUrl, { topics: 'shutdown', since });
          state.connections.push(next);
          return next;
        });
        return state;
      }),
    );

    const pub = publishContinuously(publisher.url, ['shutdown'], 5);
    await Promise.all(readers.map((r) => r.connections[0]!.waitFor(() => events(r.connections[0]!.frames).length >= 5, 15_000)));
    const exitCode = gw1.kill('SIGTERM');
    await Promise.all(readers.map((r) => r.resumed));
    // Exit code 0: stopped before its own deadline (grace period + 2 s), which exits 1.
    expect(await exitCode).toBe(0);
    expect(gw1.logs.some((l) => l.msg === 'flashwire stopped')).toBe(true);
    for (const r of readers) expect(r.closeCode).toBe(1001);

    // Alerts keep flowing on the second gateway for a while.
    const countAtSwitch = pub.ids.length;
    await control.waitFor(() => events(control.frames).length >= countAtSwitch + 10, 15_000);
    await pub.stop();
    const last = pub.ids.at(-1);
    await control.waitFor((f) => f.type === 'alert' && f.alert.id === last, 15_000);

    const truth = events(control.frames).map((f) => f.eventId);
    expect(events(control.frames).map((f) => f.alert.id)).toEqual(pub.ids);
    for (const r of readers) {
      const resumed = r.connections[1]!;
      await resumed.waitFor((f) => f.type === 'alert' && f.alert.id === last, 15_000);
      expect(resumed.frames[0]).toMatchObject({ type: 'welcome', resumed: true });
      expect(events(r.connections[0]!.frames).length).toBeGreaterThanOrEqual(5);
      const seen = r.connections.flatMap((c) => events(c.frames).map((f) => f.eventId));
      expect(seen).toEqual(truth);
      resumed.close();
    }
    control.close();
  });
});
