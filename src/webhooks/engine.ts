/**
 * The webhook delivery engine (worker role). Each endpoint is one more
 * reader of the feed, with a durable cursor in Redis:
 *
 * - Leases: every process scans the endpoints and takes any whose lease is
 *   free (SET NX PX); it renews its leases every third of their life and
 *   stops an endpoint at once when its lease is lost. A killed process's
 *   leases lapse, and another process takes them at its next scan.
 * - One loop per leased endpoint: read the feed after the cursor, skip what
 *   its topics do not cover and what has expired, POST the next event, and
 *   move the cursor only after a 2xx. A failure waits out the retry delay
 *   before the same event is tried again: head-of-line blocking per
 *   endpoint only, since each endpoint has its own loop.
 * - A cursor older than the feed's retention gets one `resync` call, then
 *   carries on from the feed's end.
 * - One blocking read of the feed's tail wakes idle loops when events
 *   arrive; without it they would look again every second.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { anyCovers } from '../alert/topics';
import { eventTime, ZERO_EVENT_ID } from '../feed/event-id';
import { Feed } from '../feed/feed';
import { isExpired, type FeedEvent } from '../feed/feed-event';
import { controlFrameText } from '../feed/frame-text';
import { metrics, webhookMetrics } from '../metrics/metrics';
import { cutTail } from '../redis/connection';
import type { Keys } from '../redis/keys';
import { WebhookSender, type CallResult } from './sender';
import { signatureHeader } from './signer';
import type { LookupAll } from './ssrf';
import { newLeaseToken, type Endpoint, type WebhookStore } from './store';
import { within } from '../within';

export interface EngineOptions {
  store: WebhookStore;
  redis: Redis;
  /** A dedicated connection for the blocking tail read (opened for blocking reads: no PING watchdog). */
  tail: Redis;
  /** How long after a read's block an unanswered read means the link is half-open (FLASHWIRE_REDIS_TIMEOUT_MS). */
  linkTimeoutMs?: number;
  keys: Keys;
  log: Logger;
  retryScheduleMs: readonly number[];
  disableAfterMs: number;
  timeoutMs: number;
  leaseMs: number;
  allowPrivate: boolean;
  lookup?: LookupAll;
  /** 0 ≤ x < 1; jitter. */
  random?: () => number;
}

const BATCH = 100;
const IDLE_MS = 1000;
const MAX_RETRY_AFTER_MS = 3600_000;

/** The delay before retry number `failures` (1 = first retry), jittered ±20 %. */
export function retryDelay(schedule: readonly number[], failures: number, random: () => number = Math.random): number {
  const base = schedule[Math.min(Math.max(failures, 1), schedule.length) - 1] ?? 1000;
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** A bounded label for a failed call. */
export function failureReason(r: CallResult): string {
  if (r.error === 'timeout' || r.error === 'blocked') return r.error;
  if (r.status === undefined) return 'network';
  if (r.status >= 300 && r.status < 400) return 'redirect';
  if (r.status === 410) return 'gone';
  return r.status >= 500 ? 'http_5xx' : 'http_4xx';
}

class Runner {
  stopped = false;
  /** When the event this endpoint waits on entered the feed (0 when caught up). */
  pendingSince = 0;
  private wake: (() => void) | undefined;
  private poked = false;
  private sleepTimer: NodeJS.Timeout | undefined;
  readonly done: Promise<void>;

  constructor(
    readonly id: string,
    private readonly engine: WebhookEngine,
  ) {
    this.done = this.loop().catch((err) => engine.log.error({ err: String(err), webhook: id }, 'webhook loop failed'));
  }

  /** Something may have changed (new events): look again, even if not asleep yet. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  stop(): void {
    this.stopped = true;
    this.poke();
  }

  private sleep(ms: number): Promise<void> {
    // A poke that came during the step must not be lost to this sleep.
    if (this.poked) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        clearTimeout(this.sleepTimer);
        this.wake = undefined;
        resolve();
      };
      this.sleepTimer = setTimeout(() => this.wake?.(), ms);
    });
  }

  private async loop(): Promise<void> {
    const e = this.engine;
    while (!this.stopped) {
      try {
        this.poked = false;
        const again = await this.step();
        if (again > 0) await this.sleep(again);
      } catch (err) {
        // Redis trouble: wait a little and look again; the lease decides who carries on.
        e.log.warn({ err: String(err), webhook: this.id }, 'webhook delivery step failed; retrying');
        await this.sleep(IDLE_MS);
      }
    }
  }

  /** One step; returns how long to wait before the next (0: at once). */
  private async step(): Promise<number> {
    const e = this.engine;
    const now = Date.now();
    const ep = await e.store.get(this.id, now);
    if (!ep || ep.status === 'disabled') {
      this.pendingSince = 0;
      this.stopped = true;
      e.release(this.id);
      return 0;
    }
    if (ep.nextAt > now) return Math.min(ep.nextAt - now, IDLE_MS);

    if (ep.cursor !== ZERO_EVENT_ID && (await e.feed.isTrimmedAfter(ep.cursor))) {
      // The events after the cursor left the feed: say so once, then go on from the end.
      const end = await e.feed.lastId();
      this.pendingSince = now;
      await e.deliver(this, ep, `resync-${ep.cursor}`, controlFrameText({ type: 'resync', reason: 'trimmed' }), end);
      return 0;
    }

    const events = await e.feed.after(ep.cursor, BATCH);
    if (events.length === 0) {
      this.pendingSince = 0;
      return IDLE_MS;
    }
    // Deliver this batch in order, one call at a time; each 2xx moves the
    // cursor (checked against the lease and gen). Stop at the first failure.
    let skipTo: string | undefined;
    for (const ev of events) {
      if (this.stopped) return 0;
      if (isExpired(ev, Date.now()) || !anyCovers(ep.topics, ev.topics)) {
        skipTo = ev.eventId;
        continue;
      }
      this.pendingSince = eventTime(ev.eventId);
      const ok = await e.deliver(this, ep, ev.eventId, ev.frame, ev.eventId);
      if (!ok) return 0;
      skipTo = undefined;
      ep.cursor = ev.eventId;
    }
    if (skipTo !== undefined) {
      // Nothing more here for this endpoint: move the cursor past it without a call.
      this.pendingSince = 0;
      await e.store.ack(ep, e.token, skipTo, undefined, false);
    }
    return 0;
  }
}

export class WebhookEngine {
  readonly token = newLeaseToken();
  readonly feed: Feed;
  readonly store: WebhookStore;
  readonly log: Logger;
  private readonly tailFeed: Feed;
  private readonly sender: WebhookSender;
  private readonly runners = new Map<string, Runner>();
  private running = false;
  private timers: NodeJS.Timeout[] = [];
  private tailing: Promise<void> | undefined;
  private scanning = false;
  private readonly random: () => number;

  constructor(private readonly o: EngineOptions) {
    this.store = o.store;
    this.log = o.log;
    this.feed = new Feed(o.redis, o.keys);
    this.tailFeed = new Feed(o.tail, o.keys, { behindIo: true });
    this.sender = new WebhookSender({ timeoutMs: o.timeoutMs, allowPrivate: o.allowPrivate, lookup: o.lookup });
    this.random = o.random ?? Math.random;
  }

  /** Endpoints this process delivers to now. */
  get leased(): string[] {
    return [...this.runners.keys()];
  }

  /** Seconds the most-behind endpoint of this process waits on its next event. */
  lagSeconds(now = Date.now()): number {
    let oldest = 0;
    for (const r of this.runners.values()) if (r.pendingSince && (oldest === 0 || r.pendingSince < oldest)) oldest = r.pendingSince;
    return oldest ? Math.max(0, (now - oldest) / 1000) : 0;
  }

  start(): void {
    this.running = true;
    webhookMetrics.engines.add(this);
    const scanEvery = Math.max(200, Math.floor(this.o.leaseMs / 5));
    const renewEvery = Math.max(200, Math.floor(this.o.leaseMs / 3));
    this.timers.push(setInterval(() => void this.scan(), scanEvery));
    this.timers.push(setInterval(() => void this.renew(), renewEvery));
    void this.scan();
    this.tailing = this.tail();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    webhookMetrics.engines.delete(this);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const runners = [...this.runners.values()];
    for (const r of runners) r.stop();
    // A call in flight may take up to the timeout: wait a moment, not for it (its outcome is then not written).
    await within(Promise.all(runners.map((r) => r.done)), 1000);
    // Hand the endpoints over at once rather than when the leases lapse.
    await Promise.all([...this.runners.keys()].map((id) => this.store.release(id, this.token).catch(() => undefined)));
    this.runners.clear();
    this.sender.close();
    await cutTail(this.o.tail, this.tailing);
  }

  /** Lets go of an endpoint (deleted or disabled). */
  release(id: string): void {
    this.runners.delete(id);
    void this.store.release(id, this.token).catch(() => undefined);
  }

  private async scan(): Promise<void> {
    if (!this.running || this.scanning) return;
    this.scanning = true;
    try {
      const ids = (await this.store.ids()).filter((id) => !this.runners.has(id));
      const statuses = await this.store.statuses(ids);
      const wanted = ids.filter((_, i) => statuses[i] !== null && statuses[i] !== 'disabled');
      for (let i = 0; i < wanted.length && this.running; i += 200) {
        const got = await this.store.acquireMany(wanted.slice(i, i + 200), this.token, this.o.leaseMs);
        for (const id of got) {
          if (!this.running || this.runners.has(id)) {
            await this.store.release(id, this.token);
            continue;
          }
          this.log.debug({ webhook: id }, 'webhook endpoint leased');
          this.runners.set(id, new Runner(id, this));
        }
      }
    } catch (err) {
      this.log.warn({ err: String(err) }, 'webhook scan failed');
    } finally {
      this.scanning = false;
    }
  }

  private async renew(): Promise<void> {
    const held = [...this.runners];
    let kept: boolean[];
    try {
      kept = await this.store.renewMany(held.map(([id]) => id), this.token, this.o.leaseMs);
    } catch {
      // Redis away: the lease may lapse; keep going, and the cursor write checks the lease.
      return;
    }
    for (let i = 0; i < held.length; i++) {
      const [id, r] = held[i] as [string, Runner];
      if (!kept[i] && this.runners.get(id) === r) {
        this.log.warn({ webhook: id }, 'webhook lease lost; another worker carries on');
        r.stop();
        this.runners.delete(id);
      }
    }
  }

  private async tail(): Promise<void> {
    let after = ZERO_EVENT_ID;
    try {
      after = await this.tailFeed.lastId();
    } catch {
      // read from the start of whatever arrives
    }
    while (this.running) {
      try {
        const events = await this.tailFeed.readOrDrop(after, 5000, 1000, this.o.linkTimeoutMs ?? 2000, (waitedMs) => {
          metrics.redisLinkDrops.inc({ connection: 'webhooks-tail' });
          this.log.warn({ waitedMs }, 'webhooks tail: Redis did not answer a blocking read in time (half-open link); dropping it');
        });
        if (events.length) {
          after = (events[events.length - 1] as FeedEvent).eventId;
          for (const r of this.runners.values()) r.poke();
        }
      } catch {
        if (!this.running) return;
        await new Promise((r) => setTimeout(r, IDLE_MS));
      }
    }
  }

  /** Calls the endpoint with one frame and records the outcome; `cursor` is where it moves on a 2xx. */
  async deliver(runner: Runner, ep: Endpoint, webhookId: string, body: string, cursor: string): Promise<boolean> {
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': webhookId, 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader(ep.secrets, webhookId, ts, body) };
    const r = await this.sender.call(ep.url, headers, body);
    if (runner.stopped) return false;
    const now = Date.now();
    const eventId = webhookId.startsWith('resync-') ? webhookId : cursor;
    const attempt = { eventId, at: new Date(now).toISOString(), ...(r.status !== undefined ? { status: r.status } : { error: r.error ?? 'network' }), ms: r.ms };
    if (r.status !== undefined && r.status >= 200 && r.status < 300) {
      webhookMetrics.deliveries.inc();
      const before = await this.store.ack(ep, this.token, cursor, attempt, true);
      if (before === 'failing') {
        this.log.info({ webhook: ep.id, from: 'failing', to: 'active' }, 'webhook status changed');
        ep.status = 'active';
        ep.failures = 0;
      }
      // undefined: the lease or an API change (replay, disable) moved on; read the endpoint again.
      return before !== undefined;
    }
    const reason = failureReason(r);
    webhookMetrics.failures.inc({ reason });
    const failures = ep.failures + 1;
    // Retry-After replaces the schedule's delay, within bounds: never sooner than its first step, never past an hour.
    const delay =
      r.retryAfterSeconds !== undefined
        ? Math.min(Math.max(r.retryAfterSeconds * 1000, this.o.retryScheduleMs[0] ?? 0), MAX_RETRY_AFTER_MS)
        : retryDelay(this.o.retryScheduleMs, failures, this.random);
    const disableNow = r.status === 410;
    const out = await this.store.fail(ep, this.token, { now, nextAt: now + delay, disableAfterMs: this.o.disableAfterMs, disableNow, reason: disableNow ? 'gone (410)' : 'failing too long', attempt });
    if (out && out[0] !== out[1]) {
      this.log.info({ webhook: ep.id, from: out[0], to: out[1], reason, ...(r.status !== undefined ? { status: r.status } : { error: r.error }) }, 'webhook status changed');
    } else if (out) {
      this.log.debug({ webhook: ep.id, reason, retryInMs: delay }, 'webhook call failed; will retry');
    }
    return false;
  }
}
