/**
 * Delivery reports. Each gateway counts, per alert, the sockets and SSE
 * streams it wrote the alert to, the receipts its readers sent, and its own
 * time from the feed to its last write; it adds them to one Redis hash per
 * alert in batches. The API sums and summarises them when the alert is read.
 *
 * Hash `report:{id}`: `deliveries`, `receipts` (HINCRBY by every gateway) and
 * `lat:{gatewayId}` (that gateway's feed-to-last-write ms) and
 * `reach:{gatewayId}` = `N FIRST LAST`: that gateway wrote the alert to the N
 * readers it held at send, the first write FIRST ms and the last LAST ms
 * after the feed append. A dispatch is one synchronous loop of equal writes,
 * so the gateway's writes are spread evenly between the two: three numbers
 * per gateway give every percentile over all gateways (`reachSummary`),
 * with nothing stored per reader. It takes the alert record's expiry, so
 * both go together (FLASHWIRE_RECORD_RETENTION_SECONDS).
 *
 * A receipt counts only for an alert event that was written to the reader
 * that acknowledges it, and only once: the reader keeps the events it was
 * written and not yet acknowledged (Reader.takeAck).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DeliveryReport, Reach } from '../alert/schema';
import { eventTime } from '../feed/event-id';
import type { Keys } from '../redis/keys';
import { defineScripts, pipeScript } from '../redis/scripts';

const LATENCY_FIELD = 'lat:';
const REACH_FIELD = 'reach:';

/** One gateway's share of an alert's reach: `n` writes spread evenly from `first` to `last` ms after the append. */
export interface ReachSpan {
  n: number;
  first: number;
  last: number;
}

/** Writes of one span done by `t` ms: the i-th (1-based) goes at first + (last - first) * i / n. */
function writtenBy(s: ReachSpan, t: number): number {
  if (t < s.first) return 0;
  if (t >= s.last) return s.n;
  return Math.floor((s.n * (t - s.first)) / (s.last - s.first));
}

/** The least whole ms by which p% of every span's writes were done; null with no writes. */
export function reachPercentile(spans: readonly ReachSpan[], p: number): number | null {
  const total = spans.reduce((n, s) => n + s.n, 0);
  if (total === 0) return null;
  const want = Math.max(1, Math.ceil((p / 100) * total));
  let lo = Math.min(...spans.map((s) => s.first));
  let hi = Math.max(...spans.map((s) => s.last));
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (spans.reduce((n, s) => n + writtenBy(s, mid), 0) >= want) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** report.reach from the gateways' spans; null until some gateway reported. */
export function reachSummary(reportHash: Record<string, string>): Reach | null {
  const spans: ReachSpan[] = [];
  for (const [k, v] of Object.entries(reportHash)) {
    if (!k.startsWith(REACH_FIELD)) continue;
    const [n, first, last] = v.split(' ').map(Number);
    if (n === undefined || first === undefined || last === undefined || [n, first, last].some((x) => !Number.isFinite(x))) continue;
    spans.push({ n, first, last: Math.max(first, last) });
  }
  if (spans.length === 0) return null;
  return {
    readersAtSend: spans.reduce((n, s) => n + s.n, 0),
    p50Ms: reachPercentile(spans, 50),
    p90Ms: reachPercentile(spans, 90),
    p99Ms: reachPercentile(spans, 99),
  };
}

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
  reach: ReachSpan | undefined;
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

  /**
   * An `alert` event was written to `count` readers; its dispatch started at
   * `startedAt` (default: when it finished) and finished at `finishedAt`.
   * Reach is recorded even for no readers: "nobody was connected" is an answer.
   */
  delivered(eventId: string, alertId: string, count: number, finishedAt: number, startedAt: number = finishedAt): void {
    const fedAt = eventTime(eventId);
    const p = this.entry(alertId);
    p.reach = { n: count, first: Math.max(0, startedAt - fedAt), last: Math.max(0, finishedAt - fedAt) };
    if (count === 0) return;
    p.deliveries += count;
    p.latencyMs = Math.max(0, finishedAt - fedAt);
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
      p = { deliveries: 0, receipts: 0, latencyMs: undefined, reach: undefined };
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
        p.reach !== undefined ? REACH_FIELD + this.gatewayId : '',
        p.reach !== undefined ? `${p.reach.n} ${p.reach.first} ${p.reach.last}` : '',
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
        q.reach ??= p.reach;
        q.reach ??= p.reach;
      }
    }
  }
}
