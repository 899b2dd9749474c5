/**
 * The Node client for mobile backends: one socket to /v1/stream, read as an
 * async iterable of feed events.
 *
 * - Auth: an API key (or subscriber token) in the Authorization header.
 * - Reconnection with exponential backoff and jitter, resuming with `since`
 *   from the last event received, so nothing is missed and nothing repeats.
 *   A connection not upgraded within `handshakeTimeoutMs` is dropped and
 *   retried the same way, never waited on forever.
 * - At least once across restarts: `loadEventId` gives the starting point
 *   and `saveEventId` is awaited for an event only once the consumer is done
 *   with it — when it asks for the next event, or calls `ack()`. Leaving the
 *   loop (a throw, `break` or `return`) saves nothing more: an event whose
 *   handler failed comes again after a restart. A crash between handling an
 *   event and saving it repeats that event too, so consumers deduplicate by
 *   `eventId`.
 * - Resync: when the gateway cannot honour the cursor (it left the feed's
 *   retention, or belongs to another feed), the stream yields a `resync`
 *   event, forgets the old cursor and carries on live from the feed's end.
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
import { backoffDelay } from './backoff';
import { compareEventIds } from './event-id';
import { handshakeTimeout } from './handshake';
import type { ErrorFrame, EventFrame, ResyncFrame, WelcomeFrame } from './types';

/** What the stream yields: feed events in eventId order, and `resync` when a gap could not be replayed. */
export type StreamEvent = EventFrame | ResyncFrame;
/** @deprecated use ResyncFrame */
export type ResyncEvent = ResyncFrame;

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Where the service is and how to authenticate: shared by AlertStream and FlashwireApi. */
export interface ConnectionOptions {
  /** The service, e.g. https://push.example (http(s) or ws(s)). */
  url: string;
  /** API key (or a subscriber token), sent as `Authorization: Bearer`. */
  key?: string;
}

export interface AlertStreamOptions extends ConnectionOptions {
  /** Topics; none means every public topic. */
  topics?: string[];
  /** Where to resume from on start (the eventId last saved). */
  loadEventId?: () => string | undefined | null | Promise<string | undefined | null>;
  /** Persist an eventId once the consumer has finished with its event. */
  saveEventId?: (eventId: string) => void | Promise<void>;
  /** Events held in memory before the socket is paused. */
  highWaterMark?: number;
  /** Reconnection backoff: the first delay's ceiling (ms, default 500). */
  initialDelayMs?: number;
  /** Reconnection backoff: the longest delay (ms, default 30,000). */
  maxDelayMs?: number;
  /** How long a connection may take to be upgraded before it is dropped and retried (ms, default 30,000). */
  handshakeTimeoutMs?: number;
  onState?: (state: StreamState, detail: { attempt: number; delayMs?: number; reason?: string }) => void;
  /** Each connection's `welcome` frame: the topics granted, whether `since` was honoured. */
  onWelcome?: (frame: WelcomeFrame) => void;
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

/** Checks a service address, with a message that names the mistake. */
export function serviceUrl(url: unknown, what = 'url'): URL {
  if (typeof url !== 'string' || url === '') throw new TypeError(`${what} must be the service address, e.g. "http://localhost:8080"`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`${what} must be an absolute http(s) or ws(s) URL, e.g. "http://localhost:8080"`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) throw new TypeError(`${what} must use http, https, ws or wss`);
  return u;
}

export class AlertStream implements AsyncIterable<StreamEvent> {
  /** Counters, for monitoring (and tests). */
  readonly stats = { received: 0, maxBuffered: 0, pauses: 0, connections: 0, resyncs: 0 };
  private readonly buffer: StreamEvent[] = [];
  private readonly highWaterMark: number;
  private readonly base: URL;
  private ws: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private started = false;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** Newest event received: the resume point and the duplicate fence. */
  private lastReceived: string | undefined;
  /** The event handed to the consumer and not yet saved. */
  private inHand: string | undefined;

  constructor(private readonly options: AlertStreamOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('AlertStream takes an options object: new AlertStream({ url, key, topics })');
    this.base = serviceUrl(options.url);
    this.highWaterMark = Math.max(1, options.highWaterMark ?? 64);
  }

  /** The eventId the stream would resume after. */
  get position(): string | undefined {
    return this.lastReceived;
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    return {
      next: () => this.next(),
      // Leaving the loop — break, return or a throw — saves nothing that
      // was not acknowledged: the event in hand comes again after a restart.
      return: async () => {
        this.inHand = undefined;
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * Marks the event in hand as done and saves it now (asking for the next
   * event does the same). Call it before `break` to keep the last event
   * from being delivered again after a restart.
   */
  async ack(): Promise<void> {
    const id = this.inHand;
    if (id === undefined) return;
    this.inHand = undefined;
    await this.options.saveEventId?.(id);
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
    // Asking for the next event means the consumer is done with this one.
    await this.ack();
    if (!this.started) {
      this.started = true;
      this.lastReceived = (await this.options.loadEventId?.()) || undefined;
      this.connect();
    }
    for (;;) {
      const event = this.buffer.shift();
      if (event) {
        if (this.ws?.isPaused && this.buffer.length <= this.highWaterMark / 2) this.ws.resume();
        if (event.type !== 'resync') this.inHand = event.eventId;
        return { done: false, value: event };
      }
      if (this.failure) throw this.failure;
      if (this.ended) return { done: true, value: undefined };
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  private url(): string {
    const u = new URL('/v1/stream', this.base);
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
    const ws = new WebSocket(this.url(), { headers, perMessageDeflate: false, handshakeTimeout: handshakeTimeout(this.options.handshakeTimeoutMs) });
    this.ws = ws;
    let welcomed = false;
    let failure = '';
    ws.on('message', (data) => {
      let frame: { type?: string; eventId?: string };
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
        this.options.onWelcome?.(frame as WelcomeFrame);
        return;
      }
      if (frame.type === 'error') return this.options.onServerError?.(frame as ErrorFrame);
      if (frame.type === 'resync') {
        // The cursor cannot be honoured: forget it, so the events that come
        // next (from the feed's current end) are not taken for repeats.
        this.lastReceived = undefined;
        this.stats.resyncs++;
        return this.push(frame as ResyncFrame);
      }
      if (!EVENT_TYPES.has(frame.type ?? '') || !frame.eventId) return;
      // Event ids only grow; anything not above the last one is a repeat.
      if (this.lastReceived && compareEventIds(frame.eventId, this.lastReceived) <= 0) return;
      this.lastReceived = frame.eventId;
      this.stats.received++;
      this.push(frame as EventFrame);
    });
    // 'close' follows and handles it; the error says why (a handshake that timed out, a refused connect).
    ws.on('error', (err) => {
      failure ||= err.message;
    });
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
      const delayMs = backoffDelay(this.attempt, this.options);
      this.attempt++;
      this.state('reconnecting', { attempt: this.attempt, delayMs, reason: `closed ${code}${reason.length ? ': ' + String(reason) : failure ? ` (${failure})` : ''}` });
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
