/**
 * Redis connections. Each role opens its own: blocking reads (the feed tail,
 * BullMQ workers) must never share a connection with request traffic.
 */
import IORedis, { type Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { describeTopology, isCluster, isSentinel, openTopology, type ClusterTarget, type SentinelTarget } from './topology';
import { within } from '../within';

/** Where Redis is: a URL, the unix socket of the private server, Sentinel or Cluster (topology.ts). */
export type RedisTarget = { url: string } | { path: string } | SentinelTarget | ClusterTarget;

export type ConnectionPurpose =
  /** Request/response traffic that must fail fast (the API answers 503). */
  | 'command'
  /** Long-lived work that should wait for Redis to come back (the worker, BullMQ, pub/sub). */
  | 'blocking'
  /**
   * The feed tail's blocking XREAD: the tail puts its own deadline on each
   * read (a PING would wait behind the XREAD), and a read lost with a
   * dropped link fails so that the tail re-reads from its position.
   */
  | 'tail';

/** How a connection notices that Redis went silent (a half-open link: no FIN, no RST). */
export interface LinkOptions {
  /** Told why a link was dropped and when it is back. */
  log?: Logger;
  /** A command or ping unanswered this long means the link is dead (FLASHWIRE_REDIS_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Told, with the connection's name, each time the connection was lost and is retried (metrics count it). */
  onReconnecting?: (name: string) => void;
  /** Told, with the connection's name, each time a silent link was dropped (metrics count it). */
  onLinkDropped?: (name: string) => void;
}

const DEFAULT_REDIS_TIMEOUT_MS = 2000;

export function describeTarget(t: RedisTarget): string {
  if (isSentinel(t) || isCluster(t)) return describeTopology(t);
  return 'url' in t ? t.url.replace(/\/\/[^@/]*@/, '//***@') : `unix:${t.path}`;
}

export function connect(target: RedisTarget, purpose: ConnectionPurpose, name: string, link: LinkOptions = {}): Redis {
  const timeoutMs = link.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  const options: RedisOptions = {
    connectionName: name,
    // Reconnect forever with a capped backoff: every process must recover by
    // itself when Redis comes back.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    // A connection attempt that gets no answer is given up and retried.
    connectTimeout: Math.max(timeoutMs * 2, 2000),
    // A closing link whose peer never answers the FIN is destroyed soon
    // (ioredis waits 2 s; BullMQ's blocking-connection watchdog goes through it).
    disconnectTimeout: Math.min(timeoutMs, 1000),
    // TCP keepalive lets the kernel notice a peer gone for good while idle;
    // the ping watchdog below notices a link that is open but silent.
    keepAlive: 10_000,
    ...(purpose === 'command'
      ? // Fail at once while disconnected, so a request gets a 503 now rather
        // than a 202 later for work that may never happen; and fail within
        // the timeout on a link that went silent.
        { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: timeoutMs }
      : purpose === 'tail'
        ? { maxRetriesPerRequest: 0 }
        : // BullMQ requires this for workers.
          { maxRetriesPerRequest: null }),
  };
  const redis =
    isSentinel(target) || isCluster(target)
      ? openTopology(target, options, purpose !== 'command')
      : 'url' in target
        ? new IORedis(target.url, options)
        : new IORedis({ ...options, path: target.path });
  const onReconnecting = link.onReconnecting;
  if (onReconnecting) redis.on('reconnecting', () => onReconnecting(name));
  // Connection errors are expected while Redis restarts; callers see them as
  // failed commands and the 'reconnecting' event. Without a listener ioredis
  // would print every one of them.
  redis.on('error', () => undefined);
  // The tail has its own deadline; a Cluster client has no single stream to drop.
  if (purpose !== 'tail' && !isCluster(target)) watchLink(redis, name, timeoutMs, link);
  return redis;
}

/**
 * Drops a link that stopped answering, so that ioredis reconnects. Sends a
 * PING every `timeoutMs` while the connection is ready (PING is allowed on a
 * subscribed connection too); one unanswered for `timeoutMs` means the link
 * is half-open, and the socket is destroyed rather than ended, since a FIN
 * into a dead link is never answered. Commands in flight then fail (command
 * connections, answered 503) or are sent again on the new link (the worker's,
 * whose scripts are idempotent).
 */
function watchLink(redis: Redis, name: string, timeoutMs: number, { log, onLinkDropped }: Pick<LinkOptions, 'log' | 'onLinkDropped'> = {}): void {
  let sentAt = 0;
  let dropped = false;
  const timer = setInterval(() => {
    if (redis.status === 'end') {
      clearInterval(timer);
      return;
    }
    if (redis.status !== 'ready') {
      sentAt = 0;
      return;
    }
    if (sentAt !== 0) {
      const silentMs = Date.now() - sentAt;
      if (silentMs < timeoutMs) return;
      // Judge after the poll phase: when this process was itself too busy to
      // run (a loaded machine), the answer may be read and waiting, and timers
      // run before I/O. Only a ping still unanswered then means the link is silent.
      const pinged = sentAt;
      setImmediate(() => {
        if (sentAt !== pinged || redis.status !== 'ready') return;
        sentAt = 0;
        dropped = true;
        log?.warn({ connection: name, silentMs: Date.now() - pinged }, 'Redis link silent (a ping went unanswered); dropping it and reconnecting');
        onLinkDropped?.(name);
        redis.stream?.destroy();
      });
      return;
    }
    const at = Date.now();
    sentAt = at;
    redis.ping().then(
      () => {
        if (sentAt === at) sentAt = 0;
      },
      // A ping that failed (timed out, or the link closed) settles nothing:
      // the next tick drops the link if it is still "ready" by then.
      () => undefined,
    );
  }, Math.max(Math.floor(timeoutMs / 2), 100));
  timer.unref();
  redis.on('ready', () => {
    if (!dropped) return;
    dropped = false;
    log?.info({ connection: name }, 'Redis link back after being dropped for silence');
  });
  redis.on('end', () => clearInterval(timer));
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
  // Already closed by its owner (BullMQ, the tails). disconnect() again would
  // wait out disconnectTimeout on a socket that has already closed, keeping
  // the process up that long.
  if (!redis || redis.status === 'end') return;
  try {
    // QUIT on a link that went silent would never be answered.
    if (redis.status !== 'ready' || !(await within(redis.quit(), 2000))) redis.disconnect();
  } catch {
    redis.disconnect();
  }
}

/**
 * Stops a tail: cuts its connection, since a blocking read only returns when
 * Redis answers, and waits for its loop to end. The wait is bounded: a read
 * issued while Redis was away sits in ioredis's offline queue, and a
 * disconnect while reconnecting fails nothing, so with Redis gone for good
 * the loop never ends.
 */
export async function cutTail(redis: Redis, loop: Promise<unknown> | undefined, waitMs = 1000): Promise<void> {
  redis.disconnect();
  if (loop) await within(loop, waitMs);
}
