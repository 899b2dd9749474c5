/**
 * This gateway's share of the audience (src/store/audience.ts): once a
 * second, its reader counts per subscription list and transport go to one
 * Redis hash with a short TTL, replaced whole in one MULTI. Nothing is
 * written per reader or per connect: a reconnect storm costs the same one
 * write a second as a quiet minute.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../redis/keys';
import { TRANSPORT_FIELD } from '../store/audience';
import type { Reader } from './reader';
import { WsTransport } from './ws-transport';

/** How often counts are published: the contract caps the audience's age at 2 s. */
const AUDIENCE_PUBLISH_MS = 1000;
/** A gateway that stops publishing (killed) drops out after this. */
const TTL_MS = 5000;
/**
 * Past this many distinct subscription lists, each reader is counted under
 * each of its subscriptions instead: the hash stays small, and a reader
 * holding two matching topics is then counted twice (an upper bound).
 */
const MAX_FIELDS = 2000;

export interface AudienceReaders {
  readonly readers: ReadonlySet<Reader>;
}

/** The hash fields for a set of readers: `w|a,b` / `s|a,b` -> count. */
export function audienceFields(readers: Iterable<Reader>, maxFields = MAX_FIELDS): Map<string, number> {
  // Counted per transport under the bare list, and named once per list at
  // the end: this walks every reader each second, and a string made for
  // each of them was most of its cost (and garbage for the next fan-out).
  const ws = new Map<string, number>();
  const sse = new Map<string, number>();
  for (const r of readers) {
    if (r.closed || r.topics.size === 0) continue;
    const counts = r.transport instanceof WsTransport ? ws : sse;
    const list = r.topics.listKey();
    counts.set(list, (counts.get(list) ?? 0) + 1);
  }
  const lists = new Map<string, number>();
  for (const [list, n] of ws) lists.set(`${TRANSPORT_FIELD.websocket}|${list}`, n);
  for (const [list, n] of sse) lists.set(`${TRANSPORT_FIELD.sse}|${list}`, n);
  if (lists.size <= maxFields) return lists;
  const single = new Map<string, number>();
  for (const [field, n] of lists) {
    const t = field.slice(0, 2);
    for (const sub of field.slice(2).split(',')) single.set(t + sub, (single.get(t + sub) ?? 0) + n);
  }
  return single;
}

export class AudiencePublisher {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly gatewayId: string,
    private readonly gateway: AudienceReaders,
    private readonly log: Logger,
    private readonly everyMs = AUDIENCE_PUBLISH_MS,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.publish();
    this.timer = setInterval(() => void this.publish(), this.everyMs);
    this.timer.unref();
  }

  /** Writes the counts now (one at a time; a slow Redis never piles writes up). */
  publish(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    if (this.stopped) return;
    const key = this.keys.audience(this.gatewayId);
    const fields = audienceFields(this.gateway.readers);
    const m = this.redis.multi().del(key);
    if (fields.size > 0) m.hset(key, Object.fromEntries(fields)).pexpire(key, TTL_MS);
    m.zadd(this.keys.audienceGateways, Date.now(), this.gatewayId);
    try {
      await m.exec();
    } catch (err) {
      // Redis away: the next tick tries again; readers see the count age out meanwhile.
      this.log.debug({ err: String(err) }, 'audience publish failed');
    }
  }

  /** Stops publishing and withdraws this gateway's counts; idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      await this.writing;
      await this.redis
        .multi()
        .del(this.keys.audience(this.gatewayId))
        .zrem(this.keys.audienceGateways, this.gatewayId)
        .exec()
        .catch(() => undefined);
    })();
    return this.stopped;
  }
}
