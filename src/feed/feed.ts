/**
 * The feed: one Redis Stream, the totally ordered log of every alert,
 * update and retraction. Writes go through the Lua scripts (FeedScripts);
 * this class reads it, for the gateway tail, resume and the HTTP poll.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys';
import { compareEventIds, ZERO_EVENT_ID } from './event-id';
import { parseEntry, type FeedEvent } from './feed-event';
import type { FeedReader } from './feed-reader';

type RawEntry = [string, string[]];

/** A blocking read went unanswered past its deadline: the link was dropped. */
export class SilentLinkError extends Error {
  constructor(readonly waitedMs: number) {
    super(`no answer from Redis in ${waitedMs} ms`);
  }
}

const LAST_POSSIBLE_ID = '18446744073709551615-18446744073709551615';

export interface FeedOptions {
  /**
   * For a background tail (web push, webhooks): a blocking read that comes
   * back with events waits until the event loop has polled for I/O once
   * more before it is parsed and handed on. In a process that also runs
   * the API, an append wakes the accept that made it and every tail in the
   * same instant, and a tail's reply handled first would put its work
   * (parsing, a round trip or two) ahead of that accept's 202: about half
   * a millisecond of a 3 ms POST, measured. The gateway's tail does not
   * wait: its readers are the alert's first audience.
   */
  behindIo?: boolean;
}

/**
 * Resolves after the event loop has polled for I/O once more. One
 * setImmediate only waited for the callbacks of the poll that woke the
 * tail, and Redis writes its replies one socket at a time: the tail's
 * reply, written first, often woke the process alone, and the accept's
 * reply came in the next poll, behind the tail's work (two POSTs in three
 * under strace). A second setImmediate, queued from the check phase, runs
 * after the next poll, which does not block while it is queued.
 */
function afterPendingIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

export class Feed implements FeedReader {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly options: FeedOptions = {},
  ) {}

  /** Events strictly after `after` (an eventId), oldest first, at most `count`. */
  async after(after: string, count: number): Promise<FeedEvent[]> {
    // Nothing can follow the largest id, and Redis refuses `(` before it.
    if (after === LAST_POSSIBLE_ID) return [];
    const raw = (await this.redis.xrange(this.keys.feed, `(${after}`, '+', 'COUNT', count)) as RawEntry[];
    return parseEntries(raw);
  }

  /**
   * Reads backwards: entries strictly before `before` (or from the newest
   * when undefined), newest first, at most `count`, with the id of each raw
   * entry read, so a caller can page on past entries it skips.
   */
  async before(before: string | undefined, count: number): Promise<{ events: FeedEvent[]; read: number; lastRead: string | undefined; newest: string | undefined }> {
    if (before === ZERO_EVENT_ID) return { events: [], read: 0, lastRead: undefined, newest: undefined };
    const raw = (await this.redis.xrevrange(this.keys.feed, before === undefined ? '+' : `(${before}`, '-', 'COUNT', count)) as RawEntry[];
    return { events: parseEntries(raw), read: raw.length, lastRead: raw[raw.length - 1]?.[0], newest: raw[0]?.[0] };
  }

  /** The newest event id, or 0-0 when the feed is empty. */
  async lastId(): Promise<string> {
    const raw = (await this.redis.xrevrange(this.keys.feed, '+', '-', 'COUNT', 1)) as RawEntry[];
    return raw[0]?.[0] ?? ZERO_EVENT_ID;
  }

  /**
   * True when events after `since` may have been removed from the feed, so
   * a reader at `since` must resync. XTRIM (how retention removes events)
   * does not move `max-deleted-entry-id` (only XDEL does), so the test is
   * also: something was ever removed, and `since` is older than the oldest
   * event kept. That is conservative at the exact boundary, never silent.
   */
  async isTrimmedAfter(since: string): Promise<boolean> {
    let raw: unknown[];
    try {
      raw = (await this.redis.call('XINFO', 'STREAM', this.keys.feed)) as unknown[];
    } catch (err) {
      if (/no such key/i.test(String(err))) return false;
      throw err;
    }
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < raw.length; i += 2) info.set(String(raw[i]), raw[i + 1]);
    const maxDeleted = String(info.get('max-deleted-entry-id') ?? ZERO_EVENT_ID);
    if (compareEventIds(since, maxDeleted) < 0) return true;
    const length = Number(info.get('length') ?? 0);
    const added = Number(info.get('entries-added') ?? length);
    if (added <= length) return false;
    if (length === 0) return compareEventIds(since, String(info.get('last-generated-id') ?? ZERO_EVENT_ID)) < 0;
    return compareEventIds(since, String(info.get('recorded-first-entry-id'))) < 0;
  }

  /**
   * Blocking read of events after `after` on this (dedicated) connection.
   * Resolves with [] when `blockMs` passes with nothing new.
   */
  async read(after: string, blockMs: number, count: number): Promise<FeedEvent[]> {
    const res = (await this.redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.keys.feed, after)) as
      | [string, RawEntry[]][]
      | null;
    if (!res || !res[0]) return [];
    if (this.options.behindIo) await afterPendingIo();
    return parseEntries(res[0][1]);
  }

  /**
   * `read` with a client-side deadline `graceMs` after the block: a read
   * unanswered by then means the link went half-open (no FIN, no RST: nothing
   * else would ever tell), so the socket is destroyed, ioredis reconnects, and
   * this rejects with SilentLinkError for the caller to read again from its
   * position. Meant for a connection opened for blocking reads ('tail'), where
   * a PING would wait behind the XREAD. `onDrop` runs when a link is dropped.
   */
  readOrDrop(after: string, blockMs: number, count: number, graceMs: number, onDrop?: (waitedMs: number) => void): Promise<FeedEvent[]> {
    const deadlineMs = blockMs + graceMs;
    const read = this.read(after, blockMs, count);
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const deadline = new Promise<never>((_, reject) => {
      const arm = () => {
        timer = setTimeout(() => {
          if (settled || this.redis.status === 'end') return;
          // Not connected: ioredis is already reconnecting, and the read waits
          // in its offline queue; give it another period once connected.
          if (this.redis.status !== 'ready') return arm();
          // Judge after the poll phase: a process too busy to run its timers
          // on time may have the answer read and waiting (timers run before I/O).
          setImmediate(() => {
            if (settled || this.redis.status !== 'ready') return;
            onDrop?.(deadlineMs);
            // Destroy, not end: a FIN into a dead link is never answered. The
            // read in flight fails with the link (maxRetriesPerRequest 0).
            this.redis.stream?.destroy();
            reject(new SilentLinkError(deadlineMs));
          });
        }, deadlineMs);
      };
      arm();
    });
    read.catch(() => undefined);
    deadline.catch(() => undefined);
    return Promise.race([read, deadline]).finally(() => {
      settled = true;
      clearTimeout(timer);
    });
  }
}

function parseEntries(raw: RawEntry[]): FeedEvent[] {
  const out: FeedEvent[] = [];
  for (const [id, fields] of raw) {
    const e = parseEntry(id, fields);
    if (e) out.push(e);
  }
  return out;
}
