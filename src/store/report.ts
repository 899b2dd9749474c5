/**
 * Delivery reports. Each gateway counts, per alert, the sockets and SSE
 * streams it wrote the alert to, the receipts its readers sent, and its own
 * time from the feed to its last write; it adds them to one Redis hash per
 * alert in batches. The API sums and summarises them when the alert is read.
 *
 * Hash `report:{id}`: `deliveries`, `receipts` (HINCRBY by every gateway) and
 * `lat:{gatewayId}` (that gateway's feed-to-last-write ms). It takes the
 * alert record's expiry, so both go together (FLASHWIRE_RECORD_RETENTION_SECONDS).
 *
 * A receipt counts only for an alert event that was written to the reader
 * that acknowledges it, and only once: the reader keeps the events it was
 * written and not yet acknowledged (Reader.takeAck).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DeliveryReport } from '../alert/schema';
import { eventTime } from '../feed/event-id';
import type { Keys } from '../redis/keys';
import { defineScripts, pipeScript } from '../redis/scripts';

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
  /** FLASHWIRE_RECORD_RETENTION_SECONDS in ms: a report's expiry when its record has none. */
  retentionMs?: number;
}

/** One gateway's side of the delivery reports. */
export class ReportWriter {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushMs: number;
  private readonly retentionMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    readonly gatewayId: string,
    private readonly log: Logger,
    o: ReportWriterOptions = {},
  ) {
    this.flushMs = o.flushMs ?? 250;
    this.retentionMs = o.retentionMs ?? 30 * 24 * 3600 * 1000;
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
    if (count === 0) return;
    const p = this.entry(alertId);
    p.deliveries += count;
    p.latencyMs = Math.max(0, finishedAt - eventTime(eventId));
  }

  /** A reader acknowledged alert `alertId`, written to it and not acknowledged before (Reader.takeAck). */
  receipt(alertId: string): void {
    this.entry(alertId).receipts++;
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
    defineScripts(this.redis);
    const pipe = this.redis.pipeline();
    for (const [alertId, p] of batch) {
      pipeScript(pipe, 'reportAdd', [this.keys.report(alertId), this.keys.alert(alertId)], [
        p.deliveries,
        p.receipts,
        p.latencyMs !== undefined ? LATENCY_FIELD + this.gatewayId : '',
        p.latencyMs ?? 0,
        this.retentionMs,
      ]);
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
