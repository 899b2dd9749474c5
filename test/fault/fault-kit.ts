/**
 * What every fault test sets up and tears down, once: a private AOF
 * redis-server (fsync always) and an observer connection to it, a key
 * prefix, role processes, readers that resume with `since` as the contract asks
 * of clients, posters; then the closing count — every accepted alert in the
 * feed once, every reader holding every event for its topics once, in order.
 *
 * A rig belongs to one test (or one describe's fixture): nothing in it is
 * shared with another test, and close() stops every process, socket and
 * timer it started, whatever state the test left them in.
 */
import IORedis from 'ioredis';
import { compareEventIds } from '../../src/feed/event-id';
import { eventually } from '../helpers/clients';
import { feedHead, formatTally, readFeed, settle, tally, type Tally } from '../helpers/ledger';
import { Poster } from '../helpers/poster';
import { startRedis, type PrivateRedis } from '../helpers/redis';
import { ResumingReader } from '../helpers/resuming-reader';
import { roleEnv } from '../helpers/roles';
import { PUBLISH_KEY, spawnService, type ChildService } from '../helpers/service';
import { testEnv, uniquePrefix } from '../helpers/settings';

export { PUBLISH_KEY, ResumingReader, type ChildService, type Poster, type Tally };

// Each fault test starts several processes and waits out lock expiries; on a
// loaded 2-core machine that can pass the 60 s default without anything wrong.
jest.setTimeout(120_000);

/** Subscriptions of the readers each test opens: exact, parent and every public topic. */
export const READER_TOPICS = [['world'], ['europe'], ['europe/ukraine'], ['*'], ['sport', 'tech']];

export interface SettleOptions {
  timeoutMs?: number;
  /**
   * An API to post a marker alert through once delivery has settled. The
   * feed is ordered, so once every reader holds the marker nothing earlier
   * can still arrive: the count is final, late duplicates included.
   */
  markerVia?: string;
}

export interface FaultRig {
  redis: PrivateRedis;
  /** The test's own view of Redis; waits across a restart instead of failing. */
  client: IORedis;
  prefix: string;
  /** Spawns a role process under the rig's prefix (through `redisUrl`, by default the rig's Redis); killed at close. */
  spawn(extra?: Record<string, string>, redisUrl?: string): Promise<ChildService>;
  /** Opens resuming readers from the feed's head now; stopped at close. */
  readers(pickUrl: (reader: number, attempt: number) => string, topics?: string[][]): Promise<ResumingReader[]>;
  /** A newsroom posting through `apiUrl()`; stopped at close. */
  poster(apiUrl: () => string, label: string): Poster;
  /** Runs `fn` at close, after the processes are gone (last registered first). */
  onClose(fn: () => unknown): void;
  /** Waits for delivery to settle, then counts; the test asserts on the result. */
  settle(readers: ResumingReader[], accepted: string[], options?: SettleOptions): Promise<Tally & { marker?: string }>;
  close(): Promise<void>;
}

/** Env for one run's roles: test settings, the rig's prefix, the publish limit out of the way. */
function faultEnv(redisUrl: string, prefix: string, extra: Record<string, string>): Record<string, string> {
  return { ...testEnv(redisUrl, { FLASHWIRE_LOG_LEVEL: 'info' }), ...roleEnv(redisUrl, prefix, PUBLISH_KEY), ...extra };
}

/** One topic from each reader's subscriptions, so one alert reaches them all. */
function topicsReaching(readers: ResumingReader[]): string[] {
  return [...new Set(readers.map((r) => (r.opts.topics[0] === '*' ? 'world' : r.opts.topics[0]!)))];
}

export async function startFaultRig(): Promise<FaultRig> {
  const redis = await startRedis({ appendfsync: 'always' });
  const client = new IORedis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
  client.on('error', () => undefined);
  const prefix = uniquePrefix();
  const procs: ChildService[] = [];
  const readers: ResumingReader[] = [];
  const posters: Poster[] = [];
  const closers: (() => unknown)[] = [];
  let closing: Promise<void> | undefined;

  const rig: FaultRig = {
    redis,
    client,
    prefix,
    async spawn(extra = {}, redisUrl = redis.url) {
      const p = await spawnService(faultEnv(redisUrl, prefix, extra));
      procs.push(p);
      return p;
    },
    async readers(pickUrl, topics = READER_TOPICS) {
      const since = await feedHead(client, prefix);
      const opened = topics.map((t, i) => new ResumingReader({ topics: t, since, pickUrl: (attempt) => pickUrl(i, attempt) }));
      readers.push(...opened);
      await Promise.all(opened.map((r) => r.start()));
      return opened;
    },
    poster(apiUrl, label) {
      const p = new Poster(apiUrl, PUBLISH_KEY, label);
      posters.push(p);
      return p;
    },
    onClose(fn) {
      closers.push(fn);
    },
    async settle(rs, accepted, options = {}) {
      let feed = await settle(client, prefix, rs, accepted, options.timeoutMs ?? 30_000);
      let marker: string | undefined;
      if (options.markerVia !== undefined && rs.length > 0) {
        const via = options.markerVia;
        const markers = rig.poster(() => via, 'marker');
        const topics = topicsReaching(rs);
        // A role that is still healing may answer 503 for a moment.
        const deadline = Date.now() + 30_000;
        while (marker === undefined) {
          const out = await markers.postOne(topics);
          if (out.status === 202) marker = out.id;
          else if (Date.now() > deadline) throw new Error(`the marker alert was not accepted: ${JSON.stringify(markers.counts())}`);
          else await new Promise((r) => setTimeout(r, 200));
        }
        await Promise.all(rs.map((r) => r.until(() => r.received.some((x) => x.alertId === marker), 30_000)));
        const from = rs.reduce((min, r) => (compareEventIds(r.opts.since, min) < 0 ? r.opts.since : min), rs[0]!.opts.since);
        feed = await readFeed(client, prefix, from);
      }
      const t = tally(accepted, feed, rs);
      if (t.lost || t.duplicated || t.disorder) console.error(`${formatTally(t)}\n${t.problems.join('\n')}`);
      return marker === undefined ? t : { ...t, marker };
    },
    close() {
      closing ??= (async () => {
        const guard = (p: Promise<unknown>) => p.catch((err: unknown) => console.error('fault rig close:', err));
        await Promise.all(posters.map((p) => guard(p.stop())));
        await Promise.all(readers.map((r) => guard(r.stop())));
        await Promise.all(procs.map((p) => guard(p.kill('SIGKILL'))));
        for (const fn of closers.reverse()) await guard(Promise.resolve().then(fn));
        client.disconnect();
        await guard(redis.cleanup());
      })();
      return closing;
    },
  };
  return rig;
}

/** Runs `test` with a fresh rig and closes it afterwards, however the test ends. */
export async function withFaultRig<T>(test: (rig: FaultRig) => Promise<T>): Promise<T> {
  const rig = await startFaultRig();
  try {
    return await test(rig);
  } finally {
    await rig.close();
  }
}

/** The guarantee, as one assertion with a readable failure. */
export function expectClean(t: Tally, accepted: number): void {
  expect({ lost: t.lost, duplicated: t.duplicated, disorder: t.disorder, problems: t.problems }).toEqual({ lost: 0, duplicated: 0, disorder: 0, problems: [] });
  expect(t.accepted).toBe(accepted);
  expect(t.inFeed).toBe(accepted);
  expect(t.delivered).toBe(t.owed);
}

/**
 * Runs `abuse` while bystander readers on `svc` get alerts from a bystander
 * newsroom; afterwards every bystander alert must have reached every
 * bystander once, in order, and none of them was disconnected.
 */
export async function whileServingBystanders(rig: FaultRig, svc: ChildService, abuse: () => Promise<void>): Promise<Tally> {
  const readers = await rig.readers(() => svc.wsUrl);
  const bystanders = rig.poster(() => svc.url, 'bystander');
  bystanders.start(100);
  try {
    await abuse();
    // Some bystander alerts however quick the abuse was, so the check below checks something.
    await eventually(() => bystanders.accepted.length >= 3, 20_000);
  } finally {
    await bystanders.stop();
  }
  const t = await rig.settle(readers, bystanders.accepted, { markerVia: svc.url });
  expect({ lost: t.lost, duplicated: t.duplicated, disorder: t.disorder }).toEqual({ lost: 0, duplicated: 0, disorder: 0 });
  expect(t.delivered).toBe(t.owed);
  expect(readers.flatMap((r) => r.closes)).toEqual([]);
  await Promise.all(readers.map((r) => r.stop()));
  return t;
}
