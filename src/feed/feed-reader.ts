/**
 * The reads a resuming reader needs from the feed, behind one small
 * interface: the Redis Stream feed implements it, and so can an in-memory
 * log, so resume can be reasoned about (and tested) without Redis.
 */
import type { FeedEvent } from './feed-event';

export interface FeedReader {
  /** Events strictly after `after` (an eventId), oldest first, at most `count`. */
  after(after: string, count: number): Promise<FeedEvent[]>;
  /** The newest event id, or 0-0 when the feed is empty. */
  lastId(): Promise<string>;
  /**
   * True when events after `since` may have been removed (by retention), so
   * a reader at `since` cannot be brought up to date. It may answer true at
   * the exact boundary; it must never answer false when something was lost.
   */
  isTrimmedAfter(since: string): Promise<boolean>;
}
