/**
 * What every fault test shares: a real AOF redis-server (fsync always),
 * readers that resume with `since` as SPEC.md asks of clients, and the
 * closing count — every accepted alert in the feed once, every reader
 * holding every event for its topics once, in order.
 */
import IORedis from 'ioredis';
import { feedHead, formatTally, settle, tally, type Tally } from '../helpers/ledger';
import { ResumingReader } from '../helpers/resuming-reader';
import { startRedis } from '../helpers/redis';
import { childEnv } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

export { ResumingReader };

// Each fault test starts several processes and waits out lock expiries; on a
// loaded 2-core machine that can pass the 60 s default without anything wrong.
jest.setTimeout(120_000);
export type FaultRedis = Awaited<ReturnType<typeof startRedis>>;

export function faultRedis(): Promise<FaultRedis> {
  return startRedis({ appendfsync: 'always' });
}

/** Env for one run's roles: own prefix, publish limit out of the way. */
export function roleEnv(redisUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return childEnv(redisUrl, prefix, { FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '1000000', FLASHWIRE_SHUTDOWN_GRACE_MS: '1000', ...extra });
}

export { uniquePrefix };

/** Subscriptions of the readers each test opens: exact, parent and every public topic. */
export const READER_TOPICS = [['world'], ['europe'], ['europe/ukraine'], ['*'], ['sport', 'tech']];

export async function openReaders(client: IORedis, prefix: string, pickUrl: (reader: number, attempt: number) => string, topics = READER_TOPICS): Promise<ResumingReader[]> {
  const since = await feedHead(client, prefix);
  const readers = topics.map((t, i) => new ResumingReader({ topics: t, since, pickUrl: (attempt) => pickUrl(i, attempt) }));
  await Promise.all(readers.map((r) => r.start()));
  return readers;
}

/** Waits for delivery to settle, then counts; the test asserts on the result. */
export async function settleAndCount(client: IORedis, prefix: string, readers: ResumingReader[], accepted: string[], timeoutMs = 30_000): Promise<Tally> {
  const feed = await settle(client, prefix, readers, accepted, timeoutMs);
  const t = tally(accepted, feed, readers);
  if (t.lost || t.duplicated || t.disorder) console.error(`${formatTally(t)}\n${t.problems.join('\n')}`);
  return t;
}

/** The guarantee, as one assertion with a readable failure. */
export function expectClean(t: Tally, accepted: number): void {
  expect({ lost: t.lost, duplicated: t.duplicated, disorder: t.disorder, problems: t.problems }).toEqual({ lost: 0, duplicated: 0, disorder: 0, problems: [] });
  expect(t.accepted).toBe(accepted);
  expect(t.inFeed).toBe(accepted);
  expect(t.delivered).toBe(t.owed);
}

export function stopAll(readers: ResumingReader[]): void {
  for (const r of readers) r.stop();
}
