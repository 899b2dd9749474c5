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
import { createApiApp } from './api/app';
import { ApiKeyStore } from './auth/api-keys';
import { CredentialAuthenticator } from './auth/authenticator';
import { RevocationListener } from './auth/revocations';
import { SubscriberTokens } from './auth/subscriber-token';
import { Gateway } from './gateway/gateway';
import { SseEndpoint } from './gateway/sse-endpoint';
import { WsEndpoint } from './gateway/ws-endpoint';
import { createFront } from './http/front';
import { metricsHandler, track } from './metrics/metrics';
import { createAlertQueue, type SendJobData } from './queue/alert-queue';
import { closeQuietly, connect, describeTarget, waitReady, type ConnectionPurpose, type RedisTarget } from './redis/connection';
import { Keys } from './redis/keys';
import { AlertChanges } from './store/alert-changes';
import { AlertStore } from './store/alert-store';
import { createSiteHandler } from './web/site';

export interface ServiceOptions {
  settings: Settings;
  log: Logger;
  redis: RedisTarget;
  /** Told once about a publish key created on a first run (shown once). */
  onFirstRunKey?: (secret: string) => void;
}

export class Service {
  private readonly connections: Redis[] = [];
  private server: http.Server | undefined;
  private queue: Queue<SendJobData> | undefined;
  private worker: FanoutWorker | undefined;
  gateway: Gateway | undefined;
  private ws: WsEndpoint | undefined;
  private sse: SseEndpoint | undefined;
  private stopping: Promise<void> | undefined;
  private untrackMetrics: (() => void) | undefined;
  readonly keys: Keys;

  constructor(readonly options: ServiceOptions) {
    this.keys = new Keys(options.settings.FLASHWIRE_PREFIX);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  private open(purpose: ConnectionPurpose, name: string): Redis {
    const r = connect(this.options.redis, purpose, `flashwire:${name}`, { log: this.options.log, timeoutMs: this.options.settings.FLASHWIRE_REDIS_TIMEOUT_MS });
    this.connections.push(r);
    return r;
  }

  async start(): Promise<void> {
    const { settings: s, log } = this.options;
    const roles = s.FLASHWIRE_ROLES;
    const redis = this.open('command', 'command');
    await waitReady(redis, 15_000);
    redis.on('reconnecting', () => log.warn('Redis connection lost; reconnecting'));
    log.info({ redis: describeTarget(this.options.redis), roles }, 'connected to Redis');
    const apiKeys = new ApiKeyStore(redis, this.keys, s.FLASHWIRE_PUBLISH_KEY);
    const authenticator = new CredentialAuthenticator(apiKeys, new SubscriberTokens(s.FLASHWIRE_JWT_SECRET));

    let api: ReturnType<typeof createApiApp> | undefined;
    if (roles.includes('api')) {
      this.queue = createAlertQueue(this.open('command', 'queue'), this.keys);
      const changes = new AlertChanges(redis, this.keys, { maxEntries: s.FLASHWIRE_FEED_MAX_ENTRIES, retentionMs: s.FLASHWIRE_FEED_RETENTION_SECONDS * 1000 });
      api = createApiApp({ settings: s, log, redis, keys: this.keys, alerts: new AlertStore(redis, this.keys), apiKeys, authenticator, changes, queue: this.queue });
      await this.ensureFirstKey(apiKeys);
    }
    if (roles.includes('worker')) {
      this.worker = new FanoutWorker({ settings: s, log, bullConnection: this.open('blocking', 'worker-bull'), redis: this.open('blocking', 'worker'), keys: this.keys });
      this.worker.start();
    }
    if (roles.includes('gateway')) {
      this.gateway = new Gateway({ settings: s, log, redis, tailConnection: this.open('tail', 'feed-tail'), keys: this.keys });
      await this.gateway.start();
      const gateway = this.gateway;
      await new RevocationListener(this.open('blocking', 'revocations'), this.keys.revocations, (name) => gateway.revokeKey(name), log).start();
      this.ws = new WsEndpoint(this.gateway, authenticator);
      this.ws.start();
      this.sse = new SseEndpoint(this.gateway, authenticator);
      this.sse.start();
    }
    const ws = this.ws;
    const sse = this.sse;
    this.untrackMetrics = track({ gateway: this.gateway, queue: this.queue });
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
      this.server!.listen(s.PORT, s.HOST, () => resolve());
    });
    log.info({ port: this.port, roles }, 'flashwire listening');
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
      await step('gateway', async () => {
        this.ws?.stop();
        this.sse?.stop();
        await this.gateway?.stop();
        this.ws?.closeAll();
        this.sse?.closeAll();
      });
      await step('worker', () => this.worker?.stop());
      await step('queue', () => this.queue?.close());
      server?.closeAllConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
      for (const c of this.connections.reverse()) await closeQuietly(c);
      this.untrackMetrics?.();
      log.info('flashwire stopped');
    })();
    return this.stopping;
  }
}
