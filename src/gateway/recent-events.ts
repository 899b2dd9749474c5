/**
 * The recent events this gateway has tailed, kept in memory in feed order.
 * A resuming reader whose cursor falls inside the window is served from
 * here, so a reconnect storm does not become a storm of Redis range reads.
 */
import { compareEventIds } from '../feed/event-id';
import type { FeedEvent } from '../feed/feed-event';

export class RecentEvents {
  private readonly ring: (FeedEvent | undefined)[];
  private start = 0;
  private size = 0;
  /**
   * Every event after `floor` and up to the newest is held here. It starts
   * at the tail's starting position and moves up as old events fall out.
   */
  private floor: string;

  constructor(
    private readonly capacity: number,
    startPosition: string,
  ) {
    this.ring = new Array(Math.max(capacity, 0));
    this.floor = startPosition;
  }

  push(e: FeedEvent): void {
    if (this.capacity === 0) {
      this.floor = e.eventId;
      return;
    }
    if (this.size === this.capacity) {
      this.floor = (this.ring[this.start] as FeedEvent).eventId;
      this.ring[this.start] = e;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.ring[(this.start + this.size) % this.capacity] = e;
      this.size++;
    }
  }

  /** True when every event after `since` up to the newest tailed is held here. */
  covers(since: string): boolean {
    return compareEventIds(since, this.floor) >= 0;
  }

  /** Events after `since` (which must be covered), oldest first. */
  after(since: string): FeedEvent[] {
    const out: FeedEvent[] = [];
    // Binary search for the first event after `since`.
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEventIds(this.at(mid).eventId, since) <= 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.size; i++) out.push(this.at(i));
    return out;
  }

  get length(): number {
    return this.size;
  }

  private at(i: number): FeedEvent {
    return this.ring[(this.start + i) % this.capacity] as FeedEvent;
  }
}
