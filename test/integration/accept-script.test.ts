/**
 * accept-alert-13.lua on its own, against a real Redis: what an accept
 * leaves behind when it sends the alert itself, finds it expired, or only
 * writes the record for a job to follow. A record settled by the script is
 * written once, with its status, and never enters the unqueued set.
 */
import type IORedis from 'ioredis';
import { newAlertId } from '../../src/alert/ids';
import { alertEntry } from '../../src/feed/feed-scripts';
import { Keys } from '../../src/redis/keys';
import { runScript } from '../../src/redis/scripts';
import { newRecord, recordFields, toPayload, type AlertRecord } from '../../src/store/alert-store';
import { redisForFile } from '../helpers/redis-for-file';
import { uniquePrefix } from '../helpers/settings';

const QUEUE = 'alerts';
const RETENTION_MS = 3_600_000;

describe('the accept script', () => {
  const file = redisForFile();
  let client: IORedis;
  beforeAll(() => {
    client = file.client;
  });

  /** Runs the script alone (ARGV[11] '1') for `rec`, as the API does for an alert that may go at once. */
  async function accept(keys: Keys, rec: AlertRecord, idempotency?: { key: string; fp: string }): Promise<[string, string?]> {
    const q = (name: Parameters<Keys['queueKey']>[1]) => keys.queueKey(QUEUE, name);
    const sentAt = new Date().toISOString();
    const entry = alertEntry(rec, toPayload({ ...rec, sentAt }));
    const response = JSON.stringify({ id: rec.id });
    return (await runScript(
      client,
      'acceptAlert',
      [keys.apiKeys, keys.rate('env', 60), idempotency?.key ?? keys.alert(rec.id), keys.alert(rec.id), keys.unqueued, keys.sendJob(QUEUE, rec.id), keys.feed, keys.workers, q('wait'), q('paused'), q('active'), q('prioritized'), q('meta')],
      ['', '', 1000, 60_000, idempotency?.fp ?? '', 86_400_000, response, RETENTION_MS, rec.id, Date.parse(rec.createdAt), '1', entry.body, entry.topics, entry.exp, sentAt, 10_000, 86_400_000, ...recordFields(rec)],
    )) as [string, string?];
  }

  function record(input: { expiresAt?: string } = {}): AlertRecord {
    const now = Date.now();
    return newRecord(newAlertId(now), { headline: 'Stoltenberg: Ukraine belongs in NATO', topics: ['europe/ukraine'], priority: 'flash', ...input }, 'env', new Date(now));
  }

  async function running(keys: Keys): Promise<void> {
    await client.zadd(keys.workers, Date.now() + 600_000, 'worker-1');
  }

  it('sends the alert itself: the record written once as sent, kept for the retention, never among the unqueued', async () => {
    const keys = new Keys(uniquePrefix());
    await running(keys);
    const expiresAt = new Date(Date.now() + 2 * RETENTION_MS).toISOString();
    const rec = record({ expiresAt });
    const before = Date.now();
    const [outcome, eventId] = await accept(keys, rec);
    expect(outcome).toBe('appended');
    const stored = await client.hgetall(keys.alert(rec.id));
    expect(stored).toMatchObject({ id: rec.id, headline: rec.headline, status: 'sent', eventId, expMs: String(Date.parse(expiresAt)) });
    expect(Date.parse(stored.sentAt!)).toBeGreaterThanOrEqual(before);
    // Kept until its expiry plus the retention, which is later than now plus the retention.
    expect(await client.pexpiretime(keys.alert(rec.id))).toBe(Date.parse(expiresAt) + RETENTION_MS);
    expect(await client.zscore(keys.unqueued, rec.id)).toBeNull();
    const feed = (await client.xrange(keys.feed, '-', '+')) as [string, string[]][];
    expect(feed.map(([id, f]) => [id, f[f.findIndex((x, i) => i % 2 === 0 && x === 'alert') + 1]])).toEqual([[eventId, rec.id]]);

    // Without an expiry: now plus the retention, by Redis's clock.
    const plain = record();
    await accept(keys, plain);
    const [secs] = await client.time();
    const at = await client.pexpiretime(keys.alert(plain.id));
    expect(at).toBeGreaterThan(Number(secs) * 1000 + RETENTION_MS - 60_000);
    expect(at).toBeLessThanOrEqual(Number(secs) * 1000 + RETENTION_MS + 1000);
  });

  it('marks an alert whose expiry has passed expired, appending nothing', async () => {
    const keys = new Keys(uniquePrefix());
    await running(keys);
    const rec = record({ expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(await accept(keys, rec)).toEqual(['expired']);
    expect(await client.hgetall(keys.alert(rec.id))).toMatchObject({ id: rec.id, status: 'expired' });
    expect(await client.hexists(keys.alert(rec.id), 'eventId')).toBe(0);
    expect(await client.xlen(keys.feed)).toBe(0);
    expect(await client.zscore(keys.unqueued, rec.id)).toBeNull();
    expect(await client.pttl(keys.alert(rec.id))).toBeGreaterThan(RETENTION_MS - 60_000);
  });

  it('only writes the record, among the unqueued, when no worker runs; remembers the 202 only for an alert it settled', async () => {
    const keys = new Keys(uniquePrefix());
    const idle = record();
    const idem = { key: `${keys.alert('idem')}:a`, fp: 'fp-a' };
    expect(await accept(keys, idle, idem)).toEqual(['created']);
    expect(await client.hget(keys.alert(idle.id), 'status')).toBe('queued');
    expect(await client.zscore(keys.unqueued, idle.id)).toBe(String(Date.parse(idle.createdAt)));
    expect(await client.xlen(keys.feed)).toBe(0);
    // The job is still to be added: no 202 to replay yet.
    expect(await client.hgetall(idem.key)).toEqual({ fp: 'fp-a', alertId: idle.id, createdAt: String(Date.parse(idle.createdAt)) });

    await running(keys);
    const sent = record();
    const idemSent = { key: `${keys.alert('idem')}:b`, fp: 'fp-b' };
    expect((await accept(keys, sent, idemSent))[0]).toBe('appended');
    expect(await client.hget(idemSent.key, 'response')).toBe(JSON.stringify({ id: sent.id }));
    expect(await client.pttl(idemSent.key)).toBeGreaterThan(0);
  });
});
