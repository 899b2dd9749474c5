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
import { PRIORITIES } from '../src/alert/schema';

const ROLES = ['api', 'worker', 'gateway'] as const;
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

const approvalPriorities = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean))
  .pipe(z.array(z.enum(PRIORITIES, { error: `must be a comma list of ${PRIORITIES.join(', ')}` })))
  .transform((list) => [...new Set(list)]);

const base64url = z.string().trim().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url (letters, digits, - and _, no padding)');

/** A number of threads, or `auto` (resolved against the cores and gateway processes when the gateway starts). */
const writeThreads = z
  .string()
  .trim()
  .regex(/^(auto|\d+)$/, 'must be auto or a whole number between 0 and 16')
  .transform((s) => (s === 'auto' ? ('auto' as const) : Number(s)))
  .refine((n) => n === 'auto' || n <= 16, 'must be auto or a whole number between 0 and 16');

const bool = z
  .string()
  .trim()
  .regex(/^(true|false)$/, 'must be true or false')
  .transform((v) => v === 'true');

const msList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^\d{1,9}$/, 'must be a comma list of whole milliseconds')).min(1, 'must list at least one delay'))
  .transform((list) => list.map(Number));

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
  FLASHWIRE_RECORD_RETENTION_SECONDS: setting(int(60, 10 * 365 * 24 * 3600), String(30 * 24 * 3600), 'seconds', "alert records, reports, receipts and audit trails are deleted this long after the alert's last change or expiry; 30 days answers a month of questions about an alert while Redis stays bounded"),
  FLASHWIRE_ORPHAN_GRACE_SECONDS: setting(int(1, 24 * 3600), '120', 'seconds', 'a record whose API process died before queuing its send (no 202 was given) is marked failed after this; a retry with the same Idempotency-Key before then sends it'),
  FLASHWIRE_REPLAY_CACHE_ENTRIES: setting(int(0, 1_000_000), '10000', 'events', 'recent events kept in gateway memory so a reconnect storm does not become a storm of Redis range reads'),
  FLASHWIRE_WORKER_CONCURRENCY: setting(int(1, 1000), '16', 'jobs', 'appends take a millisecond; several in flight hide Redis round-trips'),
  FLASHWIRE_DIRECT_SEND: setting(bool, 'true', 'true or false', 'while a worker runs and its queue is idle, the accepting request appends an alert that may go at once to the feed itself: alerts enter the feed in the order they were accepted, two disk writes sooner; false sends every alert through the queue'),
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
  FLASHWIRE_KEY_RECHECK_MS: setting(int(100, 3_600_000), '60000', 'ms', 'gateways re-check the API keys of connected readers this often (and when their pub/sub link comes back), so a revocation announced while the link was down still closes its readers'),
  FLASHWIRE_ALLOWED_ORIGINS: setting(origins, '', 'comma list', 'empty allows every Origin (local use); list your sites in production'),
  FLASHWIRE_SHUTDOWN_GRACE_MS: setting(int(0, 120_000), '5000', 'ms', 'time to let readers go with 1001 and finish in-flight jobs before the process exits'),
  FLASHWIRE_PUBLISH_RATE_PER_MINUTE: setting(int(1, 1_000_000), '600', 'writes per key per minute', 'posts, corrections and retractions share it; ten a second is far above any newsroom and stops a runaway script'),
  FLASHWIRE_FEED_ANON_RATE_PER_MINUTE: setting(int(1, 1_000_000), '300', 'requests per client address per minute', 'anonymous GET /v1/feed polls; five a second is far above a poller that waits for next, and stops one address from loading Redis for everyone'),
  FLASHWIRE_GATEWAY_PROCESSES: setting(int(1, 256), '1', 'processes', 'one per core lets a gateway use every core (node:cluster, one shared port, needs REDIS_URL); 1 runs a single process'),
  FLASHWIRE_GATEWAY_WRITE_THREADS: setting(writeThreads, 'auto', 'threads, or auto', 'auto: one per core the gateway processes leave free, at most 4 (one gateway process on two cores gets one); each shares the socket writes of a big fan-out with the process\'s main thread; 0 writes on the main thread alone'),
  FLASHWIRE_BODY_LIMIT_BYTES: setting(int(1024, 1024 * 1024), String(64 * 1024), 'bytes', 'the public contract caps request bodies at 64 KiB'),
  FLASHWIRE_APPROVAL_PRIORITIES: setting(approvalPriorities, '', 'comma list of priorities', 'empty: every alert goes out on one editor\'s word; list e.g. flash,bulletin to have a second editor (a key with the approve scope) approve those first'),
  FLASHWIRE_APPROVAL_TIMEOUT_SECONDS: setting(int(10, 30 * 24 * 3600), '900', 'seconds', 'an alert nobody approved within 15 minutes is stale news: it is rejected ("approval timed out") rather than sent late'),
  FLASHWIRE_CANARY_SECONDS: setting(int(0, 24 * 3600).refine((n) => n === 0 || n >= 10, 'must be 0 (off) or at least 10'), '0', 'seconds', 'off: set it (e.g. 60) to post a routine canary alert on private/flashwire-canary that often, through API, queue, worker, feed and gateway, and export its end-to-end time'),
  FLASHWIRE_METRICS_KEY: setting(z.string().min(16, 'must be at least 16 characters').optional(), undefined, 'secret', 'none: /metrics is open, as Prometheus scrapes expect inside a private network; set it when the port is reachable from outside'),
  FLASHWIRE_VAPID_PUBLIC_KEY: setting(base64url.optional(), undefined, 'base64url P-256 public key', 'none: a key pair is made on first start and kept in Redis; set both VAPID keys to bring your own (browsers subscribed with one key cannot be reached with another)'),
  FLASHWIRE_VAPID_PRIVATE_KEY: setting(base64url.optional(), undefined, 'secret, base64url', 'none: see FLASHWIRE_VAPID_PUBLIC_KEY'),
  FLASHWIRE_VAPID_SUBJECT: setting(z.string().trim().regex(/^(mailto:.+@.+|https:\/\/.+)$/, 'must be a mailto: address or an https: URL'), 'mailto:webpush@flashwire.invalid', 'mailto: or https: URL', 'the contact push services write to about your traffic; set your newsroom\'s own'),
  FLASHWIRE_PUSH_ALLOW_PRIVATE: setting(bool, 'false', 'true or false', 'push endpoints on loopback or private addresses are refused so a posted subscription cannot reach into your network; true for tests and internal push services'),
  FLASHWIRE_PUSH_CONCURRENCY_PER_ORIGIN: setting(int(1, 1000), '32', 'requests in flight', 'one push service gets this many at once over kept-alive connections: fast for a big fan-out, polite to the service'),
  FLASHWIRE_PUSH_MAX_SUBSCRIPTIONS: setting(int(1, 100_000_000), '1000000', 'subscriptions', 'anyone may subscribe a browser, so Redis needs a ceiling; push services delete dead ones (404/410) as they are met'),
  FLASHWIRE_SECRET_KEY: setting(z.string().min(32, 'must be at least 32 characters').optional(), undefined, 'secret', 'none: webhook secrets are stored as they are (a warning is logged at start); with it they are encrypted at rest with AES-256-GCM'),
  FLASHWIRE_WEBHOOK_ALLOW_PRIVATE: setting(bool, 'false', 'true or false', 'webhook URLs resolving to loopback, private or link-local addresses are refused (SSRF); true allows them for tests and internal networks'),
  FLASHWIRE_WEBHOOK_RETRY_SCHEDULE_MS: setting(msList, '1000,5000,30000,120000,600000,1800000', 'comma list of ms', 'the delays between attempts after a failure (jittered, the last repeats): quick for a blip, then patient for an outage'),
  FLASHWIRE_WEBHOOK_DISABLE_AFTER_SECONDS: setting(int(1, 30 * 24 * 3600), String(24 * 3600), 'seconds', 'an endpoint failing for a day is disabled (enable resumes from its cursor)'),
  FLASHWIRE_WEBHOOK_TIMEOUT_MS: setting(int(100, 60_000), '10000', 'ms', 'a receiver answers within 10 s or the call counts as failed and is retried'),
  FLASHWIRE_WEBHOOK_LEASE_MS: setting(int(1000, 60_000), '5000', 'ms', "a worker's hold on an endpoint, renewed every third of it: a killed worker's endpoints carry on elsewhere within about this plus a second"),
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
