/**
 * GET /v1/feed: polling catch-up. The same frames the stream sends, oldest
 * first, after a cursor, for the topics asked (`*` when none), without
 * expired alerts or their events.
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

export const FEED_LIMIT = { min: 1, max: 500, default: 100 } as const;
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
}

function parseQuery(req: Request): FeedQuery {
  const errors: FieldError[] = [];
  const topics = parseTopicList(queryString(req.query.topics));
  for (const t of topics) if (!isValidSubscription(t)) errors.push({ path: 'topics', message: `"${t.slice(0, 64)}" is not a valid topic (lowercase words separated by "/", or "*")` });
  const rawAfter = queryString(req.query.after);
  const after = rawAfter === undefined || rawAfter === '' ? ZERO_EVENT_ID : rawAfter;
  if (!isEventId(after)) errors.push({ path: 'after', message: 'must be an eventId like 1714000000000-0, as returned in next' });
  const rawLimit = queryString(req.query.limit);
  let limit: number = FEED_LIMIT.default;
  if (rawLimit !== undefined) {
    limit = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= FEED_LIMIT.min && limit <= FEED_LIMIT.max)) errors.push({ path: 'limit', message: `must be a whole number from ${FEED_LIMIT.min} to ${FEED_LIMIT.max}` });
  }
  if (errors.length) throw new ApiError('validation_failed', `invalid ${[...new Set(errors.map((e) => e.path))].join(', ')}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
  return { topics, after, limit };
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
