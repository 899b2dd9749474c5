/**
 * Webhook endpoints in Redis: one hash each (settings, sealed secrets,
 * status, cursor), a set of their ids, a capped list of the last attempts,
 * and a lease naming the worker that delivers to it.
 *
 * `gen` counts changes made through the API (enable, disable, replay,
 * delete): a worker's outcome is written only when `gen` and its lease are
 * unchanged since it read the endpoint, so an attempt in flight can never
 * undo a replay or a disable.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ulid } from 'ulid';
import { anyCovers } from '../alert/topics';
import { eventTime, ZERO_EVENT_ID } from '../feed/event-id';
import { isExpired } from '../feed/feed-event';
import { Feed } from '../feed/feed';
import type { Keys } from '../redis/keys';
import type { SecretBox } from './secret-box';
import { newWebhookSecret } from './signer';

export const WEBHOOK_ID_PATTERN = /^wh_[0-9A-HJKMNP-TV-Z]{26}$/;
const MAX_ATTEMPTS_KEPT = 20;
/** How long the previous secret keeps signing after a rotation. */
const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

export type WebhookStatus = 'active' | 'failing' | 'disabled';

export interface Attempt {
  eventId: string;
  at: string;
  status?: number;
  error?: string;
  ms: number;
}

export interface Endpoint {
  id: string;
  url: string;
  topics: string[];
  description: string;
  status: WebhookStatus;
  createdAt: string;
  createdBy: string;
  cursor: string;
  gen: number;
  /** Consecutive failures of the current event. */
  failures: number;
  failingSince: number;
  nextAt: number;
  disabledReason: string;
  /** The secrets to sign with now: the current one, then the previous one during the overlap. */
  secrets: string[];
}

export interface EndpointView {
  id: string;
  url: string;
  topics: string[];
  description: string;
  status: WebhookStatus;
  createdAt: string;
  cursor: string;
  lag: { events: number; seconds: number };
  attempts?: Attempt[];
}

// KEYS: hash, lease, attempts. ARGV: token, gen, cursor, attempt JSON or '', success 1|0.
// Returns 0 when the lease or gen moved, else the status before.
const ACK = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[2] then return 0 end
local before = redis.call('HGET', KEYS[1], 'status')
redis.call('HSET', KEYS[1], 'cursor', ARGV[3])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], 'failures', 0, 'failingSince', 0, 'nextAt', 0)
  if before == 'failing' then redis.call('HSET', KEYS[1], 'status', 'active') end
end
if ARGV[4] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[4])
  redis.call('LTRIM', KEYS[3], 0, ${MAX_ATTEMPTS_KEPT - 1})
end
return before`;

// KEYS: hash, lease, attempts. ARGV: token, gen, now, nextAt, disableAfterMs, disableNow 1|0, reason, attempt JSON.
// Returns 0 when the lease or gen moved, else {before, after}.
const FAIL = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[2] then return 0 end
local before = redis.call('HGET', KEYS[1], 'status')
local now = tonumber(ARGV[3])
local since = tonumber(redis.call('HGET', KEYS[1], 'failingSince') or '0') or 0
if since == 0 then since = now end
local after = 'failing'
if ARGV[6] == '1' or now - since >= tonumber(ARGV[5]) then after = 'disabled' end
redis.call('HSET', KEYS[1], 'status', after, 'failingSince', since, 'nextAt', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'failures', 1)
if after == 'disabled' then redis.call('HSET', KEYS[1], 'disabledReason', ARGV[7]) end
redis.call('LPUSH', KEYS[3], ARGV[8])
redis.call('LTRIM', KEYS[3], 0, ${MAX_ATTEMPTS_KEPT - 1})
return {before, after}`;

// KEYS: hash. ARGV: field, value, … Bumps gen. Returns 0 when there is no such endpoint, else the status before.
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local before = redis.call('HGET', KEYS[1], 'status')
redis.call('HINCRBY', KEYS[1], 'gen', 1)
if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return before`;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

function newWebhookId(): string {
  return 'wh_' + ulid();
}

/** A lease holder's token: names the process, unique per engine. */
export function newLeaseToken(): string {
  return `${process.pid}:${randomBytes(6).toString('hex')}`;
}

export class WebhookStore {
  readonly feed: Feed;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly box: SecretBox,
  ) {
    this.feed = new Feed(redis, keys);
  }

  async create(input: { url: string; topics: string[]; description: string; createdBy: string }): Promise<{ endpoint: Endpoint; secret: string }> {
    const id = newWebhookId();
    const secret = newWebhookSecret();
    // A new endpoint receives what is sent from now on (replay reaches back).
    const cursor = await this.feed.lastId();
    const createdAt = new Date().toISOString();
    await this.redis
      .multi()
      .hset(this.keys.webhook(id), {
        id,
        url: input.url,
        topics: JSON.stringify(input.topics),
        description: input.description,
        status: 'active',
        createdAt,
        createdBy: input.createdBy,
        cursor,
        gen: 0,
        failures: 0,
        failingSince: 0,
        nextAt: 0,
        disabledReason: '',
        secret: this.box.seal(secret),
        prevSecret: '',
        prevUntil: 0,
      })
      .sadd(this.keys.webhooks, id)
      .exec();
    return { endpoint: (await this.get(id)) as Endpoint, secret };
  }

  async ids(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.webhooks)).sort();
  }

  async get(id: string, now = Date.now()): Promise<Endpoint | undefined> {
    return this.fromHash(await this.redis.hgetall(this.keys.webhook(id)), now);
  }

  /**
   * The endpoint and its last attempts read in one transaction: the delivery
   * engine records an attempt and the status it leads to in one script, so a
   * reader must never see the one without the other.
   */
  async getWithAttempts(id: string, now = Date.now()): Promise<{ endpoint: Endpoint; attempts: Attempt[] } | undefined> {
    const res = await this.redis.multi().hgetall(this.keys.webhook(id)).lrange(this.keys.webhookAttempts(id), 0, MAX_ATTEMPTS_KEPT - 1).exec();
    const [hashErr, hash] = res?.[0] ?? [];
    const [listErr, list] = res?.[1] ?? [];
    if (hashErr) throw hashErr;
    if (listErr) throw listErr;
    const endpoint = this.fromHash(hash as Record<string, string>, now);
    return endpoint && { endpoint, attempts: (list as string[]).map((s) => JSON.parse(s) as Attempt) };
  }

  private fromHash(h: Record<string, string>, now: number): Endpoint | undefined {
    if (!h.id) return undefined;
    const secrets = [this.box.open(h.secret ?? '')];
    if (h.prevSecret && Number(h.prevUntil) > now) secrets.push(this.box.open(h.prevSecret));
    return {
      id: h.id,
      url: h.url ?? '',
      topics: JSON.parse(h.topics ?? '[]') as string[],
      description: h.description ?? '',
      status: (h.status ?? 'active') as WebhookStatus,
      createdAt: h.createdAt ?? '',
      createdBy: h.createdBy ?? '',
      cursor: h.cursor ?? ZERO_EVENT_ID,
      gen: Number(h.gen ?? 0),
      failures: Number(h.failures ?? 0),
      failingSince: Number(h.failingSince ?? 0),
      nextAt: Number(h.nextAt ?? 0),
      disabledReason: h.disabledReason ?? '',
      secrets,
    };
  }

  /** Endpoints not disabled whose topics cover one of `topics`: GET /v1/audience's `webhooks`. */
  async countCovering(topics: readonly string[]): Promise<number> {
    const ids = await this.ids();
    if (ids.length === 0) return 0;
    const p = this.redis.pipeline();
    for (const id of ids) p.hmget(this.keys.webhook(id), 'status', 'topics');
    let n = 0;
    for (const [, v] of (await p.exec()) ?? []) {
      const [status, raw] = (v as (string | null)[] | null) ?? [];
      if (!raw || status === 'disabled') continue;
      if (anyCovers(JSON.parse(raw) as string[], topics)) n++;
    }
    return n;
  }

  async statuses(ids: string[]): Promise<(string | null)[]> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hget(this.keys.webhook(id), 'status');
    return ((await p.exec()) ?? []).map(([, v]) => (v as string | null) ?? null);
  }

  async remove(id: string): Promise<boolean> {
    const res = await this.redis.multi().srem(this.keys.webhooks, id).del(this.keys.webhook(id), this.keys.webhookAttempts(id), this.keys.webhookLease(id)).exec();
    return Number(res?.[0]?.[1] ?? 0) > 0;
  }

  /** Applies an API change (bumping gen); undefined when there is no such endpoint, else the status before. */
  async update(id: string, fields: Record<string, string | number>): Promise<WebhookStatus | undefined> {
    const args = Object.entries(fields).flatMap(([k, v]) => [k, String(v)]);
    const before = await this.redis.eval(UPDATE, 1, this.keys.webhook(id), ...args);
    return before === 0 ? undefined : (before as WebhookStatus);
  }

  /** A new secret; the previous one keeps signing for 24 h. */
  async rotate(id: string, now = Date.now()): Promise<string | undefined> {
    const current = await this.redis.hget(this.keys.webhook(id), 'secret');
    if (current === null) return undefined;
    const secret = newWebhookSecret();
    const ok = await this.update(id, { secret: this.box.seal(secret), prevSecret: current, prevUntil: now + ROTATION_OVERLAP_MS });
    return ok === undefined ? undefined : secret;
  }

  /** Events for the endpoint's topics still to deliver after its cursor, and how old the oldest is (scans at most `scan` entries). */
  async lag(ep: Pick<Endpoint, 'cursor' | 'topics'>, now = Date.now(), scan = 2000): Promise<{ events: number; seconds: number }> {
    const events = await this.feed.after(ep.cursor, scan);
    let count = 0;
    let oldest = 0;
    for (const e of events) {
      if (isExpired(e, now) || !anyCovers(ep.topics, e.topics)) continue;
      if (count === 0) oldest = eventTime(e.eventId);
      count++;
    }
    return { events: count, seconds: count ? Math.max(0, Math.round((now - oldest) / 1000)) : 0 };
  }

  /** The API's view of an endpoint; `attempts`, when given, were read with it (`getWithAttempts`). */
  async view(ep: Endpoint, attempts?: Attempt[]): Promise<EndpointView> {
    const v: EndpointView = {
      id: ep.id,
      url: ep.url,
      topics: ep.topics,
      description: ep.description,
      status: ep.status,
      createdAt: ep.createdAt,
      cursor: ep.cursor,
      lag: await this.lag(ep),
    };
    if (attempts) v.attempts = attempts;
    return v;
  }

  // ---- the delivery engine's writes ----

  async ack(ep: Endpoint, token: string, cursor: string, attempt: Attempt | undefined, success: boolean): Promise<WebhookStatus | undefined> {
    const r = await this.redis.eval(ACK, 3, this.keys.webhook(ep.id), this.keys.webhookLease(ep.id), this.keys.webhookAttempts(ep.id), token, String(ep.gen), cursor, attempt ? JSON.stringify(attempt) : '', success ? '1' : '0');
    return r === 0 ? undefined : (r as WebhookStatus);
  }

  async fail(ep: Endpoint, token: string, a: { now: number; nextAt: number; disableAfterMs: number; disableNow: boolean; reason: string; attempt: Attempt }): Promise<[WebhookStatus, WebhookStatus] | undefined> {
    const r = await this.redis.eval(FAIL, 3, this.keys.webhook(ep.id), this.keys.webhookLease(ep.id), this.keys.webhookAttempts(ep.id), token, String(ep.gen), a.now, a.nextAt, a.disableAfterMs, a.disableNow ? '1' : '0', a.reason, JSON.stringify(a.attempt));
    return r === 0 ? undefined : (r as [WebhookStatus, WebhookStatus]);
  }

  async acquire(id: string, token: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.webhookLease(id), token, 'PX', ms, 'NX')) === 'OK';
  }

  /** Tries to lease several endpoints in one round trip; returns the ids now held. */
  async acquireMany(ids: string[], token: string, ms: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.set(this.keys.webhookLease(id), token, 'PX', ms, 'NX');
    const res = (await p.exec()) ?? [];
    return ids.filter((_, i) => res[i]?.[1] === 'OK');
  }

  async renew(id: string, token: string, ms: number): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.keys.webhookLease(id), token, ms)) === 1;
  }

  /** Renews several leases in one round trip; false where the lease is no longer ours. */
  async renewMany(ids: string[], token: string, ms: number): Promise<boolean[]> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.eval(RENEW, 1, this.keys.webhookLease(id), token, ms);
    const res = (await p.exec()) ?? [];
    return ids.map((_, i) => {
      const [err, v] = res[i] ?? [new Error('no reply'), 0];
      if (err) throw err;
      return Number(v) === 1;
    });
  }

  async release(id: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.keys.webhookLease(id), token);
  }
}
