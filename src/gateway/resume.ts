/**
 * Resume: deciding whether a reader's `since` can be honoured, and replaying
 * what it missed — from this gateway's memory when the cursor is recent,
 * from the feed in Redis otherwise.
 */
import { compareEventIds, isEventId } from '../feed/event-id';
import type { FeedEvent } from '../feed/feed-event';
import type { FeedReader } from '../feed/feed-reader';
import type { Reader } from './reader';
import type { RecentEvents } from './recent-events';

export interface ResumeSource {
  recent: RecentEvents;
  feed: FeedReader;
  /** The last event the gateway's tail has handed on. */
  tailPosition(): string;
}

export type ResyncReason = 'invalid_since' | 'trimmed' | 'unknown_since';

export type ResumePlan =
  | { ok: true; cached: FeedEvent[] | undefined }
  | { ok: false; reason: ResyncReason };

/** Decides how to serve `since`; Redis is asked only when memory cannot answer. */
export async function planResume(since: string, src: ResumeSource): Promise<ResumePlan> {
  if (!isEventId(since)) return { ok: false, reason: 'invalid_since' };
  const tailPos = src.tailPosition();
  if (compareEventIds(since, tailPos) <= 0 && src.recent.covers(since)) {
    return { ok: true, cached: src.recent.after(since) };
  }
  if (compareEventIds(since, tailPos) > 0 && compareEventIds(since, await src.feed.lastId()) > 0) {
    // A cursor from the future: the feed it came from is not this one.
    return { ok: false, reason: 'unknown_since' };
  }
  if (await src.feed.isTrimmedAfter(since)) return { ok: false, reason: 'trimmed' };
  return { ok: true, cached: undefined };
}

export interface ReplayOptions {
  /** Events per Redis read and per write burst. */
  pageSize: number;
  /** Replay waits for the socket to drain below this before each burst. */
  drainBelowBytes: number;
  /** When (ms since the epoch) a replay not yet done is given up: the reader is closed with 4008. */
  deadline?: number;
}

/**
 * Waits for the reader's socket to drain before the next burst; false (and
 * the reader cut off with 4008) when the replay's deadline passes first, so
 * a reader that never reads cannot hold a replay, and what it pins, forever.
 */
async function readyForMore(reader: Reader, o: ReplayOptions): Promise<boolean> {
  if (o.deadline === undefined) {
    await reader.transport.drainedBelow(o.drainBelowBytes);
    return !reader.closed;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((r) => (timer = setTimeout(r, Math.max(o.deadline! - Date.now(), 0))));
  await Promise.race([reader.transport.drainedBelow(o.drainBelowBytes), late]);
  clearTimeout(timer);
  if (reader.closed) return false;
  if (Date.now() >= o.deadline) {
    reader.cutOff('resume took too long: resume with since');
    return false;
  }
  return true;
}

/** Writes what the reader missed after `since`; stops early if it closes. */
async function replay(reader: Reader, since: string, plan: Extract<ResumePlan, { ok: true }>, src: ResumeSource, o: ReplayOptions): Promise<void> {
  if (plan.cached) {
    for (let i = 0; i < plan.cached.length; i += o.pageSize) {
      if (!(await readyForMore(reader, o))) return;
      if (!reader.replay(plan.cached.slice(i, i + o.pageSize), Date.now())) return;
    }
    return;
  }
  let cursor = since;
  for (;;) {
    if (!(await readyForMore(reader, o))) return;
    const page = await src.feed.after(cursor, o.pageSize);
    if (page.length === 0) return;
    if (!reader.replay(page, Date.now())) return;
    cursor = (page[page.length - 1] as FeedEvent).eventId;
    // Once Redis has caught up with what the tail has seen, live delivery
    // (held in the reader's pending buffer) covers the rest.
    if (page.length < o.pageSize || compareEventIds(cursor, src.tailPosition()) >= 0) return;
  }
}

export interface ResumeOptions extends Omit<ReplayOptions, 'deadline'> {
  /** How long the replay may take once planned; then the reader is cut off (4008). */
  timeLimitMs?: number;
}

/**
 * Brings a reader registered in the hub from `since` to live: live events
 * are held from now, the plan is made (and handed to `onPlanned`, which
 * writes the welcome), then either what it missed is replayed, or it is told
 * to resync and carries on from the tail's position as it was when it was
 * registered; either way the held live events follow, each event once.
 * Rejects when the feed cannot be read: the caller closes the reader then.
 */
export async function resume(reader: Reader, since: string, src: ResumeSource, o: ResumeOptions, onPlanned: (plan: ResumePlan) => void): Promise<ResumePlan> {
  // Live events dispatched from here on all follow this position.
  const livePosition = src.tailPosition();
  reader.beginReplay(isEventId(since) ? since : livePosition);
  const plan = await planResume(since, src);
  onPlanned(plan);
  if (plan.ok) {
    const deadline = o.timeLimitMs === undefined ? undefined : Date.now() + o.timeLimitMs;
    await replay(reader, since, plan, src, { pageSize: o.pageSize, drainBelowBytes: o.drainBelowBytes, deadline });
  } else {
    reader.resync(plan.reason, livePosition);
  }
  reader.endReplay();
  return plan;
}
