/**
 * Web Push subscriptions in Redis. Each is one hash (endpoint, keys,
 * topics) under an id derived from its endpoint, and its id is in one set
 * per topic it holds. The sender finds an alert's subscribers by the union
 * of the sets of the alert's topics, their ancestors and `*` (for public
 * ones): what that costs grows with the subscribers who match, never with
 * all those that exist.
 *
 * The record is the truth and the topic sets an index to it: a write
 * replaces both in one MULTI, and should two writes for one endpoint race,
 * an index entry may be left pointing at a record that no longer holds the
 * topic. The sender checks each record's topics anyway and drops such
 * entries as it meets them, so a stale entry costs one lookup, never a push.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { subscriptionsReceiving } from '../alert/topics';
import type { Keys } from '../redis/keys';
import type { SubscriptionKeys } from './encryption';

export interface PushSubscriptionRecord {
  id: string;
  endpoint: string;
  keys: SubscriptionKeys;
  topics: string[];
  createdAt: string;
  /** When the credential that granted its private topics expires (ms); 0 for none. */
  grantExpiresAt: number;
}

/** The id of an endpoint's subscription: the same endpoint always has the same id. */
export function subscriptionId(endpoint: string): string {
  return 'ps_' + createHash('sha256').update(endpoint).digest('base64url').slice(0, 22);
}

function fromHash(id: string, h: Record<string, string>): PushSubscriptionRecord | undefined {
  if (!h.endpoint || !h.p256dh || !h.auth) return undefined;
  return {
    id,
    endpoint: h.endpoint,
    keys: { p256dh: h.p256dh, auth: h.auth },
    topics: h.topics ? h.topics.split(',') : [],
    createdAt: h.createdAt ?? '',
    grantExpiresAt: Number(h.grantExpiresAt ?? 0) || 0,
  };
}

export class PushSubscriptionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Creates or replaces the endpoint's subscription; `created` is false when the endpoint was known. */
  async put(input: { endpoint: string; keys: SubscriptionKeys; topics: string[]; grantExpiresAt: number }): Promise<{ id: string; created: boolean }> {
    const id = subscriptionId(input.endpoint);
    const key = this.keys.pushSubscription(id);
    const [old, createdAt] = await this.redis.hmget(key, 'topics', 'createdAt');
    const oldTopics = old ? old.split(',') : [];
    const m = this.redis.multi();
    for (const t of oldTopics) if (!input.topics.includes(t)) m.srem(this.keys.pushTopic(t), id);
    for (const t of input.topics) m.sadd(this.keys.pushTopic(t), id);
    m.del(key);
    m.hset(key, {
      endpoint: input.endpoint,
      p256dh: input.keys.p256dh,
      auth: input.keys.auth,
      topics: input.topics.join(','),
      createdAt: createdAt ?? new Date().toISOString(),
      grantExpiresAt: String(input.grantExpiresAt),
    });
    m.sadd(this.keys.pushSubscriptions, id);
    await m.exec();
    return { id, created: createdAt === null };
  }

  async get(id: string): Promise<PushSubscriptionRecord | undefined> {
    return fromHash(id, await this.redis.hgetall(this.keys.pushSubscription(id)));
  }

  /** Deletes by endpoint; answers whether there was one. */
  removeEndpoint(endpoint: string): Promise<boolean> {
    return this.remove(subscriptionId(endpoint));
  }

  /** Deletes by id with its index entries; answers whether there was one. */
  async remove(id: string): Promise<boolean> {
    const key = this.keys.pushSubscription(id);
    const topics = await this.redis.hget(key, 'topics');
    const m = this.redis.multi();
    for (const t of topics ? topics.split(',') : []) m.srem(this.keys.pushTopic(t), id);
    m.srem(this.keys.pushSubscriptions, id);
    m.del(key);
    const res = await m.exec();
    return Number(res?.[res.length - 1]?.[1] ?? 0) > 0;
  }

  /**
   * Drops the index entries that led to `id` for an event tagged `topics`
   * but that its record does not back (the record is gone, or no longer
   * holds that topic).
   */
  async dropStaleEntries(id: string, topics: readonly string[], record: PushSubscriptionRecord | undefined): Promise<void> {
    const held = new Set(record?.topics ?? []);
    const m = this.redis.multi();
    let n = 0;
    for (const t of topics)
      for (const s of subscriptionsReceiving(t))
        if (!held.has(s)) {
          m.srem(this.keys.pushTopic(s), id);
          n++;
        }
    if (n) await m.exec();
  }

  count(): Promise<number> {
    return this.redis.scard(this.keys.pushSubscriptions);
  }

  /** Every subscription id whose topics may cover one of `topics` (the index's answer; records decide). */
  async idsCovering(topics: readonly string[]): Promise<string[]> {
    const subs = new Set<string>();
    for (const t of topics) for (const s of subscriptionsReceiving(t)) subs.add(this.keys.pushTopic(s));
    if (subs.size === 0) return [];
    return this.redis.sunion(...subs);
  }

  /** How many subscriptions an alert on `topics` would go to now: GET /v1/audience's `push`. */
  async countCovering(topics: readonly string[]): Promise<number> {
    return (await this.idsCovering(topics)).length;
  }

  /** The records of these ids, in order; undefined where there is none. */
  async getMany(ids: readonly string[]): Promise<(PushSubscriptionRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hgetall(this.keys.pushSubscription(id));
    const res = (await p.exec()) ?? [];
    return ids.map((id, i) => {
      const [err, h] = res[i] ?? [null, {}];
      if (err) throw err;
      return fromHash(id, h as Record<string, string>);
    });
  }
}
