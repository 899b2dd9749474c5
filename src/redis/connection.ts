/**
 * Redis connections. Each role opens its own: blocking reads (the feed tail,
 * BullMQ workers) must never share a connection with request traffic.
 */
import IORedis, { type Redis, type RedisOptions } from 'ioredis';
import { metrics } from '../metrics/metrics';
import { describeTopology, isCluster, isSentinel, openTopology, type ClusterTarget, type SentinelTarget } from './topology';

/** Where Redis is: a URL, the unix socket of the private server, Sentinel or Cluster (topology.ts). */
export type RedisTarget = { url: string } | { path: string } | SentinelTarget | ClusterTarget;

export type ConnectionPurpose =
  /** Request/response traffic that must fail fast (the API answers 503). */
  | 'command'
  /** Blocking or long-lived work that should wait for Redis to come back. */
  | 'blocking';

export function describeTarget(t: RedisTarget): string {
  if (isSentinel(t) || isCluster(t)) return describeTopology(t);
  return 'url' in t ? t.url.replace(/\/\/[^@/]*@/, '//***@') : `unix:${t.path}`;
}

export function connect(target: RedisTarget, purpose: ConnectionPurpose, name: string): Redis {
  const options: RedisOptions = {
    connectionName: name,
    // Reconnect forever with a capped backoff: every process must recover by
    // itself when Redis comes back.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...(purpose === 'command'
      ? // Fail at once while disconnected, so a request gets a 503 now rather
        // than a 202 later for work that may never happen.
        { enableOfflineQueue: false, maxRetriesPerRequest: 0 }
      : // BullMQ requires this for workers; the feed tail wants it too.
        { maxRetriesPerRequest: null }),
  };
  const redis =
    isSentinel(target) || isCluster(target)
      ? openTopology(target, options, purpose === 'blocking')
      : 'url' in target
        ? new IORedis(target.url, options)
        : new IORedis({ ...options, path: target.path });
  redis.on('reconnecting', () => metrics.redisReconnects.inc({ connection: name }));
  // Connection errors are expected while Redis restarts; callers see them as
  // failed commands and the 'reconnecting' event. Without a listener ioredis
  // would print every one of them.
  redis.on('error', () => undefined);
  return redis;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export function waitReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** Closes a connection whatever state it is in; never throws. */
export async function closeQuietly(redis: Redis | undefined): Promise<void> {
  if (!redis) return;
  try {
    if (redis.status === 'ready') await redis.quit();
    else redis.disconnect();
  } catch {
    redis.disconnect();
  }
}
