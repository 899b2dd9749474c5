/**
 * Redis beyond one server: Sentinel (a master and replicas, failover found
 * through the Sentinels) and Cluster. Which one is used is configuration
 * only; every role talks to the connection these return as to one Redis.
 *
 * Cluster and Flashwire: every key Flashwire and BullMQ use starts with
 * FLASHWIRE_PREFIX, so a prefix that is a hash tag (`{fw}`) puts them all in
 * one slot, which the multi-key Lua scripts, MULTI and BullMQ's own scripts
 * require. The feed is one stream and so lives on one shard anyway; Cluster
 * is for running on a managed or shared Cluster and for its failover, not
 * for spreading Flashwire's keys (docs/deploy.md).
 */
import IORedis, { Cluster, type Redis, type RedisOptions } from 'ioredis';
import type { Settings } from '../../config/settings';

export interface HostPort {
  host: string;
  port: number;
}

export interface SentinelTarget {
  sentinels: HostPort[];
  /** The master name the Sentinels monitor. */
  name: string;
  password?: string;
}

export interface ClusterTarget {
  /** Seed nodes; the rest of the Cluster is discovered from them. */
  cluster: HostPort[];
  password?: string;
}

function parseHostPorts(list: readonly string[]): HostPort[] {
  return list.map((hp) => {
    const i = hp.lastIndexOf(':');
    return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
  });
}

export class TopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopologyError';
  }
}

/** The Sentinel or Cluster target the settings ask for, or undefined for a plain URL / the private server. */
export function topologyFromSettings(s: Pick<Settings, 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_CLUSTER_NODES' | 'REDIS_PASSWORD' | 'FLASHWIRE_PREFIX'>): SentinelTarget | ClusterTarget | undefined {
  const chosen = [s.REDIS_URL && 'REDIS_URL', s.REDIS_SENTINELS && 'REDIS_SENTINELS', s.REDIS_CLUSTER_NODES && 'REDIS_CLUSTER_NODES'].filter(Boolean);
  if (chosen.length > 1) throw new TopologyError(`set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES (got ${chosen.join(' and ')})`);
  const password = s.REDIS_PASSWORD ? { password: s.REDIS_PASSWORD } : {};
  if (s.REDIS_SENTINELS) return { sentinels: parseHostPorts(s.REDIS_SENTINELS), name: s.REDIS_SENTINEL_NAME, ...password };
  if (s.REDIS_CLUSTER_NODES) {
    if (!hasHashTag(s.FLASHWIRE_PREFIX)) {
      throw new TopologyError(`REDIS_CLUSTER_NODES needs FLASHWIRE_PREFIX to be a hash tag such as {${s.FLASHWIRE_PREFIX}} so every key (and BullMQ's) lands in one slot (got ${s.FLASHWIRE_PREFIX})`);
    }
    return { cluster: parseHostPorts(s.REDIS_CLUSTER_NODES), ...password };
  }
  return undefined;
}

/** True when keys built on this prefix hash on a tag inside it (Redis hashes the first non-empty {…}). */
export function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}

export function isSentinel(t: object): t is SentinelTarget {
  return 'sentinels' in t;
}

export function isCluster(t: object): t is ClusterTarget {
  return 'cluster' in t;
}

export function describeTopology(t: SentinelTarget | ClusterTarget): string {
  const list = (isSentinel(t) ? t.sentinels : t.cluster).map((n) => `${n.host}:${n.port}`).join(',');
  return isSentinel(t) ? `sentinel:${t.name}@${list}` : `cluster:${list}`;
}

/** A master demoted to replica answers writes with READONLY: reconnect (and find the new master) and resend. */
function reconnectOnReadOnly(err: Error): 2 | false {
  return err.message.startsWith('READONLY') ? 2 : false;
}

/**
 * Opens a connection to a Sentinel-managed master or a Cluster with the
 * options `connect()` chose for its purpose. A Cluster client is returned
 * as `Redis`: it answers the same commands, and every multi-key command
 * Flashwire sends stays in one slot (see above).
 */
export function openTopology(t: SentinelTarget | ClusterTarget, options: RedisOptions, offlineQueue: boolean): Redis {
  if (isSentinel(t)) {
    return withDetectorCleanup(new IORedis({
      ...options,
      sentinels: t.sentinels,
      name: t.name,
      ...(t.password ? { password: t.password } : {}),
      // Learn of a failover from the Sentinels' +switch-master at once,
      // rather than when the old master stops answering.
      failoverDetector: true,
      reconnectOnError: reconnectOnReadOnly,
      // Keep asking the Sentinels while none answers: they come back too.
      sentinelRetryStrategy: (times: number) => Math.min(100 * times, 2000),
    }));
  }
  const { retryStrategy, enableOfflineQueue: _ignored, ...nodeOptions } = options;
  const cluster = new Cluster(t.cluster, {
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: offlineQueue,
    // Seed node lists name each node once; slots are refreshed on MOVED.
    redisOptions: { ...nodeOptions, ...(t.password ? { password: t.password } : {}), reconnectOnError: reconnectOnReadOnly },
  });
  return cluster as unknown as Redis;
}

/** The part of ioredis's Sentinel connector that holds the failover detector's own connections. */
interface DetectorHolder {
  connector?: { failoverDetector?: { isDisconnected?: boolean; cleanup(): void } };
}

/**
 * ioredis closes the failover detector's connections to the Sentinels only
 * in disconnect(). A client ended by QUIT (closeQuietly's way, and BullMQ's
 * for the connections it duplicates) would leave them subscribed, and
 * reconnecting every minute once the Sentinels are gone, for the life of
 * the process. The hook follows the client into its duplicates.
 */
function withDetectorCleanup(client: Redis): Redis {
  client.on('end', () => {
    const detector = (client as unknown as DetectorHolder).connector?.failoverDetector;
    // disconnect() has already cleaned it up; a second cleanup would wait out each Sentinel link's close timer.
    if (detector && !detector.isDisconnected) detector.cleanup();
  });
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override) => withDetectorCleanup(duplicate(override));
  return client;
}
