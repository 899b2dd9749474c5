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
   * `alert` events written to this reader and not yet acknowledged, oldest
   * first, as eventId, alertId, eventId, alertId, ... in one flat array.
   * Every reader that has been sent alerts keeps this between them: a Map
   * of 32 entries held ~1.8 KB, the array ~0.7 KB.
   */
  private ackable: string[] | undefined;
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
    if (!a) return undefined;
    // Newest first: a reader acks what it has just shown.
    for (let i = a.length - 2; i >= 0; i -= 2) {
      if (a[i] !== eventId) continue;
      const alertId = a[i + 1];
      a.splice(i, 2);
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

  /** Appends an alert that may be acknowledged; past ACKABLE_EVENTS the oldest is forgotten. */
  private rememberAckable(eventId: string, alertId: string): void {
    const a = this.ackable;
    if (!a) {
      this.ackable = [eventId, alertId];
      return;
    }
    const n = a.length;
    if (n < 2 * ACKABLE_EVENTS) {
      a.push(eventId, alertId);
      return;
    }
    // Full: shift down in place rather than allocate (this runs per delivery).
    for (let i = 2; i < n; i++) a[i - 2] = a[i]!;
    a[n - 2] = eventId;
    a[n - 1] = alertId;
  }

  /** Closes with 4008 (too slow; the client resumes with `since`) and tells the gateway. */
  cutOff(reason = 'too slow: resume with since'): void {
    if (this.closed) return;
    const held = this.transport.bufferedAmount;
    this.close(CLOSE.tooSlow, reason);
    this.onSlow(this, held);
  }
}
