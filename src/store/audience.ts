/**
 * The audience: who would receive an alert on some topics right now.
 *
 * Every gateway process publishes, once a second, one small Redis hash of
 * its reader counts (src/gateway/audience-publisher.ts): field
 * `w|SUBS` or `s|SUBS` (WebSocket or SSE), where SUBS is a reader's sorted
 * subscription list, and the value how many readers hold exactly that list.
 * Readers with the same subscriptions share one field, so the hash grows
 * with the distinct subscription lists (a handful in practice), never with
 * readers; and a reader is counted once however many of its subscriptions
 * match. The API sums those hashes with the stream's own matching rule.
 *
 * Other ways of reaching people (webhook endpoints, Web Push subscriptions)
 * plug in as AudienceSources.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { anyCovers } from '../alert/topics';
import type { Keys } from '../redis/keys';

/** Gateway snapshots older than this are left out: the answer is at most this old. */
const AUDIENCE_MAX_AGE_MS = 2000;

export const TRANSPORT_FIELD = { websocket: 'w', sse: 's' } as const;

/** The answer of GET /v1/audience (and of a dry run). */
export const audienceCountSchema = z.object({
  /** Readers connected now whose subscriptions receive the topics (websocket + sse). */
  readers: z.number().int(),
  websocket: z.number().int(),
  sse: z.number().int(),
  /** Webhook endpoints that would be called (0 until webhooks are configured). */
  webhooks: z.number().int(),
  /** Web Push subscriptions that would be pushed (0 until Web Push is configured). */
  push: z.number().int(),
  /** When the oldest figure summed was taken (ISO-8601). */
  at: z.string(),
});
export type AudienceCount = z.infer<typeof audienceCountSchema>;

/** The answer of POST /v1/alerts?dryRun=true. */
export const dryRunSchema = z.object({ valid: z.literal(true), audience: audienceCountSchema });

/**
 * Another channel that reaches people. Webhooks and Web Push register one
 * each; the audience asks every source and adds its count under its kind.
 */
export interface AudienceSource {
  kind: 'webhooks' | 'push';
  /** How many endpoints or subscriptions would receive an alert on `topics` now. */
  count(topics: readonly string[]): Promise<number>;
}

/** Parses one field of a gateway's hash: transport and subscription list. */
export function parseAudienceField(field: string): { transport: 'websocket' | 'sse'; subscriptions: string[] } | undefined {
  const bar = field.indexOf('|');
  if (bar !== 1) return undefined;
  const t = field[0];
  if (t !== TRANSPORT_FIELD.websocket && t !== TRANSPORT_FIELD.sse) return undefined;
  return { transport: t === 'w' ? 'websocket' : 'sse', subscriptions: field.slice(2).split(',') };
}

export class Audience {
  private readonly sources: AudienceSource[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Adds webhooks, push, or any other channel to the sum. */
  addSource(source: AudienceSource): void {
    this.sources.push(source);
  }

  async count(topics: readonly string[], now: number = Date.now()): Promise<AudienceCount> {
    const oldest = now - AUDIENCE_MAX_AGE_MS;
    const live = await this.redis.zrangebyscore(this.keys.audienceGateways, oldest, '+inf', 'WITHSCORES');
    const out: AudienceCount = { readers: 0, websocket: 0, sse: 0, webhooks: 0, push: 0, at: new Date(now).toISOString() };
    let at = now;
    if (live.length > 0) {
      const pipe = this.redis.pipeline();
      for (let i = 0; i < live.length; i += 2) pipe.hgetall(this.keys.audience(live[i] as string));
      const hashes = (await pipe.exec()) ?? [];
      hashes.forEach(([err, h], i) => {
        if (err || !h) return;
        at = Math.min(at, Number(live[i * 2 + 1]));
        for (const [field, value] of Object.entries(h as Record<string, string>)) {
          const f = parseAudienceField(field);
          if (!f || !anyCovers(f.subscriptions, topics)) continue;
          out[f.transport] += Number(value);
        }
      });
    }
    out.readers = out.websocket + out.sse;
    out.at = new Date(at).toISOString();
    for (const s of this.sources) out[s.kind] += await s.count(topics);
    // Gateways gone for long are dropped from the index (their hashes expire by themselves).
    void this.redis.zremrangebyscore(this.keys.audienceGateways, '-inf', now - 60_000).catch(() => undefined);
    return out;
  }
}
