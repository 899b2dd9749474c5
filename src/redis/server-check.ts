/**
 * What Flashwire needs from the Redis it is given, checked once at start,
 * and whether that Redis has room to accept writes (checked by /readyz).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** The oldest Redis whose commands Flashwire uses (XTRIM MINID, PEXPIRETIME, script semantics). */
const MIN_REDIS = { major: 7, minor: 0 } as const;

export class RedisTooOldError extends Error {
  constructor(
    readonly version: string,
    where: string,
  ) {
    super(`Redis ${version} at ${where} is too old: Flashwire needs Redis ${MIN_REDIS.major}.${MIN_REDIS.minor} or newer`);
    this.name = 'RedisTooOldError';
  }
}

/** `field:value` lines of an INFO reply. */
function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** True when `version` (like 6.0.16) is at least MIN_REDIS. */
function versionSupported(version: string): boolean {
  const [major, minor] = version.split('.').map((n) => Number(n));
  if (major === undefined || !Number.isFinite(major)) return false;
  return major > MIN_REDIS.major || (major === MIN_REDIS.major && (minor ?? 0) >= MIN_REDIS.minor);
}

/** Throws RedisTooOldError below MIN_REDIS; returns the version. */
export async function checkRedisVersion(redis: Redis, where: string): Promise<string> {
  const version = parseInfo(await redis.info('server')).redis_version ?? 'unknown';
  if (!versionSupported(version)) throw new RedisTooOldError(version, where);
  return version;
}

/**
 * For a Redis Flashwire did not start itself: warns when its configuration
 * weakens what a 202 promises. Managed services may refuse CONFIG; that is
 * said once too, so an operator knows to check by hand.
 */
export async function warnAboutRedisConfig(redis: Redis, log: Logger): Promise<void> {
  let config: Record<string, string>;
  try {
    const flat = (await redis.call('CONFIG', 'GET', 'appendonly', 'maxmemory-policy')) as string[];
    config = {};
    for (let i = 0; i + 1 < flat.length; i += 2) config[flat[i] as string] = flat[i + 1] as string;
  } catch (err) {
    log.warn({ err: String(err) }, 'could not read the Redis configuration (CONFIG GET refused): make sure appendonly is yes and maxmemory-policy is noeviction');
    return;
  }
  if (config.appendonly !== 'yes') {
    log.warn(
      { appendonly: config.appendonly ?? 'unknown' },
      'Redis persistence is off (appendonly no): a 202 then no longer survives a restart of Redis; accepted alerts and queued sends are lost with it. Set appendonly yes',
    );
  }
  const policy = config['maxmemory-policy'];
  if (policy !== 'noeviction') {
    log.warn(
      { maxmemoryPolicy: policy ?? 'unknown' },
      `Redis may evict keys (maxmemory-policy ${policy ?? 'unknown'}): when it fills, it can silently drop accepted alerts, their send jobs or feed entries, so a 202 no longer guarantees delivery. Set maxmemory-policy noeviction`,
    );
  }
}

/**
 * Why Redis refuses writes now, or undefined when it has room: with a
 * maxmemory limit and nothing it may evict, writes fail once memory (less
 * what Redis does not count, such as replica and AOF buffers) is over it.
 */
export async function redisFull(redis: Redis): Promise<string | undefined> {
  const info = parseInfo(await redis.info('memory'));
  const max = Number(info.maxmemory ?? 0);
  if (!(max > 0)) return undefined;
  const policy = info.maxmemory_policy ?? 'noeviction';
  if (policy !== 'noeviction') return undefined;
  const used = Number(info.used_memory ?? 0) - Number(info.mem_not_counted_for_evict ?? 0);
  if (used <= max) return undefined;
  return `Redis is out of memory (used_memory ${used} bytes over maxmemory ${max}, policy noeviction): it refuses writes until it has room`;
}

/** A write refused because Redis is over maxmemory (also inside a script). */
export function isRedisOutOfMemory(err: unknown): boolean {
  const m = (err as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' && /\bOOM command not allowed\b/.test(m);
}
