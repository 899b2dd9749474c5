/**
 * Every Prometheus metric Flashwire exports, in one registry per process
 * (a process is what Prometheus scrapes; the `instance` label tells them
 * apart).
 *
 * Hot paths never pay for metrics per delivery: the gateway already counts
 * deliveries, readers and slow cut-offs in plain fields, and those are read
 * here at scrape time through `collect()` callbacks. What is counted as it
 * happens is counted once per alert or per feed event.
 */
import cluster from 'node:cluster';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Queue } from 'bullmq';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { decodeTime } from 'ulid';
import { PRIORITIES } from '../alert/schema';
import { bearerCredential } from '../auth/bearer';
import { eventTime } from '../feed/event-id';
import type { FeedEvent } from '../feed/feed-event';
import { priorityInFrame } from '../feed/frame-text';
import { writeProblem } from '../http/problem';
import { priorityOfRank } from '../queue/alert-queue';

const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'flashwire_' });
// prom-client also exports each `nodejs_active_{handles,requests,resources}`
// gauge's sum as `..._total`, a suffix Prometheus reserves for counters
// (`promtool check metrics` flags it). The per-type gauges stay; their sum
// is `sum(flashwire_nodejs_active_handles)`.
for (const name of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`flashwire_nodejs_active_${name}_total`);
// A forked gateway process answers its primary's collection requests with this registry.
// (prom-client only starts answering once an AggregatorRegistry exists in the process.)
if (cluster.isWorker) {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
}

/** The figures a gateway counts in plain fields as it works (never per delivery here). */
export interface GatewayCounters {
  readonly deliveries: number;
  readonly slowDisconnects: number;
  readonly eventsTailed: number;
  readonly receipts: number;
  readonly threadWrites: number;
}

/**
 * What the collectors read from a gateway at scrape time. Declared here and
 * wired by the process that runs the gateway, so the gateway reports to
 * metrics and metrics never reaches back into the gateway.
 */
export interface GatewayStats {
  /** A live view: read at each scrape, and once more when the gateway retires. */
  readonly counters: GatewayCounters;
  /** Readers connected now, by transport. */
  readers(): { ws: number; sse: number };
}

/** What a running Service lends to the collectors while it runs. */
export interface MetricSources {
  gateway?: GatewayStats;
  queue?: Queue;
}

const sources = new Set<MetricSources>();
/** Totals of gateways that stopped, so counters never go down while the process lives. */
const retired = { deliveries: 0, slowDisconnects: 0, eventsTailed: 0, receipts: 0, threadWrites: 0 };

/** Lends a service's parts to the collectors; returns the function that takes them back. */
export function track(s: MetricSources): () => void {
  sources.add(s);
  return () => {
    if (!sources.delete(s)) return;
    const st = s.gateway?.counters;
    if (st) {
      retired.deliveries += st.deliveries;
      retired.slowDisconnects += st.slowDisconnects;
      retired.eventsTailed += st.eventsTailed;
      retired.receipts += st.receipts;
      retired.threadWrites += st.threadWrites;
    }
  };
}

function gatewayTotal(field: keyof typeof retired): number {
  let n = retired[field];
  for (const s of sources) n += s.gateway?.counters[field] ?? 0;
  return n;
}

/** A counter whose value is read from a plain field at scrape time. */
function readCounter(name: string, help: string, field: keyof typeof retired): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(gatewayTotal(field));
    },
  });
}

export const metrics = {
  readers: new Gauge({
    name: 'flashwire_readers',
    help: 'Readers connected to this gateway process, by transport',
    labelNames: ['transport'] as const,
    registers: [registry],
    collect() {
      let ws = 0;
      let sse = 0;
      for (const s of sources) {
        const n = s.gateway?.readers();
        ws += n?.ws ?? 0;
        sse += n?.sse ?? 0;
      }
      this.set({ transport: 'ws' }, ws);
      this.set({ transport: 'sse' }, sse);
    },
  }),
  alertsAccepted: new Counter({ name: 'flashwire_alerts_accepted_total', help: 'Alerts accepted by the API (202)', labelNames: ['priority'] as const, registers: [registry] }),
  alertsSent: new Counter({ name: 'flashwire_alerts_sent_total', help: 'Alerts appended to the feed by this worker', labelNames: ['priority'] as const, registers: [registry] }),
  alertsCorrected: new Counter({ name: 'flashwire_alerts_corrected_total', help: 'Corrections accepted by the API', registers: [registry] }),
  alertsRetracted: new Counter({ name: 'flashwire_alerts_retracted_total', help: 'Retractions accepted by the API', registers: [registry] }),
  alertsExpired: new Counter({ name: 'flashwire_alerts_expired_total', help: 'Alerts whose expiresAt passed before the worker could send them', registers: [registry] }),
  alertsFailed: new Counter({ name: 'flashwire_alerts_failed_total', help: 'Alerts this worker marked failed: every send attempt failed, or the send was never queued', registers: [registry] }),
  deliveries: readCounter('flashwire_deliveries_total', 'Feed events written to reader sockets and SSE streams by this gateway', 'deliveries'),
  feedEvents: readCounter('flashwire_feed_events_total', 'Feed events this gateway read from the feed', 'eventsTailed'),
  slowDisconnects: readCounter('flashwire_slow_reader_disconnects_total', 'Readers cut off for being too slow (4008)', 'slowDisconnects'),
  receipts: readCounter('flashwire_receipts_total', 'Reader acknowledgements (ack frames) received', 'receipts'),
  threadWrites: readCounter('flashwire_gateway_thread_writes_total', "Socket writes of this gateway's fan-outs made by its write threads (FLASHWIRE_GATEWAY_WRITE_THREADS) rather than its main thread", 'threadWrites'),
  acceptToFeed: new Histogram({
    name: 'flashwire_accept_to_feed_seconds',
    help: 'From the 202 (or the end of an embargo) to the alert entering the feed',
    labelNames: ['priority'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  }),
  feedToSocket: new Histogram({
    name: 'flashwire_feed_to_socket_seconds',
    help: 'From an event entering the feed to this gateway finishing its dispatch to every local reader',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  }),
  queueJobs: new Gauge({
    name: 'flashwire_queue_jobs',
    help: 'Send jobs in the BullMQ queue by state (waiting and prioritized are the backlog; failed are kept 7 days)',
    labelNames: ['state'] as const,
    registers: [registry],
    // Every api process reports the same queue: summing would multiply it.
    aggregator: 'max',
    async collect() {
      const counts = await queueCounts();
      if (!counts) return;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  }),
  reachTo90: new Histogram({
    name: 'flashwire_reach_time_to_90_percent_seconds',
    help: "From an alert entering the feed until this gateway had written it to 90% of its readers connected at send (each gateway's figure bounds the whole: if every gateway reaches 90% by t, so do all together)",
    labelNames: ['priority'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
    registers: [registry],
  }),
  canarySeconds: new Gauge({
    name: 'flashwire_canary_seconds',
    help: 'End-to-end time of the last canary alert: from its POST to its frame on a reader socket (FLASHWIRE_CANARY_SECONDS)',
    registers: [registry],
  }),
  canaryLastSuccess: new Gauge({
    name: 'flashwire_canary_last_success_timestamp_seconds',
    help: 'When the last canary alert arrived end to end (unix time); alert on time() minus this',
    registers: [registry],
    aggregator: 'max',
  }),
  pushSent: new Counter({ name: 'flashwire_push_sent_total', help: 'Web Push messages a push service accepted (2xx)', registers: [registry] }),
  pushFailures: new Counter({
    name: 'flashwire_push_failures_total',
    help: 'Web Push attempts that failed, by the push service status (0 when none came: refused, timed out); 429 and 5xx are retried',
    labelNames: ['status'] as const,
    registers: [registry],
  }),
  pushSubscriptionsRemoved: new Counter({
    name: 'flashwire_push_subscriptions_removed_total',
    help: 'Web Push subscriptions deleted: gone (the push service said 404/410) or unsubscribed (DELETE)',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  redisReconnects: new Counter({ name: 'flashwire_redis_reconnects_total', help: 'Times a Redis connection was lost and retried', labelNames: ['connection'] as const, registers: [registry] }),
  redisLinkDrops: new Counter({ name: 'flashwire_redis_link_drops_total', help: 'Times a silent (half-open) Redis link was dropped by Flashwire so that it reconnects', labelNames: ['connection'] as const, registers: [registry] }),
};

// Series exist from the start, so rate() and absent() work before the first alert.
for (const priority of PRIORITIES) {
  metrics.alertsAccepted.inc({ priority }, 0);
  metrics.alertsSent.inc({ priority }, 0);
  metrics.acceptToFeed.zero({ priority });
  metrics.reachTo90.zero({ priority });
}

for (const reason of ['gone', 'unsubscribed']) metrics.pushSubscriptionsRemoved.inc({ reason }, 0);
/** What the webhook engines of this process lend to the collectors. */
interface WebhookEngineStats {
  lagSeconds(): number;
  readonly leased: readonly string[];
}
const webhookEngines = new Set<WebhookEngineStats>();
const WEBHOOK_FAILURE_REASONS = ['timeout', 'blocked', 'network', 'redirect', 'gone', 'http_4xx', 'http_5xx'] as const;

/** Webhooks (worker role). Labels are bounded: a failure reason, never an endpoint or event. */
export const webhookMetrics = {
  engines: webhookEngines,
  deliveries: new Counter({ name: 'flashwire_webhook_deliveries_total', help: 'Webhook calls answered with a 2xx', registers: [registry] }),
  failures: new Counter({ name: 'flashwire_webhook_failures_total', help: 'Webhook calls that failed, by reason (each is retried unless it disabled the endpoint)', labelNames: ['reason'] as const, registers: [registry] }),
  lag: new Gauge({
    name: 'flashwire_webhook_lag_seconds',
    help: 'Age of the oldest event a webhook endpoint delivered by this process is still waiting to deliver (0 when all are caught up)',
    registers: [registry],
    aggregator: 'max',
    collect() {
      let lag = 0;
      for (const e of webhookEngines) lag = Math.max(lag, e.lagSeconds());
      this.set(lag);
    },
  }),
  leased: new Gauge({
    name: 'flashwire_webhook_endpoints_leased',
    help: 'Webhook endpoints this process delivers to',
    registers: [registry],
    collect() {
      let n = 0;
      for (const e of webhookEngines) n += e.leased.length;
      this.set(n);
    },
  }),
};
for (const reason of WEBHOOK_FAILURE_REASONS) webhookMetrics.failures.inc({ reason }, 0);

const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'failed'] as const;
/** Scrapes from several Prometheus replicas within this window share one query. */
const QUEUE_CACHE_MS = 1000;
let queueCache: { at: number; counts: Promise<Record<string, number> | undefined> } | undefined;

function queueCounts(): Promise<Record<string, number> | undefined> {
  const now = Date.now();
  if (queueCache && now - queueCache.at < QUEUE_CACHE_MS) return queueCache.counts;
  const queue = [...sources].find((s) => s.queue)?.queue;
  // Redis away: leave the gauge as it was rather than fail the whole scrape.
  const counts = queue ? queue.getJobCounts(...QUEUE_STATES).catch(() => undefined) : Promise.resolve(undefined);
  queueCache = { at: now, counts };
  return counts;
}

/**
 * Worker: an alert entered the feed. Measured from its ULID's time (= createdAt)
 * plus any embargo; an alert queued later than that (`queuedAt`: its send
 * job was added when a second editor approved it) is measured from then, so
 * time spent waiting for approval is not counted as delivery delay.
 */
export function observeSent(alertId: string, eventId: string, delayMs: number | undefined, priorityRank: number | undefined, queuedAt?: number): void {
  const priority = priorityOfRank(priorityRank) ?? 'unknown';
  metrics.alertsSent.inc({ priority });
  const fedAt = Number(eventId.slice(0, eventId.indexOf('-')));
  const due = Math.max(decodeTime(alertId), queuedAt ?? 0) + (delayMs ?? 0);
  if (fedAt > 0 && due > 0) metrics.acceptToFeed.observe({ priority }, Math.max(0, fedAt - due) / 1000);
}

/** Gateway: one feed event has been handed to every local reader. Once per event, never per reader. */
export function observeDispatched(eventId: string, now: number): void {
  const fedAt = Number(eventId.slice(0, eventId.indexOf('-')));
  if (fedAt > 0) metrics.feedToSocket.observe(Math.max(0, now - fedAt) / 1000);
}

/**
 * Gateway: an alert was written to `n` local readers between `started` and
 * `finished`; observes this gateway's time to 90% of them (writes spread
 * evenly over the one synchronous dispatch, as in the report's reach). The
 * priority is read from the frame once per alert: in JSON text the key can
 * only appear unescaped as the alert's own field.
 */
export function observeReach(e: FeedEvent, n: number, started: number, finished: number): void {
  const fedAt = eventTime(e.eventId);
  const at90 = started + ((finished - started) * Math.ceil(0.9 * n)) / n;
  const priority = priorityInFrame(e.frame) ?? 'unknown';
  metrics.reachTo90.observe({ priority }, Math.max(0, at90 - fedAt) / 1000);
}

const CLUSTER_ASK = 'flashwire:metrics?';
const CLUSTER_ANSWER = 'flashwire:metrics';
interface ClusterAnswer {
  type: typeof CLUSTER_ANSWER;
  id: number;
  text?: string;
}

/**
 * In a node:cluster primary (FLASHWIRE_GATEWAY_PROCESSES > 1): the forked
 * processes share one port, so a scrape lands on any one of them. That one
 * asks the primary, which collects every process's figures and sums them.
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, msg: { type?: string; id?: number }) => {
    if (msg?.type !== CLUSTER_ASK) return;
    const answer = (text?: string) => worker.isConnected() && worker.send({ type: CLUSTER_ANSWER, id: msg.id ?? 0, text } satisfies ClusterAnswer);
    aggregator.clusterMetrics().then(answer, () => answer(undefined));
  });
}

let asked = 0;
/** This process's figures, or every forked process's when it is one of several. */
function processMetrics(): Promise<string> {
  const send = process.send?.bind(process);
  if (!cluster.isWorker || !send) return registry.metrics();
  const id = ++asked;
  return new Promise((resolve) => {
    const done = (text: string | undefined) => {
      clearTimeout(timer);
      process.off('message', onMessage);
      // A primary that does not aggregate (or failed to): this process alone is better than nothing.
      if (text === undefined) void registry.metrics().then(resolve);
      else resolve(text);
    };
    const onMessage = (m: ClusterAnswer) => {
      if (m?.type === CLUSTER_ANSWER && m.id === id) done(m.text);
    };
    const timer = setTimeout(() => done(undefined), 3000);
    process.on('message', onMessage);
    send({ type: CLUSTER_ASK, id });
  });
}

/**
 * GET /metrics for the HTTP front. With a key configured, the scraper must
 * send it as a bearer token (Prometheus: `authorization: { credentials: … }`).
 */
export function metricsHandler(key: string | undefined): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = key ? createHash('sha256').update(key).digest() : undefined;
  return (req, res) => {
    if (expected) {
      const credential = bearerCredential(req.headers.authorization);
      const given = credential === undefined ? undefined : createHash('sha256').update(credential).digest();
      if (!given || !timingSafeEqual(given, expected)) {
        writeProblem(res, 'unauthorized', 'metrics need "Authorization: Bearer FLASHWIRE_METRICS_KEY"', { headers: { 'WWW-Authenticate': 'Bearer realm="flashwire-metrics"' } });
        return;
      }
    }
    processMetrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      },
      (err: unknown) => writeProblem(res, 'internal', `metrics failed: ${String(err)}`),
    );
  };
}
