/**
 * Tails the feed on a dedicated connection with blocking XREAD, in batches,
 * and hands each batch to the gateway in feed order. If Redis goes away it
 * keeps its position and carries on from there when Redis is back, so no
 * event is skipped.
 *
 * Each XREAD blocks for a finite time and has a client-side deadline a
 * little after it: a read unanswered by then means the link went half-open
 * (no FIN, no RST: nothing else would ever tell), so the tail drops the
 * socket, ioredis reconnects, and the tail reads again from its position.
 */
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import { SilentLinkError, type Feed } from '../feed/feed';
import type { FeedEvent } from '../feed/feed-event';
import { metrics } from '../metrics/metrics';
import { cutTail } from '../redis/connection';

export interface FeedTailOptions {
  /** How long one XREAD blocks; bounds how long stop() waits. */
  blockMs?: number;
  /** How long after `blockMs` an unanswered read means the link is dead (FLASHWIRE_REDIS_TIMEOUT_MS). */
  graceMs?: number;
  /** Events per read; a burst is taken in a few round trips, not one each. */
  batch?: number;
}

export class FeedTail {
  private running = false;
  private loop: Promise<void> | undefined;
  private pos = '0-0';
  private readonly blockMs: number;
  private readonly graceMs: number;
  private readonly batch: number;
  /** Links dropped for silence, for tests and metrics. */
  linkDrops = 0;

  constructor(
    private readonly feed: Feed,
    /** The blocking connection `feed` reads on; disconnected by stop(). */
    private readonly connection: Redis,
    private readonly onEvents: (events: FeedEvent[]) => void,
    private readonly log: Logger,
    options: FeedTailOptions = {},
  ) {
    this.blockMs = options.blockMs ?? 2000;
    this.graceMs = options.graceMs ?? 2000;
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
        const events = await this.readWithDeadline();
        failures = 0;
        if (!this.running) return;
        if (events.length === 0) continue;
        this.pos = (events[events.length - 1] as FeedEvent).eventId;
        this.onEvents(events);
      } catch (err) {
        if (!this.running) return;
        failures++;
        if (failures === 1 && !(err instanceof SilentLinkError)) this.log.warn({ err: String(err), position: this.pos }, 'feed tail lost Redis; will resume from its position');
        await new Promise((r) => setTimeout(r, Math.min(100 * failures, 1000)));
      }
    }
  }

  /** One XREAD, or a SilentLinkError once it went unanswered past its deadline (the socket is dropped then). */
  private readWithDeadline(): Promise<FeedEvent[]> {
    return this.feed.readOrDrop(this.pos, this.blockMs, this.batch, this.graceMs, (waitedMs) => {
      this.linkDrops++;
      metrics.redisLinkDrops.inc({ connection: 'feed-tail' });
      this.log.warn({ position: this.pos, waitedMs }, 'feed tail: Redis did not answer a blocking read in time (half-open link); dropping it, reconnecting, resuming from the position');
    });
  }

  /** Stops tailing; idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    await cutTail(this.connection, this.loop);
  }
}
