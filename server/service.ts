/**
 * One Flashwire process: the roles it was asked to run, started in order
 * (Redis, API, worker, gateway, then the port) and stopped in reverse.
 */
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings';
import { FanoutWorker } from '../workers/fanout.worker';
import { createApi } from '../src/api/app';
import { ApiKeyStore } from '../src/auth/api-keys';
import { CredentialAuthenticator } from '../src/auth/authenticator';
import { RevocationListener } from '../src/auth/revocations';
import { SubscriberTokens } from '../src/auth/subscriber-token';
import { Gateway } from '../src/gateway/gateway';
import { SseEndpoint } from '../src/gateway/sse-endpoint';
import { WsEndpoint } from '../src/gateway/ws-endpoint';
import { WsTransport } from '../src/gateway/ws-transport';
import { createFront } from '../src/http/front';
import { metrics, metricsHandler, track, type GatewayStats } from '../src/metrics/metrics';
import { createAlertQueue, type SendJobData } from '../src/queue/alert-queue';
import { closeQuietly, connect, describeTarget, waitReady, type ConnectionPurpose, type RedisTarget } from '../src/redis/connection';
import { PushSender } from '../src/push/sender';
import { PushSubscriptionStore } from '../src/push/subscriptions';
import { loadVapidKeys, VapidSigner } from '../src/push/vapid';
import { Keys } from '../src/redis/keys';
import { checkRedisVersion, warnAboutRedisConfig } from '../src/redis/server-check';
import { AlertChanges } from '../src/store/alert-changes';
import { AlertStore } from '../src/store/alert-store';
import { Audience } from '../src/store/audience';
import { Canary } from '../src/canary/canary';
import { AudiencePublisher } from '../src/gateway/audience-publisher';
import { createSiteHandler } from '../src/web/site';
import { WebhookEngine } from '../src/webhooks/engine';
import { SecretBox } from '../src/webhooks/secret-box';
import type { LookupAll } from '../src/webhooks/ssrf';
import { WebhookStore } from '../src/webhooks/store';
import { within } from '../src/within';

/**
 * Connections the kernel queues for accept(). Node's default, 511, overflows
 * when a gateway process dies and its readers all come back at once: the
 * kernel then drops their handshakes, and each waits for TCP's retransmits
 * (1, 3, 7, 15, 31 s...) instead of a moment in the queue. In cluster mode
 * the primary listens with it. The kernel caps it at net.core.somaxconn.
 */
const LISTEN_BACKLOG = 65_535;

export interface ServiceOptions {
  settings: Settings;
  log: Logger;
  redis: RedisTarget;
  /** Told once about a publish key created on a first run (shown once). */
  onFirstRunKey?: (secret: string) => void;
  /** The private redis-server `npm start` ran itself (its configuration is known good): no configuration warnings. */
  privateRedis?: boolean;
  /** How webhook hosts are resolved (the SSRF guard); tests inject one. */
  webhookLookup?: LookupAll;
}

export class Service {
  private readonly connections: Redis[] = [];
  private server: http.Server | undefined;
  private queue: Queue<SendJobData> | undefined;
  private worker: FanoutWorker | undefined;
  pushSender: PushSender | undefined;
  webhooks: WebhookEngine | undefined;
  gateway: Gateway | undefined;
  private ws: WsEndpoint | undefined;
  private sse: SseEndpoint | undefined;
  private revocations: RevocationListener | undefined;
  private stopping: Promise<void> | undefined;
  private untrackMetrics: (() => void) | undefined;
  private audiencePublisher: AudiencePublisher | undefined;
  private canary: Canary | undefined;
  /** Reader counts for GET /v1/audience; webhooks and push add their AudienceSource here. */
  audience: Audience | undefined;
  readonly keys: Keys;

  constructor(readonly options: ServiceOptions) {
    this.keys = new Keys(options.settings.FLASHWIRE_PREFIX);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  private open(purpose: ConnectionPurpose, name: string): Redis {
    const r = connect(this.options.redis, purpose, `flashwire:${name}`, {
      log: this.options.log,
      timeoutMs: this.options.settings.FLASHWIRE_REDIS_TIMEOUT_MS,
      onReconnecting: (connection) => metrics.redisReconnects.inc({ connection }),
      onLinkDropped: (connection) => metrics.redisLinkDrops.inc({ connection }),
    });
    this.connections.push(r);
    return r;
  }

  async start(): Promise<void> {
    const { settings: s, log } = this.options;
    const roles = s.FLASHWIRE_ROLES;
    const redis = this.open('command', 'command');
    await waitReady(redis, 15_000);
    redis.on('reconnecting', () => log.warn('Redis connection lost; reconnecting'));
    const version = await checkRedisVersion(redis, describeTarget(this.options.redis));
    log.info({ redis: describeTarget(this.options.redis), version, roles }, 'connected to Redis');
    if (!this.options.privateRedis) await warnAboutRedisConfig(redis, log);
    const retentionMs = s.FLASHWIRE_RECORD_RETENTION_SECONDS * 1000;
    const apiKeys = new ApiKeyStore(redis, this.keys, s.FLASHWIRE_PUBLISH_KEY);
    const authenticator = new CredentialAuthenticator(apiKeys, new SubscriberTokens(s.FLASHWIRE_JWT_SECRET));

    const pushSubscriptions = new PushSubscriptionStore(redis, this.keys);
    const vapid = roles.includes('api') || roles.includes('worker') ? await loadVapidKeys(redis, this.keys, { publicKey: s.FLASHWIRE_VAPID_PUBLIC_KEY, privateKey: s.FLASHWIRE_VAPID_PRIVATE_KEY }) : undefined;

    let api: ReturnType<typeof createApi> | undefined;
    if (roles.includes('api')) {
      this.queue = createAlertQueue(this.open('command', 'queue'), this.keys);
      // BullMQ checks the server's version on its connection once it is up;
      // until then the API could take a request it cannot queue, and a stop
      // in between would leave that check failing on a closed connection.
      await this.queue.waitUntilReady();
      const changes = new AlertChanges(redis, this.keys, { maxEntries: s.FLASHWIRE_FEED_MAX_ENTRIES, retentionMs: s.FLASHWIRE_FEED_RETENTION_SECONDS * 1000, recordRetentionMs: retentionMs });
      this.audience = new Audience(redis, this.keys);
      this.audience.addSource({ kind: 'push', count: (topics) => pushSubscriptions.countCovering(topics) });
      const webhookStore = new WebhookStore(redis, this.keys, new SecretBox(s.FLASHWIRE_SECRET_KEY));
      this.audience.addSource({ kind: 'webhooks', count: (topics) => webhookStore.countCovering(topics) });
      api = createApi({ settings: s, log, redis, keys: this.keys, alerts: new AlertStore(redis, this.keys, retentionMs), apiKeys, authenticator, changes, queue: this.queue, audience: this.audience, push: vapid && { publicKey: vapid.publicKey, subscriptions: pushSubscriptions }, webhookLookup: this.options.webhookLookup });
      await this.ensureFirstKey(apiKeys);
    }
    if (roles.includes('worker')) {
      this.worker = new FanoutWorker({ settings: s, log, bullConnection: this.open('blocking', 'worker-bull'), redis: this.open('blocking', 'worker'), keys: this.keys });
      await this.worker.start();
      this.pushSender = new PushSender({
        redis,
        blocking: this.open('tail', 'push-sender'),
        linkTimeoutMs: s.FLASHWIRE_REDIS_TIMEOUT_MS,
        keys: this.keys,
        log,
        store: pushSubscriptions,
        signer: new VapidSigner(vapid!, s.FLASHWIRE_VAPID_SUBJECT),
        concurrencyPerOrigin: s.FLASHWIRE_PUSH_CONCURRENCY_PER_ORIGIN,
        allowPrivate: s.FLASHWIRE_PUSH_ALLOW_PRIVATE,
      });
      await this.pushSender.start();
      // Webhook delivery runs in the worker role, beside the fan-out.
      this.webhooks = new WebhookEngine({
        store: new WebhookStore(redis, this.keys, new SecretBox(s.FLASHWIRE_SECRET_KEY)),
        redis,
        tail: this.open('tail', 'webhooks-tail'),
        linkTimeoutMs: s.FLASHWIRE_REDIS_TIMEOUT_MS,
        keys: this.keys,
        log,
        retryScheduleMs: s.FLASHWIRE_WEBHOOK_RETRY_SCHEDULE_MS,
        disableAfterMs: s.FLASHWIRE_WEBHOOK_DISABLE_AFTER_SECONDS * 1000,
        timeoutMs: s.FLASHWIRE_WEBHOOK_TIMEOUT_MS,
        leaseMs: s.FLASHWIRE_WEBHOOK_LEASE_MS,
        allowPrivate: s.FLASHWIRE_WEBHOOK_ALLOW_PRIVATE,
        lookup: this.options.webhookLookup,
      });
      this.webhooks.start();
    }
    if ((roles.includes('api') || roles.includes('worker')) && !s.FLASHWIRE_SECRET_KEY) {
      log.warn('FLASHWIRE_SECRET_KEY is not set: webhook secrets are stored unencrypted in Redis');
    }
    if (roles.includes('gateway')) {
      this.gateway = new Gateway({ settings: s, log, redis, tailConnection: this.open('tail', 'feed-tail'), keys: this.keys });
      await this.gateway.start();
      const gateway = this.gateway;
      this.audiencePublisher = new AudiencePublisher(redis, this.keys, gateway.reports.gatewayId, gateway, log);
      this.audiencePublisher.start();
      this.revocations = new RevocationListener(this.open('blocking', 'revocations'), this.keys.revocations, (name) => gateway.revokeKey(name), log, {
        recheck: () => gateway.recheckKeys((hashes) => apiKeys.stillStored(hashes)),
        recheckMs: s.FLASHWIRE_KEY_RECHECK_MS,
      });
      await this.revocations.start();
      this.ws = new WsEndpoint(this.gateway, authenticator);
      this.ws.start();
      this.sse = new SseEndpoint(this.gateway, authenticator);
      this.sse.start();
    }
    const ws = this.ws;
    const sse = this.sse;
    this.untrackMetrics = track({ gateway: this.gateway && gatewayStats(this.gateway), queue: this.queue });
    this.server = createFront({
      redis,
      roles,
      api,
      metrics: metricsHandler(s.FLASHWIRE_METRICS_KEY),
      gatewayRequest: sse ? (req, res) => sse.handleRequest(req, res) : undefined,
      gatewayUpgrade: ws ? (req, socket, head) => ws.handleUpgrade(req, socket, head) : undefined,
      site: roles.includes('api') || roles.includes('gateway') ? createSiteHandler() : undefined,
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen({ port: s.PORT, host: s.HOST, backlog: LISTEN_BACKLOG }, () => resolve());
    });
    log.info({ port: this.port, roles }, 'flashwire listening');
    if (s.FLASHWIRE_CANARY_SECONDS > 0) this.startCanary(apiKeys);
  }

  /** The canary needs this process's API and gateway: it posts to one and listens on the other. */
  private startCanary(apiKeys: ApiKeyStore): void {
    const { settings: s, log } = this.options;
    if (!s.FLASHWIRE_ROLES.includes('api') || !s.FLASHWIRE_ROLES.includes('gateway')) {
      log.warn('FLASHWIRE_CANARY_SECONDS is set but this process does not run both the api and gateway roles; no canary here');
      return;
    }
    const host = s.HOST === '0.0.0.0' || s.HOST === '::' ? '127.0.0.1' : s.HOST.includes(':') ? `[${s.HOST}]` : s.HOST;
    this.canary = new Canary({ baseUrl: `http://${host}:${this.port}`, everySeconds: s.FLASHWIRE_CANARY_SECONDS, apiKeys, log });
    this.canary.start();
  }

  /** On a first run with no keys at all, create a publish key and show it once. */
  private async ensureFirstKey(apiKeys: ApiKeyStore): Promise<void> {
    if (this.options.settings.FLASHWIRE_PUBLISH_KEY || !this.options.onFirstRunKey) return;
    if ((await apiKeys.count()) > 0) return;
    try {
      const { secret } = await apiKeys.create('first-run', ['publish']);
      this.options.onFirstRunKey(secret);
    } catch {
      // Another process created it first: that one shows it.
    }
  }

  /** Stops in reverse order of start-up; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const log = this.options.log;
      const step = async (what: string, fn: () => unknown) => {
        try {
          await fn();
        } catch (err) {
          log.warn({ err: String(err) }, `while stopping: ${what}`);
        }
      };
      const server = this.server;
      // Stop accepting first; in-flight requests and sockets are let go below.
      const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
      server?.closeIdleConnections();
      await step('canary', () => this.canary?.stop());
      await step('gateway', async () => {
        this.revocations?.stop();
        this.ws?.stop();
        this.sse?.stop();
        await this.audiencePublisher?.stop();
        await this.gateway?.stop();
        this.ws?.closeAll();
        this.sse?.closeAll();
      });
      await step('push sender', () => this.pushSender?.stop());
      await step('webhooks', () => this.webhooks?.stop());
      await step('worker', () => this.worker?.stop());
      await step('queue', () => this.queue?.close());
      server?.closeAllConnections();
      await within(closed, 1000);
      for (const c of this.connections.reverse()) await closeQuietly(c);
      this.untrackMetrics?.();
      log.info('flashwire stopped');
    })();
    return this.stopping;
  }
}

/** The gateway's figures as the collectors read them at scrape time. */
function gatewayStats(gateway: Gateway): GatewayStats {
  return {
    counters: gateway.stats,
    readers() {
      // Once per scrape, O(readers): cheap next to one alert's fan-out.
      let ws = 0;
      for (const r of gateway.readers) if (r.transport instanceof WsTransport) ws++;
      return { ws, sse: gateway.readers.size - ws };
    },
  };
}
