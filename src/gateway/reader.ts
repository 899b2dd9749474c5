/**
 * One connected reader: its subscriptions, its position in the feed and the
 * seam between replay and live delivery.
 *
 * The seam: a resuming reader is registered in the hub *before* its replay
 * is read, and live events that arrive meanwhile wait in `pending`. Replay
 * then writes every matching event after `since`; finally `pending` is
 * drained. Every write skips events at or below the last one written, so an
 * event seen by both paths goes out once, and none falls between them.
 */
import { anyCovers } from '../alert/topics';
import { compareEventIds, ZERO_EVENT_ID } from '../feed/event-id';
import type { FeedEvent } from '../feed/feed-event';
import { CLOSE, type ServerFrame } from '../protocol/frames';
import type { HubMember } from './hub';
import { TopicSet } from './topic-set';
import type { Transport } from './transport';

export interface ReaderLimits {
  /** Above this many buffered bytes the reader is too slow: closed with 4008. */
  maxBufferedBytes: number;
  /** Live events held during a replay before the reader is judged too slow. */
  maxPendingEvents: number;
}

/**
 * Alert events a reader may acknowledge at once; older unacknowledged ones
 * no longer count. Readers ack as they show an alert, and alerts come a few
 * an hour: a small bound keeps a reader that never acks cheap (~2 KB).
 */
export const ACKABLE_EVENTS = 32;

const ignoreSlow = (): void => undefined;

export class Reader implements HubMember {
  lastDispatch = 0;
  readonly topics = new TopicSet();
  private lastWritten = ZERO_EVENT_ID;
  /**
   * `alert` events written to this reader and not yet acknowledged, as
   * eventId, alertId, eventId, alertId, ... in one flat array: oldest first
   * until it holds ACKABLE_EVENTS, then a ring (see rememberAckable).
   * Every reader that has been sent alerts keeps this between them: a Map
   * of 32 entries held ~1.8 KB, the array ~0.7 KB.
   */
  private ackable: string[] | undefined;
  /** Where the next pair goes in `ackable`; once it is full, the oldest pair's place (a ring). */
  private ackNext = 0;
  private pending: FeedEvent[] | undefined;
  private closedWith: number | undefined;

  constructor(
    readonly id: string,
    readonly transport: Transport,
    /** Shared by a gateway's readers, as is `onSlow`: nothing per reader. */
    private readonly limits: ReaderLimits,
    /** Told when the reader is cut off for being slow, with the bytes it held then (its peak: writes stop here). */
    private readonly onSlow: (reader: Reader, bufferedBytes: number) => void = ignoreSlow,
  ) {}

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** The last event id written to this reader. */
  get position(): string {
    return this.lastWritten;
  }

  /** Called by the hub with live events that match this reader's topics. */
  deliver(event: FeedEvent): void {
    if (this.pending) {
      this.pending.push(event);
      if (this.pending.length > this.limits.maxPendingEvents) this.cutOff();
      return;
    }
    this.write(event);
  }

  /** Holds live events from now until endReplay(); replay starts after `since`. */
  beginReplay(since: string): void {
    this.pending = [];
    this.lastWritten = since;
  }

  /** Writes replayed events that match the reader's topics; false once closed. */
  replay(events: readonly FeedEvent[], now: number): boolean {
    for (const e of events) {
      if (this.closed) return false;
      if (e.expiresAt !== 0 && e.expiresAt <= now) continue;
      if (anyCovers(this.topics, e.topics)) this.write(e);
    }
    return !this.closed;
  }

  /**
   * `since` cannot be honoured: tells the reader (`resync`) and carries on
   * from `livePosition`, the feed's end when the reader was registered, so
   * every later event reaches it, whatever its old cursor claimed. On SSE the
   * frame carries that position as its `id:`, so a plain EventSource forgets
   * the old cursor too.
   */
  resync(reason: string, livePosition: string): void {
    this.lastWritten = livePosition;
    this.send({ type: 'resync', reason }, livePosition);
  }

  /** Drains what arrived live during the replay and goes live. */
  endReplay(): void {
    const held = this.pending;
    this.pending = undefined;
    if (held) for (const e of held) this.write(e);
  }

  /** The alert an `ack` is a receipt for: one written to this reader, acknowledged for the first time. */
  takeAck(eventId: string): string | undefined {
    const a = this.ackable;
    // '' marks a free place in the ring, never an eventId.
    if (!a || eventId === '') return undefined;
    const n = a.length;
    // Newest first: a reader acks what it has just shown.
    for (let k = 2; k <= n; k += 2) {
      const i = (this.ackNext - k + n) % n;
      if (a[i] !== eventId) continue;
      const alertId = a[i + 1];
      this.forgetAckable(i);
      return alertId;
    }
    return undefined;
  }

  /**
   * Writes a control frame (welcome, error, pong, ...); `cursor` as for
   * Transport.sendControl. Control frames count
   * toward the slow-reader cut-off like events: a reader that sends frames
   * and never reads the answers is cut off at the same limit.
   */
  send(frame: ServerFrame, cursor?: string): void {
    if (this.hasRoom()) this.transport.sendControl(frame, cursor);
  }

  /** True while the reader is open and under its buffer limit; cuts it off (4008) once over it. */
  hasRoom(): boolean {
    if (this.closed) return false;
    if (this.transport.bufferedAmount > this.limits.maxBufferedBytes) {
      this.cutOff();
      return false;
    }
    return true;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closedWith = code;
    this.pending = undefined;
    this.transport.close(code, reason);
  }

  /** Marks the reader closed when the peer went away first. */
  markClosed(code: number): void {
    this.closedWith ??= code;
    this.pending = undefined;
  }

  private write(e: FeedEvent): void {
    if (this.closed || compareEventIds(e.eventId, this.lastWritten) <= 0) return;
    if (this.transport.bufferedAmount > this.limits.maxBufferedBytes) {
      this.cutOff();
      return;
    }
    this.transport.sendEvent(e);
    this.lastWritten = e.eventId;
    if (e.type === 'alert') this.rememberAckable(e.eventId, e.alertId);
  }

  /**
   * Appends an alert that may be acknowledged; past ACKABLE_EVENTS unacknowledged the oldest is
   * forgotten. Once the array is full it is a ring, oldest at `ackNext`: this runs per delivery,
   * and shifting the whole array down for each alert was most of a delivery's JavaScript once
   * readers had been sent 32 alerts.
   */
  private rememberAckable(eventId: string, alertId: string): void {
    const a = this.ackable;
    if (!a) {
      this.ackable = [eventId, alertId];
      this.ackNext = 2;
      return;
    }
    const at = this.ackNext;
    if (at === a.length) {
      a.push(eventId, alertId);
    } else {
      // A place freed by an ack, or else the oldest pair.
      a[at] = eventId;
      a[at + 1] = alertId;
    }
    this.ackNext = (at + 2) % (2 * ACKABLE_EVENTS);
  }

  /** Forgets the pair at `i`: the newer pairs move down a place, so the free places stay together at `ackNext`. */
  private forgetAckable(i: number): void {
    const a = this.ackable!;
    const n = a.length;
    if (n < 2 * ACKABLE_EVENTS) {
      a.splice(i, 2);
      this.ackNext = a.length;
      return;
    }
    let j = i;
    for (let next = (j + 2) % n; next !== this.ackNext; next = (j + 2) % n) {
      a[j] = a[next]!;
      a[j + 1] = a[next + 1]!;
      j = next;
    }
    a[j] = '';
    a[j + 1] = '';
    this.ackNext = j;
  }

  /** Closes with 4008 (too slow; the client resumes with `since`) and tells the gateway. */
  cutOff(reason = 'too slow: resume with since'): void {
    if (this.closed) return;
    const held = this.transport.bufferedAmount;
    this.close(CLOSE.tooSlow, reason);
    this.onSlow(this, held);
  }
}
