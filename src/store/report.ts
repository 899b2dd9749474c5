/**
 * Delivery reports. Each gateway counts, per alert, the sockets and SSE
 * streams it wrote the alert to, the receipts its readers sent, and its own
 * time from the feed to its last write; it adds them to one Redis hash per
 * alert in batches. The API sums and summarises them when the alert is read.
 *
 * Hash `report:{id}`: `deliveries`, `receipts` (HINCRBY by every gateway) and
 * `lat:{gatewayId}` (that gateway's feed-to-last-write ms).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DeliveryReport } from '../alert/schema';
import { compareEventIds, eventTime } from '../feed/event-id';
import type { Keys } from '../redis/keys';

const LATENCY_FIELD = 'lat:';

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** p50/p90/p99/max over the gateways that wrote the alert; null when none did. */
export function latencySummary(reportHash: Record<string, string>): DeliveryReport['feedToLastWriteMs'] {
  const values: number[] = [];
  for (const [k, v] of Object.entries(reportHash)) if (k.startsWith(LATENCY_FIELD)) values.push(Number(v));
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  return { p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99), max: values[values.length - 1] as number };
}

interface Pending {
  deliveries: number;
  receipts: number;
  latencyMs: number | undefined;
}

export interface ReportWriterOptions {
  /** How often counts go to Redis: a burst of deliveries costs one round trip, not one each. */
  flushMs?: number;
  /** Alert events remembered to map a receipt's eventId to its alert. */
  rememberEvents?: number;
}

/** One gateway's side of the delivery reports. */
export class ReportWriter {
  private pending = new Map<string, Pending>();
  /** eventId -> alertId of recent `alert` events, oldest first. */
  private readonly alertOf = new Map<string, string>();
  /** The newest eventId each reader acknowledged: repeated acks count once. */
  private readonly lastAck = new WeakMap<object, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushMs: number;
  private readonly remember: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    readonly gatewayId: string,
    private readonly log: Logger,
    o: ReportWriterOptions = {},
  ) {
    this.flushMs = o.flushMs ?? 250;
    this.remember = o.rememberEvents ?? 10_000;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left; idempotent. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** An `alert` event was written to `count` readers; its dispatch finished at `finishedAt`. */
  delivered(eventId: string, alertId: string, count: number, finishedAt: number): void {
    this.alertOf.set(eventId, alertId);
    if (this.alertOf.size > this.remember) this.alertOf.delete(this.alertOf.keys().next().value as string);
    if (count === 0) return;
    const p = this.entry(alertId);
    p.deliveries += count;
    p.latencyMs = Math.max(0, finishedAt - eventTime(eventId));
  }

  /** A reader acknowledged an event; counted when it is an alert this gateway sent. */
  receipt(reader: object, eventId: string): boolean {
    const alertId = this.alertOf.get(eventId);
    if (alertId === undefined) return false;
    const last = this.lastAck.get(reader);
    if (last !== undefined && compareEventIds(eventId, last) <= 0) return false;
    this.lastAck.set(reader, eventId);
    this.entry(alertId).receipts++;
    return true;
  }

  /** Writes the counts gathered since the last flush in one pipeline. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private entry(alertId: string): Pending {
    let p = this.pending.get(alertId);
    if (!p) {
      p = { deliveries: 0, receipts: 0, latencyMs: undefined };
      this.pending.set(alertId, p);
    }
    return p;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const pipe = this.redis.pipeline();
    for (const [alertId, p] of batch) {
      const key = this.keys.report(alertId);
      if (p.deliveries) pipe.hincrby(key, 'deliveries', p.deliveries);
      if (p.receipts) pipe.hincrby(key, 'receipts', p.receipts);
      if (p.latencyMs !== undefined) pipe.hset(key, LATENCY_FIELD + this.gatewayId, p.latencyMs);
    }
    try {
      const res = await pipe.exec();
      if (res?.some(([err]) => err)) throw res.find(([err]) => err)![0];
    } catch (err) {
      // Redis is away: keep the counts and add them on the next flush. A
      // partial pipeline may count some twice; a report is a measure, not a
      // ledger, and losing all of it would be worse.
      this.log.debug({ err: String(err) }, 'delivery report flush failed; will retry');
      for (const [alertId, p] of batch) {
        const q = this.entry(alertId);
        q.deliveries += p.deliveries;
        q.receipts += p.receipts;
        q.latencyMs ??= p.latencyMs;
      }
    }
  }
}
