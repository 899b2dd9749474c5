/**
 * Every setting Flashwire reads, in one validated schema. Each entry carries
 * its unit, its default and the reason for that default, so this file is the
 * reference the README table and `.env.example` are written from.
 *
 * A bad value stops the process with one line naming the variable: a push
 * service that starts with a half-understood configuration fails later, at
 * the worst moment.
 */
import { z } from 'zod';

export const ROLES = ['api', 'worker', 'gateway'] as const;
export type Role = (typeof ROLES)[number];

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const roles = z
  .string()
  .transform((s) => s.split(',').map((r) => r.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.enum(ROLES, { error: `must be a comma list of ${ROLES.join(', ')}` }))
      .min(1, `must name at least one of ${ROLES.join(', ')}`),
  )
  .transform((list) => [...new Set(list)]);

const redisUrl = z
  .string()
  .trim()
  .regex(/^(redis|rediss):\/\/.+/, 'must be a redis:// or rediss:// URL');

const hostPorts = z
  .string()
  .transform((s) => s.split(',').map((h) => h.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9_.-]+:\d{1,5}$/, 'must be a comma list of host:port')).min(1, 'must name at least one host:port'));

const origins = z
  .string()
  .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^https?:\/\/[^/]+$|^\*$/, 'must be a comma list of origins like https://news.example or *')));

/** One row of the settings table: how it is parsed, its default, its unit and why. */
interface SettingSpec<T> {
  schema: z.ZodType<T>;
  default: string | undefined;
  unit: string;
  why: string;
}

function setting<T>(schema: z.ZodType<T>, def: string | undefined, unit: string, why: string): SettingSpec<T> {
  return { schema, default: def, unit, why };
}

export const SETTINGS = {
  PORT: setting(int(0, 65535), '8080', 'TCP port', 'HTTP API, WebSocket and SSE share one port so one load balancer rule serves them all'),
  HOST: setting(z.string().min(1), '0.0.0.0', 'address', 'listen on every interface; set 127.0.0.1 to keep a dev instance private'),
  REDIS_URL: setting(redisUrl.optional(), undefined, 'URL', 'none: start a private redis-server with its data under FLASHWIRE_DATA_DIR'),
  REDIS_SENTINELS: setting(hostPorts.optional(), undefined, 'comma list of host:port', 'none: with it, Redis is found through Sentinel (REDIS_SENTINEL_NAME) and followed across failovers; leave REDIS_URL unset'),
  REDIS_SENTINEL_NAME: setting(z.string().min(1), 'mymaster', 'name', "the master name the Sentinels monitor; Sentinel's own example name"),
  REDIS_CLUSTER_NODES: setting(hostPorts.optional(), undefined, 'comma list of host:port', 'none: with it, Redis Cluster (seed nodes); FLASHWIRE_PREFIX must then be a {hash tag}'),
  REDIS_PASSWORD: setting(z.string().min(1).optional(), undefined, 'secret', 'none: the password of the Sentinel-managed master or the Cluster nodes (REDIS_URL carries its own)'),
  FLASHWIRE_ROLES: setting(roles, 'api,worker,gateway', 'comma list', 'all roles in one process is the simplest first run; split them to scale each alone'),
  FLASHWIRE_PUBLISH_KEY: setting(z.string().min(16, 'must be at least 16 characters').optional(), undefined, 'secret', 'a publish key accepted as given, for automation and tests'),
  FLASHWIRE_JWT_SECRET: setting(z.string().min(32, 'must be at least 32 characters (HS256 needs a strong secret)').optional(), undefined, 'secret', 'none: private/ topics stay closed until a secret is configured'),
  FLASHWIRE_PREFIX: setting(z.string().regex(/^[A-Za-z0-9_{}:.-]{1,64}$/, 'must be 1-64 characters of letters, digits, _ - . : { }'), 'fw', 'Redis key prefix', 'lets several Flashwire installs (or tests) share one Redis; wrap in {braces} for Redis Cluster'),
  FLASHWIRE_DATA_DIR: setting(z.string().min(1), './.data', 'path', 'where the private redis-server keeps its AOF when REDIS_URL is not set'),
  FLASHWIRE_LOG_LEVEL: setting(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' }), 'info', 'level', 'one line per step of an alert is info; debug adds per-connection detail'),
  FLASHWIRE_FEED_MAX_ENTRIES: setting(int(100, 100_000_000), '1000000', 'events', 'a hard ceiling on the feed; a newsroom sends far fewer than this in a day, so age is what trims in practice'),
  FLASHWIRE_FEED_RETENTION_SECONDS: setting(int(60, 30 * 24 * 3600), String(48 * 3600), 'seconds', '48 h keeps every reader offline overnight able to catch up, with a day to spare'),
  FLASHWIRE_REPLAY_CACHE_ENTRIES: setting(int(0, 1_000_000), '10000', 'events', 'recent events kept in gateway memory so a reconnect storm does not become a storm of Redis range reads'),
  FLASHWIRE_WORKER_CONCURRENCY: setting(int(1, 1000), '16', 'jobs', 'appends take a millisecond; several in flight hide Redis round-trips'),
  FLASHWIRE_JOB_LOCK_MS: setting(int(1000, 600_000), '5000', 'ms', "BullMQ's 30 s default would hold a dead worker's alert for half a minute; breaking news cannot wait"),
  FLASHWIRE_STALLED_INTERVAL_MS: setting(int(500, 600_000), '2000', 'ms', "how often workers look for jobs whose worker died; with the lock this bounds recovery to ~7 s"),
  FLASHWIRE_JOB_ATTEMPTS: setting(int(1, 100), '10', 'attempts', 'transient Redis trouble should not fail an alert; after these it is marked failed'),
  FLASHWIRE_REDIS_TIMEOUT_MS: setting(int(200, 60_000), '2000', 'ms', 'a Redis link silent this long (a command unanswered, a ping unanswered) is dropped and reopened, and a request waiting on it answers 503: a half-open link heals in a few seconds instead of never'),
  FLASHWIRE_HEARTBEAT_MS: setting(int(1000, 600_000), '25000', 'ms', 'under the 30 s idle timeout of common proxies, rare enough to spare mobile batteries'),
  FLASHWIRE_MAX_CONNECTIONS: setting(int(1, 1_000_000), '50000', 'connections per gateway process', 'beyond this a process answers 1013 so a balancer can send the reader elsewhere'),
  FLASHWIRE_MAX_BUFFERED_BYTES: setting(int(16 * 1024, 1024 * 1024 * 1024), String(1024 * 1024), 'bytes per socket', 'about a thousand alerts of backlog; a reader further behind is cut off (4008) and resumes with since'),
  FLASHWIRE_RESUME_DEADLINE_MS: setting(int(1000, 600_000), '30000', 'ms', 'a resuming reader whose replay is not done by then (it does not read) is closed with 4008 and resumes later, instead of holding its replay open'),
  FLASHWIRE_MAX_FRAME_BYTES: setting(int(256, 1024 * 1024), String(16 * 1024), 'bytes', 'client frames are tiny (subscribe, ack); anything bigger is abuse (1009)'),
  FLASHWIRE_MAX_TOPICS_PER_CONNECTION: setting(int(1, 10_000), '100', 'topics', 'bounds the index work one connection can cause'),
  FLASHWIRE_MAX_BAD_FRAMES_PER_SECOND: setting(int(1, 10_000), '10', 'frames/s', 'a few mistakes are answered with error frames; a flood is abuse (1008)'),
  FLASHWIRE_MAX_MESSAGES_PER_SECOND: setting(int(1, 100_000), '100', 'frames/s', 'readers send a handful of frames; more is abuse (1008)'),
  FLASHWIRE_ALLOWED_ORIGINS: setting(origins, '', 'comma list', 'empty allows every Origin (local use); list your sites in production'),
  FLASHWIRE_SHUTDOWN_GRACE_MS: setting(int(0, 120_000), '5000', 'ms', 'time to let readers go with 1001 and finish in-flight jobs before the process exits'),
  FLASHWIRE_PUBLISH_RATE_PER_MINUTE: setting(int(1, 1_000_000), '600', 'alerts per key per minute', 'ten a second is far above any newsroom and stops a runaway script'),
  FLASHWIRE_GATEWAY_PROCESSES: setting(int(1, 256), '1', 'processes', 'one per core lets a gateway use every core (node:cluster, one shared port, needs REDIS_URL); 1 runs a single process'),
  FLASHWIRE_BODY_LIMIT_BYTES: setting(int(1024, 1024 * 1024), String(64 * 1024), 'bytes', 'SPEC.md: request bodies are at most 64 KiB'),
  FLASHWIRE_METRICS_KEY: setting(z.string().min(16, 'must be at least 16 characters').optional(), undefined, 'secret', 'none: /metrics is open, as Prometheus scrapes expect inside a private network; set it when the port is reachable from outside'),
} as const;

type Specs = typeof SETTINGS;
export type Settings = { [K in keyof Specs]: Specs[K] extends SettingSpec<infer T> ? T : never };

export class SettingsError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`invalid setting ${variable}: ${problem}`);
    this.name = 'SettingsError';
  }
}

/** Parses the environment; throws a SettingsError naming the first bad variable. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [string, SettingSpec<unknown>][]) {
    const raw = env[name] === undefined || env[name] === '' ? spec.default : env[name];
    if (raw === undefined) {
      out[name] = undefined;
      continue;
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SettingsError(name, `${issue?.message ?? 'invalid'} (got ${JSON.stringify(raw)})`);
    }
    out[name] = parsed.data;
  }
  return out as Settings;
}
