/**
 * One process per core for the gateway: with FLASHWIRE_GATEWAY_PROCESSES > 1
 * the process that was started becomes a node:cluster primary. It only forks
 * the workers, replaces one that dies and passes shutdown signals on; each
 * worker runs the configured roles exactly as a single process would, and
 * the workers share the port (the primary hands out connections round-robin;
 * lost-handoffs.ts closes those a dying worker never took).
 * Gateways need no coordination between them: each tails the feed itself.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { RedisChoice } from '../src/redis/target';
import type { Settings } from '../config/settings';
import { serveClusterMetrics } from '../src/metrics/metrics';
import { closeLostHandoffs } from './lost-handoffs';

export class ClusterSettingsError extends Error {}

/**
 * Starts the cluster when asked to and this is the primary; answers true
 * then, and the caller must not start the service itself.
 */
export function startClusterPrimary(settings: Settings, redis: RedisChoice, log: Logger): boolean {
  const n = settings.FLASHWIRE_GATEWAY_PROCESSES;
  if (n <= 1 || !cluster.isPrimary) return false;
  // Each worker would otherwise start its own private redis-server on one data directory.
  if (redis.kind === 'private') {
    throw new ClusterSettingsError('FLASHWIRE_GATEWAY_PROCESSES above 1 needs REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES: the processes must share one Redis');
  }

  let stopping = false;
  const fork = (): Worker => {
    const worker = cluster.fork();
    closeLostHandoffs(worker);
    return worker;
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    log.error({ workerPid: worker.process.pid, code, signal }, 'gateway process died; starting another');
    // A worker that dies at once would otherwise be restarted in a tight loop.
    setTimeout(fork, 1000).unref();
  });
  for (let i = 0; i < n; i++) fork();
  serveClusterMetrics();
  log.info({ processes: n }, 'gateway cluster started');

  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const w of workers) w?.process.kill('SIGTERM');
    setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }, settings.FLASHWIRE_SHUTDOWN_GRACE_MS + 3000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return true;
}
