/**
 * Which Redis the settings mean, decided once for the service and the CLI:
 * Sentinel or Cluster (topology.ts), else REDIS_URL, else the private
 * redis-server under FLASHWIRE_DATA_DIR, which `npm start` runs itself and
 * the CLI only connects to.
 */
import path from 'node:path';
import type { Settings } from '../../config/settings';
import type { RedisTarget } from './connection';
import { privateSocketPath } from './redis-server';
import { topologyFromSettings } from './topology';

export type RedisChoice =
  /** Redis run by someone else: connect to it. */
  | { kind: 'external'; target: RedisTarget }
  /** The private server: the service starts it in `dir`; it listens on `target`. */
  | { kind: 'private'; dir: string; target: { path: string } };

/** Throws TopologyError when the settings name more than one Redis, or a Cluster without a hash-tag prefix. */
export function redisChoice(s: Pick<Settings, 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_CLUSTER_NODES' | 'REDIS_PASSWORD' | 'FLASHWIRE_PREFIX' | 'FLASHWIRE_DATA_DIR'>): RedisChoice {
  const topology = topologyFromSettings(s);
  if (topology) return { kind: 'external', target: topology };
  if (s.REDIS_URL) return { kind: 'external', target: { url: s.REDIS_URL } };
  const dir = path.resolve(s.FLASHWIRE_DATA_DIR);
  return { kind: 'private', dir, target: { path: privateSocketPath(dir) } };
}
