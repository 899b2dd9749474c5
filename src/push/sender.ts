/**
 * The Web Push sender, run by the worker role. It reads the feed like any
 * reader, from a durable cursor in Redis, and pushes each event to the
 * subscriptions whose topics cover it, one event after another.
 *
 * - One sender at a time: workers share a lease; a dead holder's lease runs
 *   out within LEASE_MS and another worker carries on from the cursor.
 * - The cursor moves past an event only once every push of it was answered,
 *   given up, or written down as a retry: a crash re-sends at most the event
 *   in hand, and nothing is sent twice to one subscription otherwise.
 * - 429 and 5xx are retried, honouring Retry-After, while the TTL lasts.
 *   Retries wait in Redis (a sorted set by due time), one per subscription
 *   and alert: a correction or retraction sent meanwhile takes its place, so
 *   a late retry never brings back text that was since corrected.
 * - 404 and 410 delete the subscription.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { anyCovers, isPrivateTopic } from '../alert/topics';
import { Feed } from '../feed/feed';
import { ZERO_EVENT_ID } from '../feed/event-id';
import { isExpired, type FeedEvent } from '../feed/feed-event';
import { metrics } from '../metrics/metrics';
import { cutTail } from '../redis/connection';
import type { Keys } from '../redis/keys';
import { runScript } from '../redis/scripts';
import { framePriority, preparePush, type PreparedPush } from './message';
import { PushClient, type PushResult } from './push-client';
import type { PushSubscriptionRecord, PushSubscriptionStore } from './subscriptions';
import type { VapidSigner } from './vapid';

export interface PushSenderOptions {
  redis: Redis;
  /** Dedicated to the blocking feed read (opened for blocking reads: no PING watchdog); disconnected by stop(). */
  blocking: Redis;
  /** How long after a read's block an unanswered read means the link is half-open (FLASHWIRE_REDIS_TIMEOUT_MS). */
  linkTimeoutMs?: number;
  keys: Keys;
  log: Logger;
  store: PushSubscriptionStore;
  signer: VapidSigner;
  concurrencyPerOrigin: number;
  allowPrivate: boolean;
  /** Lease length; a crashed sender's work resumes elsewhere within it. */
  leaseMs?: number;
  /** First and longest retry delay without Retry-After. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** Subscriptions loaded and sent per round: bounds memory for a big fan-out. */
const CHUNK = 1000;
const FEED_BATCH = 100;
const BLOCK_MS = 2000;

interface RetryEntry {
  eventId: string;
  attempt: number;
  deadline: number;
}

export interface PushSenderStats {
  sent: number;
  failed: number;
  removed: number;
  retriesScheduled: number;
  eventsHandled: number;
}

export class PushSender {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly token = randomBytes(12).toString('base64url');
  private readonly feed: Feed;
  private readonly blockingFeed: Feed;
  private readonly client: PushClient;
  private readonly leaseMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  /** Retries waiting in Redis, as `subId alertId` (kept in step while this sender holds the lease). */
  private readonly pending = new Set<string>();
  /** Priorities of recent alerts, for the Urgency of their retractions. */
  private readonly priorities = new Map<string, string>();
  private holding = false;
  private leaseTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  readonly stats: PushSenderStats = { sent: 0, failed: 0, removed: 0, retriesScheduled: 0, eventsHandled: 0 };

  constructor(private readonly o: PushSenderOptions) {
    this.feed = new Feed(o.redis, o.keys);
    this.blockingFeed = new Feed(o.blocking, o.keys, { behindIo: true });
    this.client = new PushClient({ signer: o.signer, concurrencyPerOrigin: o.concurrencyPerOrigin, allowPrivate: o.allowPrivate });
    this.leaseMs = o.leaseMs ?? 10_000;
    this.retryBaseMs = o.retryBaseMs ?? 1000;
    this.retryMaxMs = o.retryMaxMs ?? 10 * 60_000;
  }

  /**
   * Starts sending. On the very first start the cursor is set to the feed's
   * end before this resolves: subscribers get every event from then on.
   */
  async start(): Promise<void> {
    if (this.running) return;
    if (!(await this.o.redis.get(this.o.keys.pushCursor))) await this.o.redis.set(this.o.keys.pushCursor, await this.feed.lastId(), 'NX');
    this.running = true;
    this.loop = this.run();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async takeLease(): Promise<boolean> {
    return Number(await runScript(this.o.redis, 'pushLease', [this.o.keys.pushLease], [this.token, this.leaseMs])) === 1;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (!(await this.takeLease())) {
          await this.sleep(Math.max(200, this.leaseMs / 4));
          continue;
        }
        this.holding = true;
        this.keepLease();
        this.o.log.info('push sender holds the lease; sending');
        await this.sendWhileHolding();
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        failures++;
        if (failures === 1) this.o.log.warn({ err: String(err) }, 'push sender lost Redis or its lease; will resume from its cursor');
        await this.sleep(Math.min(100 * failures, 2000));
      } finally {
        this.holding = false;
        if (this.leaseTimer) clearInterval(this.leaseTimer);
      }
    }
  }

  private keepLease(): void {
    this.leaseTimer = setInterval(() => {
      this.takeLease().then(
        (held) => {
          if (!held && this.holding) {
            this.o.log.warn('push sender lost its lease; another worker sends now');
            this.holding = false;
          }
        },
        () => undefined,
      );
    }, Math.max(100, this.leaseMs / 3));
    this.leaseTimer.unref();
  }

  private async sendWhileHolding(): Promise<void> {
    const { redis, keys } = this.o;
    let cursor = (await redis.get(keys.pushCursor)) ?? (await this.feed.lastId());
    this.pending.clear();
    for (const m of await redis.hkeys(keys.pushRetryData)) this.pending.add(m);
    let nextRetryCheck = 0;
    while (this.running && this.holding) {
      if (Date.now() >= nextRetryCheck) {
        await this.runDueRetries();
        nextRetryCheck = Date.now() + 250;
      }
      const events = await this.blockingFeed.readOrDrop(cursor, this.pending.size ? 250 : BLOCK_MS, FEED_BATCH, this.o.linkTimeoutMs ?? 2000, (waitedMs) => {
        metrics.redisLinkDrops.inc({ connection: 'push-sender' });
        this.o.log.warn({ waitedMs }, 'push sender: Redis did not answer a blocking read in time (half-open link); dropping it, resuming from the cursor');
      });
      for (const e of events) {
        if (!this.running || !this.holding) return;
        await this.handle(e);
        if (!(await this.moveCursor(e.eventId))) return;
        cursor = e.eventId;
        this.stats.eventsHandled++;
      }
    }
  }

  private async moveCursor(eventId: string): Promise<boolean> {
    const { keys } = this.o;
    const moved = Number(await runScript(this.o.redis, 'pushCursor', [keys.pushLease, keys.pushCursor], [this.token, eventId])) === 1;
    if (!moved) this.holding = false;
    return moved;
  }

  private async priorityOf(e: FeedEvent): Promise<string | undefined> {
    const p = framePriority(e);
    if (p) {
      this.priorities.set(e.alertId, p);
      if (this.priorities.size > 10_000) this.priorities.delete(this.priorities.keys().next().value as string);
      return p;
    }
    return this.priorities.get(e.alertId) ?? (await this.o.redis.hget(this.o.keys.alert(e.alertId), 'priority')) ?? undefined;
  }

  /** Pushes one event to every subscription that covers it. */
  private async handle(e: FeedEvent): Promise<void> {
    const now = Date.now();
    if (isExpired(e, now)) return;
    const push = preparePush(e, await this.priorityOf(e), now);
    if (!push) {
      this.o.log.warn({ eventId: e.eventId, alertId: e.alertId }, 'push payload too large even without summary and url; not pushed');
      return;
    }
    if (push.deadline <= now) return;
    const ids = await this.o.store.idsCovering(e.topics);
    const isPrivate = e.topics.some(isPrivateTopic);
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const records = await this.o.store.getMany(chunk);
      const sends: Promise<void>[] = [];
      for (let k = 0; k < chunk.length; k++) {
        const rec = records[k];
        if (!rec || !anyCovers(rec.topics, e.topics)) {
          // A stale index entry (see subscriptions.ts): costs this lookup, never a push.
          void this.o.store.dropStaleEntries(chunk[k]!, e.topics, rec).catch(() => undefined);
          continue;
        }
        if (isPrivate && rec.grantExpiresAt && rec.grantExpiresAt <= now) continue;
        sends.push(this.deliver(rec, push, 1));
      }
      await Promise.all(sends);
    }
  }

  /** One push and what its answer means. */
  private async deliver(rec: PushSubscriptionRecord, push: PreparedPush, attempt: number): Promise<void> {
    const member = `${rec.id} ${push.alertId}`;
    // Whatever waited for this subscription and alert is older than this push.
    if (attempt === 1 && this.pending.has(member)) await this.dropRetry(member);
    const res = await this.client.send(rec.endpoint, rec.keys, push);
    if (res.status >= 200 && res.status < 300) {
      this.stats.sent++;
      metrics.pushSent.inc();
      return;
    }
    this.stats.failed++;
    metrics.pushFailures.inc({ status: String(res.status) });
    if (res.status === 404 || res.status === 410) {
      if (await this.o.store.remove(rec.id)) {
        this.stats.removed++;
        metrics.pushSubscriptionsRemoved.inc({ reason: 'gone' });
      }
      return;
    }
    if (res.status === 0 || res.status === 429 || res.status >= 500) await this.scheduleRetry(member, push, attempt, res);
    else this.o.log.warn({ endpoint: originOf(rec.endpoint), status: res.status, eventId: push.eventId }, 'push service refused a push; not retried');
  }

  private async scheduleRetry(member: string, push: PreparedPush, attempt: number, res: PushResult): Promise<void> {
    const backoff = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
    const due = Date.now() + (res.retryAfterMs ?? backoff);
    if (due >= push.deadline) {
      this.o.log.info({ member, eventId: push.eventId, attempt, status: res.status }, 'push not delivered before its TTL ran out; given up');
      return;
    }
    const entry: RetryEntry = { eventId: push.eventId, attempt: attempt + 1, deadline: push.deadline };
    await this.o.redis.multi().hset(this.o.keys.pushRetryData, member, JSON.stringify(entry)).zadd(this.o.keys.pushRetryDue, due, member).exec();
    this.pending.add(member);
    this.stats.retriesScheduled++;
  }

  private async dropRetry(member: string): Promise<void> {
    this.pending.delete(member);
    await this.o.redis.multi().hdel(this.o.keys.pushRetryData, member).zrem(this.o.keys.pushRetryDue, member).exec();
  }

  /** Sends the retries whose time has come. */
  private async runDueRetries(): Promise<void> {
    if (this.pending.size === 0) return;
    const { redis, keys } = this.o;
    const due = await redis.zrangebyscore(keys.pushRetryDue, '-inf', Date.now(), 'LIMIT', 0, CHUNK);
    if (due.length === 0) return;
    const raw = await redis.hmget(keys.pushRetryData, ...due);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < due.length; i++) {
      const member = due[i]!;
      const text = raw[i];
      await this.dropRetry(member);
      if (!text) continue;
      const entry = JSON.parse(text) as RetryEntry;
      const now = Date.now();
      if (entry.deadline <= now) continue;
      const [subId] = member.split(' ');
      const [rec, events] = await Promise.all([this.o.store.get(subId!), this.feed.after(previousId(entry.eventId), 1)]);
      const e = events[0];
      if (!rec || !e || e.eventId !== entry.eventId || isExpired(e, now)) continue;
      const push = preparePush(e, await this.priorityOf(e), now);
      if (!push) continue;
      sends.push(this.deliver(rec, { ...push, deadline: Math.min(push.deadline, entry.deadline) }, entry.attempt));
    }
    await Promise.all(sends);
  }

  /** Stops sending and gives up the lease so another worker takes over at once; idempotent. */
  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    this.wake?.();
    await cutTail(this.o.blocking, this.loop);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await runScript(this.o.redis, 'pushLease', [this.o.keys.pushLease], [this.token, '0']).catch(() => undefined);
    this.client.close();
  }
}

function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return '?';
  }
}

/** The id just before `id`, for an inclusive read of one event with an exclusive range. */
function previousId(id: string): string {
  const dash = id.indexOf('-');
  const ms = id.slice(0, dash);
  const seq = BigInt(id.slice(dash + 1));
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  const m = BigInt(ms);
  return m > 0n ? `${m - 1n}-18446744073709551615` : ZERO_EVENT_ID;
}
