/**
 * GET /v1/feed: polling catch-up. The same frames the stream sends, oldest
 * first, after a cursor, for the topics asked (`*` when none), without
 * expired alerts or their events.
 *
 * `last=N` instead of `after` answers the newest N such events (still oldest
 * first), read backwards from the feed's end, with `next` set to that end:
 * what a page shows on load before it goes live with `since=next`.
 */
import { Router, type Request, type Response } from 'express';
import { anyCovers, isValidSubscription, parseTopicList } from '../../alert/topics';
import { isEventId, ZERO_EVENT_ID } from '../../feed/event-id';
import { Feed } from '../../feed/feed';
import { isExpired, type FeedEvent } from '../../feed/feed-event';
import type { ApiContext } from '../context';
import { ApiError, type FieldError } from '../errors';
import { countAnonymousFeedRead } from '../rate-limit';
import { mayReadSubscription, readPrincipal } from '../read-access';

const FEED_LIMIT = { min: 1, max: 500, default: 100 } as const;
/**
 * Entries one request may scan. Topics that are rare in a busy feed would
 * otherwise make one poll read the whole stream; past this the answer holds
 * what was found, and `next` points past what was scanned.
 */
const SCAN_BUDGET = 10_000;
/** Entries one anonymous request may read: `next` lets the caller go on. */
export const ANONYMOUS_SCAN_BUDGET = 1_000;

function queryString(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.map(String).join(',') : String(v);
}

interface FeedQuery {
  topics: string[];
  after: string;
  limit: number;
  /** Set for `last=N`: the newest N events instead of those after a cursor. */
  last: number | undefined;
}

function wholeNumber(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  return /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
}

function parseQuery(req: Request): FeedQuery {
  const errors: FieldError[] = [];
  const topics = parseTopicList(queryString(req.query.topics));
  for (const t of topics) if (!isValidSubscription(t)) errors.push({ path: 'topics', message: `"${t.slice(0, 64)}" is not a valid topic (lowercase words separated by "/", or "*")` });
  const rawAfter = queryString(req.query.after);
  const after = rawAfter === undefined || rawAfter === '' ? ZERO_EVENT_ID : rawAfter;
  if (!isEventId(after)) errors.push({ path: 'after', message: 'must be an eventId like 1714000000000-0, as returned in next' });
  const rawLimit = queryString(req.query.limit);
  const limit = wholeNumber(rawLimit, FEED_LIMIT.default);
  if (!(limit >= FEED_LIMIT.min && limit <= FEED_LIMIT.max)) errors.push({ path: 'limit', message: `must be a whole number from ${FEED_LIMIT.min} to ${FEED_LIMIT.max}` });
  const rawLast = queryString(req.query.last);
  let last: number | undefined;
  if (rawLast !== undefined) {
    last = wholeNumber(rawLast, NaN);
    if (!(last >= FEED_LIMIT.min && last <= FEED_LIMIT.max)) errors.push({ path: 'last', message: `must be a whole number from ${FEED_LIMIT.min} to ${FEED_LIMIT.max}` });
    if (rawAfter !== undefined || rawLimit !== undefined) errors.push({ path: 'last', message: 'reads back from the end of the feed: it takes neither after nor limit' });
  }
  if (errors.length) throw new ApiError('validation_failed', `invalid ${[...new Set(errors.map((e) => e.path))].join(', ')}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
  return { topics, after, limit, last };
}

export function feedRouter(ctx: ApiContext): Router {
  const r = Router();
  const feed = new Feed(ctx.redis, ctx.keys);

  r.get('/v1/feed', async (req: Request, res: Response) => {
    const q = parseQuery(req);
    const principal = await readPrincipal(ctx, req);
    if (!principal) await countAnonymousFeedRead(ctx, req);
    const budget = principal ? SCAN_BUDGET : ANONYMOUS_SCAN_BUDGET;
    // Refusing names only the topics asked for, never whether an alert exists.
    const refused = q.topics.filter((t) => !mayReadSubscription(principal, t));
    if (refused.length) {
      if (!principal) throw new ApiError('unauthorized', `${refused.join(', ')} need a subscriber token or a subscribe key as "Authorization: Bearer …"`, undefined, { 'WWW-Authenticate': 'Bearer realm="flashwire"' });
      throw new ApiError('forbidden', `this credential does not grant ${refused.join(', ')}`);
    }

    if (q.last !== undefined) {
      const { events, end } = await newest(feed, q.topics, q.last, budget);
      res
        .type('application/json')
        .set('Cache-Control', 'no-store')
        .send(`{"events":[${events.map((e) => e.frame).join(',')}],"next":${JSON.stringify(end ?? null)}}`);
      return;
    }

    const events: FeedEvent[] = [];
    const now = Date.now();
    const page = Math.min(1000, Math.max(q.limit * 2, 100));
    let cursor = q.after;
    let scanned = 0;
    let exhausted = false;
    while (events.length < q.limit && scanned < budget) {
      const want = Math.min(page, budget - scanned);
      const batch = await feed.after(cursor, want);
      for (const e of batch) {
        cursor = e.eventId;
        scanned++;
        if (isExpired(e, now) || !anyCovers(q.topics, e.topics)) continue;
        events.push(e);
        if (events.length === q.limit) break;
      }
      if (batch.length < want) {
        exhausted = events.length < q.limit;
        break;
      }
    }
    const next = events.length ? (events[events.length - 1] as FeedEvent).eventId : exhausted ? null : cursor === q.after ? null : cursor;
    // The frames are already JSON text, exactly as the stream sends them.
    res
      .type('application/json')
      .set('Cache-Control', 'no-store')
      .send(`{"events":[${events.map((e) => e.frame).join(',')}],"next":${JSON.stringify(next)}}`);
  });

  return r;
}

/**
 * The newest `n` events for `topics` (not expired), oldest first, read
 * backwards from the feed's end, and that end: the cursor to carry on from.
 * Scans at most SCAN_BUDGET entries, like a forward read.
 */
async function newest(feed: Feed, topics: readonly string[], n: number, budget: number): Promise<{ events: FeedEvent[]; end: string | undefined }> {
  const found: FeedEvent[] = [];
  const now = Date.now();
  const page = Math.min(1000, Math.max(n * 2, 100));
  let before: string | undefined;
  let end: string | undefined;
  let scanned = 0;
  while (found.length < n && scanned < budget) {
    const want = Math.min(page, budget - scanned);
    const batch = await feed.before(before, want);
    end ??= batch.newest;
    scanned += batch.read;
    for (const e of batch.events) {
      if (isExpired(e, now) || !anyCovers(topics, e.topics)) continue;
      found.push(e);
      if (found.length === n) break;
    }
    if (batch.read < want || batch.lastRead === undefined) break;
    before = batch.lastRead;
  }
  return { events: found.reverse(), end };
}
