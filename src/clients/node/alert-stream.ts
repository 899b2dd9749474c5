/**
 * The Node client for mobile backends: one socket to /v1/stream, read as an
 * async iterable of feed events.
 *
 * - Auth: an API key (or subscriber token) in the Authorization header.
 * - Reconnection with exponential backoff and jitter, resuming with `since`
 *   from the last event received, so nothing is missed and nothing repeats.
 * - Resume across restarts: `loadEventId` gives the starting point and
 *   `saveEventId` is awaited once the consumer is done with each event (when
 *   it asks for the next one, or leaves the loop), so a backend that restarts
 *   resumes exactly after the last event it finished; `redeliverCurrent()`
 *   keeps an event that failed from being saved.
 * - Backpressure: at most `highWaterMark` events wait in memory; beyond that
 *   the socket is paused (TCP pushes back to the gateway) until the consumer
 *   catches up. A consumer slow enough to make the gateway cut it off (4008)
 *   is reconnected and resumed, never silently skipped.
 *
 * ```ts
 * const stream = new AlertStream({ url, key, topics: ['europe'], loadEventId, saveEventId });
 * for await (const event of stream) if (event.type === 'alert') await relay(event.alert);
 * ```
 */
import WebSocket from 'ws';
import { compareEventIds } from '../../feed/event-id';
import type { AlertFrame, RetractFrame, UpdateFrame } from '../../protocol/frames';

export interface ResyncEvent {
  type: 'resync';
  reason: string;
}
/** What the stream yields: feed events in eventId order, and `resync` when a gap could not be replayed. */
export type StreamEvent = AlertFrame | UpdateFrame | RetractFrame | ResyncEvent;

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface AlertStreamOptions {
  /** The service, e.g. https://push.example (http(s) or ws(s)). */
  url: string;
  /** API key with `subscribe` (or a subscriber token), sent as `Authorization: Bearer`. */
  key?: string;
  /** Topics; none means every public topic. */
  topics?: string[];
  /** Where to resume from on start (the eventId last saved). */
  loadEventId?: () => string | undefined | Promise<string | undefined>;
  /** Persist an eventId once the consumer has finished with its event. */
  saveEventId?: (eventId: string) => void | Promise<void>;
  /** Events held in memory before the socket is paused. */
  highWaterMark?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  onState?: (state: StreamState, detail: { attempt: number; delayMs?: number; reason?: string }) => void;
  /** `error` frames (e.g. forbidden_topic): the connection stays open. */
  onServerError?: (frame: { code: string; message: string }) => void;
}

/** The credential was refused (close 4001): retrying cannot help. */
export class StreamCredentialError extends Error {
  constructor(reason: string) {
    super(`the stream refused the credential: ${reason || 'bad or expired'}`);
    this.name = 'StreamCredentialError';
  }
}

const EVENT_TYPES = new Set(['alert', 'update', 'retract']);

export class AlertStream implements AsyncIterable<StreamEvent> {
  /** Counters, for monitoring (and tests). */
  readonly stats = { received: 0, maxBuffered: 0, pauses: 0, connections: 0 };
  private readonly buffer: StreamEvent[] = [];
  private readonly highWaterMark: number;
  private ws: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private started = false;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** Newest event received: the resume point and the duplicate fence. */
  private lastReceived: string | undefined;
  /** Handed to the consumer and not yet saved. */
  private pendingSave: string | undefined;

  constructor(private readonly options: AlertStreamOptions) {
    this.highWaterMark = Math.max(1, options.highWaterMark ?? 64);
  }

  /** The eventId the stream would resume after. */
  get position(): string | undefined {
    return this.lastReceived;
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.savePending();
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * Leaving the loop (break, return or a throw) counts the event in hand as
   * handled and saves it. Call this first when it was not — say the webhook
   * failed and you rethrow — and it is delivered again after a restart.
   */
  redeliverCurrent(): void {
    this.pendingSave = undefined;
  }

  /** Stops for good; a pending `next()` ends the iteration. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.terminate();
    this.ws = undefined;
    this.state('closed', { attempt: 0 });
    this.wake?.();
  }

  private async next(): Promise<IteratorResult<StreamEvent>> {
    await this.savePending();
    if (!this.started) {
      this.started = true;
      this.lastReceived = (await this.options.loadEventId?.()) || undefined;
      this.connect();
    }
    for (;;) {
      const event = this.buffer.shift();
      if (event) {
        if (this.ws?.isPaused && this.buffer.length <= this.highWaterMark / 2) this.ws.resume();
        if (event.type !== 'resync') this.pendingSave = event.eventId;
        return { done: false, value: event };
      }
      if (this.failure) throw this.failure;
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  private async savePending(): Promise<void> {
    const id = this.pendingSave;
    if (id === undefined) return;
    this.pendingSave = undefined;
    await this.options.saveEventId?.(id);
  }

  private url(): string {
    const u = new URL('/v1/stream', this.options.url);
    u.protocol = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
    if (this.options.topics?.length) u.searchParams.set('topics', this.options.topics.join(','));
    if (this.lastReceived) u.searchParams.set('since', this.lastReceived);
    return u.toString();
  }

  private connect(): void {
    this.timer = undefined;
    if (this.ended) return;
    this.state(this.attempt === 0 ? 'connecting' : 'reconnecting', { attempt: this.attempt });
    const headers = this.options.key ? { Authorization: `Bearer ${this.options.key}` } : undefined;
    const ws = new WebSocket(this.url(), { headers, perMessageDeflate: false });
    this.ws = ws;
    let welcomed = false;
    ws.on('message', (data) => {
      let frame: { type?: string; eventId?: string; code?: string; message?: string };
      try {
        frame = JSON.parse(String(data)) as typeof frame;
      } catch {
        return;
      }
      if (frame.type === 'welcome') {
        welcomed = true;
        this.attempt = 0;
        this.stats.connections++;
        this.state('open', { attempt: 0 });
        return;
      }
      if (frame.type === 'error') return this.options.onServerError?.(frame as { code: string; message: string });
      if (frame.type === 'resync') return this.push(frame as ResyncEvent);
      if (!EVENT_TYPES.has(frame.type ?? '') || !frame.eventId) return;
      // Event ids only grow; anything not above the last one is a repeat.
      if (this.lastReceived && compareEventIds(frame.eventId, this.lastReceived) <= 0) return;
      this.lastReceived = frame.eventId;
      this.stats.received++;
      this.push(frame as StreamEvent);
    });
    ws.on('error', () => undefined); // 'close' follows and handles it
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.ended) return;
      if (code === 4001) {
        this.failure = new StreamCredentialError(String(reason));
        this.close();
        return;
      }
      if (welcomed) this.attempt = 0;
      const cap = Math.min(this.options.maxDelayMs ?? 30_000, (this.options.initialDelayMs ?? 500) * 2 ** this.attempt);
      const delayMs = Math.round(cap / 2 + (Math.random() * cap) / 2);
      this.attempt++;
      this.state('reconnecting', { attempt: this.attempt, delayMs, reason: `closed ${code}${reason.length ? ': ' + String(reason) : ''}` });
      this.timer = setTimeout(() => this.connect(), delayMs);
    });
  }

  private push(event: StreamEvent): void {
    this.buffer.push(event);
    if (this.buffer.length > this.stats.maxBuffered) this.stats.maxBuffered = this.buffer.length;
    // Stop reading from the socket rather than buffering without bound; ws
    // may still emit what it already parsed, so the bound is HWM + a little.
    if (this.buffer.length >= this.highWaterMark && this.ws && !this.ws.isPaused) {
      this.ws.pause();
      this.stats.pauses++;
    }
    this.wake?.();
  }

  private state(state: StreamState, detail: { attempt: number; delayMs?: number; reason?: string }): void {
    this.options.onState?.(state, detail);
  }
}
