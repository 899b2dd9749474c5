/**
 * A reader that does what the contract asks of a client: on any close it
 * reconnects (to whichever gateway `pickUrl` names) with `since` set to the
 * last eventId it holds. It records every event it receives and every
 * breach of guarantees 3 and 4 it sees on the wire: an eventId that does not
 * grow (a duplicate or a reordering), or a resync inside the retention window.
 */
import WebSocket from 'ws';
import { compareEventIds } from '../../src/feed/event-id';

export interface ReaderOptions {
  /** Gateway ws:// base URL for attempt `n` (round-robin, random, ...). */
  pickUrl: (attempt: number) => string;
  topics: string[];
  /** Resume point for the first connection; every later one uses the last eventId held. */
  since: string;
  /** Pause before reconnecting, ms. */
  backoffMs?: number;
}

export interface Received {
  eventId: string;
  type: string;
  alertId: string;
  /** When it arrived, ms since the epoch. */
  at: number;
}

export class ResumingReader {
  readonly received: Received[] = [];
  /** Breaches seen on the wire, human-readable. */
  readonly violations: string[] = [];
  connects = 0;
  closes: number[] = [];
  private ws: WebSocket | undefined;
  private last: string;
  private stopped = false;
  private attempt = 0;
  private connected = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private waiters = new Set<{ check(): void; cancel(): void }>();

  constructor(readonly opts: ReaderOptions) {
    this.last = opts.since;
  }

  get lastEventId(): string {
    return this.last;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Starts connecting; resolves after the first welcome. */
  start(): Promise<void> {
    this.connect();
    return this.until(() => this.connects > 0, 20_000);
  }

  /** Resolves once `pred` holds (checked on every frame and close), or rejects after `timeoutMs` or on stop(). */
  until(pred: () => boolean, timeoutMs: number): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        this.waiters.delete(waiter);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const waiter = {
        check: () => {
          if (pred()) done();
        },
        cancel: () => done(new Error(`reader ${this.opts.topics.join(',')}: stopped while waiting`)),
      };
      const timer = setTimeout(() => done(new Error(`reader ${this.opts.topics.join(',')}: condition not met in ${timeoutMs} ms (received ${this.received.length}, last ${this.last})`)), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Drops the connection as a network fault would (no close handshake); the reader resumes. */
  drop(): void {
    this.ws?.terminate();
  }

  /** Stops for good; resolves once the socket is closed, so nothing is left open behind it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    for (const w of [...this.waiters]) w.cancel();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.terminate();
    await closed;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w.check();
  }

  private connect(): void {
    if (this.stopped) return;
    const base = this.opts.pickUrl(this.attempt++);
    const qs = new URLSearchParams({ topics: this.opts.topics.join(','), since: this.last });
    const ws = new WebSocket(`${base}/v1/stream?${qs}`);
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(String(data)));
    ws.on('error', () => undefined);
    ws.once('close', (code) => {
      this.connected = false;
      this.closes.push(code);
      this.wake();
      if (!this.stopped) this.reconnectTimer = setTimeout(() => this.connect(), this.opts.backoffMs ?? 100);
    });
  }

  private onFrame(text: string): void {
    const f = JSON.parse(text) as { type: string; eventId?: string; alert?: { id: string }; id?: string; reason?: string };
    if (f.type === 'welcome') {
      this.connected = true;
      this.connects++;
    } else if (f.type === 'alert' || f.type === 'update' || f.type === 'retract') {
      const eventId = f.eventId as string;
      if (compareEventIds(eventId, this.last) <= 0) {
        this.violations.push(`${f.type} ${eventId} after ${this.last} (duplicate or out of order)`);
      } else {
        this.last = eventId;
      }
      this.received.push({ eventId, type: f.type, alertId: f.type === 'retract' ? (f.id as string) : (f.alert as { id: string }).id, at: Date.now() });
    } else if (f.type === 'resync') {
      this.violations.push(`resync (${f.reason}) at ${this.last}: the feed was not trimmed`);
    }
    this.wake();
  }
}
