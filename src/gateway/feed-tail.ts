/**
 * Tails the feed on a dedicated connection with blocking XREAD, in batches,
 * and hands each batch to the gateway in feed order. If Redis goes away it
 * keeps its position and carries on from there when Redis is back, so no
 * event is skipped.
 */
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Feed } from '../feed/feed';
import type { FeedEvent } from '../feed/feed-event';

export interface FeedTailOptions {
  /** How long one XREAD blocks; bounds how long stop() waits. */
  blockMs?: number;
  /** Events per read; a burst is taken in a few round trips, not one each. */
  batch?: number;
}

export class FeedTail {
  private running = false;
  private loop: Promise<void> | undefined;
  private pos = '0-0';
  private readonly blockMs: number;
  private readonly batch: number;

  constructor(
    private readonly feed: Feed,
    /** The blocking connection `feed` reads on; disconnected by stop(). */
    private readonly connection: Redis,
    private readonly onEvents: (events: FeedEvent[]) => void,
    private readonly log: Logger,
    options: FeedTailOptions = {},
  ) {
    this.blockMs = options.blockMs ?? 5000;
    this.batch = options.batch ?? 1000;
  }

  /** The id of the last event handed on. */
  get position(): string {
    return this.pos;
  }

  /** Starts after the newest event in the feed; resolves once positioned. */
  async start(): Promise<string> {
    if (this.running) return this.pos;
    this.pos = await this.feed.lastId();
    this.running = true;
    this.loop = this.run();
    return this.pos;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const events = await this.feed.read(this.pos, this.blockMs, this.batch);
        failures = 0;
        if (!this.running) return;
        if (events.length === 0) continue;
        this.pos = (events[events.length - 1] as FeedEvent).eventId;
        this.onEvents(events);
      } catch (err) {
        if (!this.running) return;
        failures++;
        if (failures === 1) this.log.warn({ err: String(err), position: this.pos }, 'feed tail lost Redis; will resume from its position');
        await new Promise((r) => setTimeout(r, Math.min(100 * failures, 1000)));
      }
    }
  }

  /** Stops tailing; idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    // A blocking XREAD only returns when Redis answers; cut it short.
    this.connection.disconnect();
    await this.loop;
  }
}
