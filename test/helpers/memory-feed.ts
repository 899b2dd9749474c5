/**
 * An in-memory feed for unit tests: the same entries the append scripts
 * write (laid out by toEntry, read back by parseEntry), ordered ids, and
 * retention that removes the oldest entries. It counts its reads, so a test
 * can tell that an answer came from the gateway's memory and not the feed.
 */
import { alertEvent, retractEvent, type EventDraft } from '../../src/feed/frame-text';
import { compareEventIds, ZERO_EVENT_ID } from '../../src/feed/event-id';
import { ENTRY_FIELDS, parseEntry, toEntry, type EntrySubject, type FeedEvent } from '../../src/feed/feed-event';
import type { FeedReader } from '../../src/feed/feed-reader';

type Entry = [string, string[]];

export class MemoryFeed implements FeedReader {
  private entries: Entry[] = [];
  /** The newest id retention has removed: everything up to it is gone. */
  private removedThrough = ZERO_EVENT_ID;
  private ms = 1_000;
  /** Calls to the FeedReader methods, by name. */
  readonly reads = { after: 0, lastId: 0, isTrimmedAfter: 0 };
  /** Runs after each `after` read is answered: lets a test append live events mid-replay. */
  onAfter: ((events: FeedEvent[]) => void) | undefined;

  /** Appends an event with the next id (a new millisecond each) and returns it as readers see it. */
  append(event: EventDraft, subject: EntrySubject): FeedEvent {
    const id = `${this.ms++}-0`;
    const values = toEntry(event, subject);
    const fields = ENTRY_FIELDS.flatMap((f) => [f, values[f]]);
    this.entries.push([id, fields]);
    return parseEntry(id, fields) as FeedEvent;
  }

  /** An `alert` event on `topics`. */
  alert(alertId: string, topics: string[] = ['world'], expiresAt?: string): FeedEvent {
    return this.append(alertEvent('alert', { id: alertId, headline: `headline ${alertId}`, topics, priority: 'flash', createdAt: '2024-01-01T00:00:00.000Z' }), { id: alertId, topics, expiresAt });
  }

  /** A `retract` event. */
  retract(alertId: string, reason: string, topics: string[] = ['world']): FeedEvent {
    return this.append(retractEvent(alertId, reason), { id: alertId, topics });
  }

  /** Retention: removes the oldest entries until `keep` remain. */
  trimTo(keep: number): void {
    const removed = this.entries.splice(0, Math.max(this.entries.length - keep, 0));
    const last = removed[removed.length - 1];
    if (last) this.removedThrough = last[0];
  }

  async after(after: string, count: number): Promise<FeedEvent[]> {
    this.reads.after++;
    const out: FeedEvent[] = [];
    for (const [id, fields] of this.entries) {
      if (out.length >= count) break;
      if (compareEventIds(id, after) <= 0) continue;
      const e = parseEntry(id, fields);
      if (e) out.push(e);
    }
    this.onAfter?.(out);
    return out;
  }

  async lastId(): Promise<string> {
    this.reads.lastId++;
    return this.entries[this.entries.length - 1]?.[0] ?? ZERO_EVENT_ID;
  }

  /** Exact, where Redis is conservative at the boundary: lost only if something after `since` was removed. */
  async isTrimmedAfter(since: string): Promise<boolean> {
    this.reads.isTrimmedAfter++;
    return compareEventIds(since, this.removedThrough) < 0;
  }

  /** Every event held, oldest first (no read counted). */
  events(): FeedEvent[] {
    return this.entries.map(([id, fields]) => parseEntry(id, fields) as FeedEvent);
  }

  get totalReads(): number {
    return this.reads.after + this.reads.lastId + this.reads.isTrimmedAfter;
  }
}
