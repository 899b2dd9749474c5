/**
 * The count that decides a fault run: what the API accepted (every 202),
 * what entered the feed, and what each reader received, compared against
 * the feed itself. A reader is owed every feed event for its topics after
 * the point it first resumed from, once each, in feed order.
 */
import type { Redis } from 'ioredis';
import { anyCovers } from '../../src/alert/topics';
import { compareEventIds } from '../../src/feed/event-id';
import { parseEntry, type FeedEvent } from '../../src/feed/feed-event';
import { Keys } from '../../src/redis/keys';
import type { ResumingReader } from './resuming-reader';

/** The feed after `after` (exclusive), oldest first. */
export async function readFeed(redis: Redis, prefix: string, after = '0-0'): Promise<FeedEvent[]> {
  const key = new Keys(prefix).feed;
  const out: FeedEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = (await redis.xrange(key, `(${cursor}`, '+', 'COUNT', 1000)) as [string, string[]][];
    for (const [id, fields] of page) {
      const e = parseEntry(id, fields);
      if (e) out.push(e);
    }
    if (page.length < 1000) return out;
    cursor = page[page.length - 1]![0];
  }
}

/** The newest eventId in the feed, or 0-0: where a run's readers start. */
export async function feedHead(redis: Redis, prefix: string): Promise<string> {
  const last = (await redis.xrevrange(new Keys(prefix).feed, '+', '-', 'COUNT', 1)) as [string, string[]][];
  return last[0]?.[0] ?? '0-0';
}

export function owedTo(feed: readonly FeedEvent[], reader: ResumingReader): string[] {
  return feed.filter((e) => compareEventIds(e.eventId, reader.opts.since) > 0 && anyCovers(reader.opts.topics, e.topics)).map((e) => e.eventId);
}

export interface Tally {
  /** 202s the API answered. */
  accepted: number;
  /** Accepted alerts in the feed (once each, or they count below). */
  inFeed: number;
  /** Reader-event pairs owed by the feed. */
  owed: number;
  /** Reader-event pairs received, distinct. */
  delivered: number;
  /** Accepted alerts missing from the feed, plus owed pairs never received. */
  lost: number;
  /** Extra feed entries for one alert, plus pairs received more than once. */
  duplicated: number;
  /** Pairs received out of feed order, resyncs, and events a reader was not owed. */
  disorder: number;
  /** The first few problems, for the failure message. */
  problems: string[];
}

export function tally(accepted: readonly string[], feed: readonly FeedEvent[], readers: readonly ResumingReader[]): Tally {
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  const sends = new Map<string, number>();
  for (const e of feed) if (e.type === 'alert') sends.set(e.alertId, (sends.get(e.alertId) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  let inFeed = 0;
  for (const id of new Set(accepted)) {
    const n = sends.get(id) ?? 0;
    if (n === 0) {
      lost++;
      note(`accepted alert ${id} never entered the feed`);
    } else inFeed++;
    if (n > 1) {
      duplicated += n - 1;
      note(`alert ${id} entered the feed ${n} times`);
    }
  }
  let owedTotal = 0;
  let delivered = 0;
  let disorder = 0;
  readers.forEach((r, i) => {
    const owed = owedTo(feed, r);
    owedTotal += owed.length;
    const got = r.received.map((x) => x.eventId);
    const seen = new Map<string, number>();
    for (const id of got) seen.set(id, (seen.get(id) ?? 0) + 1);
    const owedSet = new Set(owed);
    for (const id of owed) {
      const n = seen.get(id) ?? 0;
      if (n === 0) {
        lost++;
        note(`reader ${i} (${r.opts.topics.join(',')}) never received ${id}`);
      } else delivered++;
      if (n > 1) {
        duplicated += n - 1;
        note(`reader ${i} received ${id} ${n} times`);
      }
    }
    for (const id of seen.keys()) {
      if (!owedSet.has(id)) {
        disorder++;
        note(`reader ${i} received ${id}, which its topics do not cover or the feed does not hold`);
      }
    }
    // Distinct received ids must appear in feed order.
    const firsts = [...seen.keys()];
    for (let k = 1; k < firsts.length; k++) {
      if (compareEventIds(firsts[k - 1]!, firsts[k]!) >= 0) {
        disorder++;
        note(`reader ${i} received ${firsts[k]} after ${firsts[k - 1]}`);
      }
    }
    for (const v of r.violations) {
      if (!v.includes('duplicate or out of order')) disorder++;
      note(`reader ${i}: ${v}`);
    }
  });
  return { accepted: new Set(accepted).size, inFeed, owed: owedTotal, delivered, lost, duplicated, disorder, problems };
}

/** Waits until every reader holds everything the feed owes it (or the time is up). */
export async function settle(redis: Redis, prefix: string, readers: readonly ResumingReader[], accepted: readonly string[], timeoutMs: number): Promise<FeedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  const start = readers.reduce((min, r) => (compareEventIds(r.opts.since, min) < 0 ? r.opts.since : min), readers[0]?.opts.since ?? '0-0');
  for (;;) {
    const feed = await readFeed(redis, prefix, start);
    const sent = new Set(feed.filter((e) => e.type === 'alert').map((e) => e.alertId));
    const allSent = accepted.every((id) => sent.has(id));
    const allHeld = readers.every((r) => {
      const have = new Set(r.received.map((x) => x.eventId));
      return owedTo(feed, r).every((id) => have.has(id));
    });
    if ((allSent && allHeld) || Date.now() > deadline) return feed;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function formatTally(t: Tally): string {
  return `accepted ${t.accepted}, in feed ${t.inFeed}, owed ${t.owed}, delivered ${t.delivered}, lost ${t.lost}, duplicated ${t.duplicated}, disorder ${t.disorder}`;
}
