/**
 * Idempotency-Key (the contract's "Idempotency"): scoped to the publishing key,
 * 24 hours, equal JSON body replays the first 202 with
 * `Idempotent-Replayed: true` and creates nothing, another body is a 422,
 * only successes are remembered, and racing requests make one alert.
 */
import IORedis from 'ioredis';
import { createHash } from 'node:crypto';
import { canonicalJson, Idempotency, IDEMPOTENCY_TTL_MS } from '../../src/api/idempotency';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { alertInputSchema } from '../../src/alert/schema';
import { Keys } from '../../src/redis/keys';
import { AlertStore, newRecord } from '../../src/store/alert-store';
import { eventually, getJson, openReader, postAlert } from '../helpers/clients';
import { framesBefore, passMarker } from '../helpers/marker';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';

describe('Idempotency-Key', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let client: IORedis;
  let keys: Keys;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url);
    client = new IORedis(redis.url);
    keys = new Keys(svc.prefix);
  });
  afterAll(async () => {
    client.disconnect();
    await svc.stop();
    await redis.cleanup();
  });

  async function alertCount(): Promise<number> {
    return (await client.keys(`${svc.prefix}:alert:*`)).length;
  }

  it('replays the first 202 for an equal body (keys in any order) and creates nothing', async () => {
    const before = await alertCount();
    const body = { headline: 'Idempotent', topics: ['world', 'europe'], priority: 'flash', summary: 's' };
    const first = await postAlert(svc.url, body, { 'Idempotency-Key': 'k-equal' });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // Same JSON, keys reordered and spaced differently.
    const again = await postAlert(svc.url, '{ "summary":"s", "priority":"flash","topics":["world","europe"],  "headline":"Idempotent"}', { 'Idempotency-Key': 'k-equal' });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(`/v1/alerts/${first.body.id}`);
    expect(again.body).toEqual(first.body);
    expect(await alertCount()).toBe(before + 1);
    // The replay is kept 24 hours from the first use.
    const ttl = Math.max(...(await Promise.all((await client.keys(`${keys.prefix}:idem:*`)).map((k) => client.pttl(k)))));
    expect(ttl).toBeGreaterThan(IDEMPOTENCY_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(IDEMPOTENCY_TTL_MS);
  });

  it('answers 422 for the same key with another body, and creates nothing', async () => {
    const first = await postAlert(svc.url, { headline: 'One', topics: ['world'] }, { 'Idempotency-Key': 'k-other' });
    expect(first.status).toBe(202);
    const before = await alertCount();
    const other = await postAlert(svc.url, { headline: 'Two', topics: ['world'] }, { 'Idempotency-Key': 'k-other' });
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(other.body).toMatchObject({ status: 422, type: expect.stringContaining('idempotency-key-reused'), detail: expect.stringContaining('k-other') });
    expect(await alertCount()).toBe(before);
  });

  it('scopes keys to the publishing key: another key may use the same Idempotency-Key', async () => {
    const { secret } = await new ApiKeyStore(client, keys).create('second-desk', ['publish']);
    const a = await postAlert(svc.url, { headline: 'Scoped', topics: ['world'] }, { 'Idempotency-Key': 'k-scope' });
    const b = await postAlert(svc.url, { headline: 'Scoped', topics: ['world'] }, { 'Idempotency-Key': 'k-scope', Authorization: `Bearer ${secret}` });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.publishedBy).toBe('second-desk');
  });

  it('remembers only successes: a rejected body does not use up the key', async () => {
    const bad = await postAlert(svc.url, { headline: '', topics: ['world'] }, { 'Idempotency-Key': 'k-fail' });
    expect(bad.status).toBe(422);
    const good = await postAlert(svc.url, { headline: 'Now valid', topics: ['world'] }, { 'Idempotency-Key': 'k-fail' });
    expect(good.status).toBe(202);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });

  it.each([2, 10])('creates exactly one alert when %i requests with one key race', async (n) => {
    const reader = await openReader(svc.wsUrl, { topics: 'race' });
    const before = await alertCount();
    const key = `k-race-${n}`;
    const results = await Promise.all(Array.from({ length: n }, () => postAlert(svc.url, { headline: `Race of ${n}`, topics: ['race'] }, { 'Idempotency-Key': key })));
    expect(results.map((r) => r.status)).toEqual(Array(n).fill(202));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.filter((r) => r.headers.get('idempotent-replayed') === null).length).toBeGreaterThanOrEqual(1);
    expect(await alertCount()).toBe(before + 1);
    await reader.waitFor((f) => f.type === 'alert' && f.alert.id === results[0]!.body.id);
    const marker = await passMarker(svc.url, [reader], ['race']);
    expect(framesBefore(reader, marker).filter((f) => f.type === 'alert')).toHaveLength(1);
    reader.close();
  });

  it('finishes the same alert when a request crashed after reserving the key, before making anything', async () => {
    // What a process killed right after the reservation leaves behind.
    const body = { headline: 'Crashed half-way', topics: ['crash'] };
    const reservedId = '01JCRASHED0000000000000000';
    const createdAt = Date.now() - 1000;
    const r = await new Idempotency(client, keys).reserve('env', 'k-crash', body, reservedId, createdAt);
    expect(r).toEqual({ kind: 'reserved', alertId: reservedId, createdAt });
    const reader = await openReader(svc.wsUrl, { topics: 'crash' });
    const before = await alertCount();
    const retry = await postAlert(svc.url, body, { 'Idempotency-Key': 'k-crash' });
    expect(retry.status).toBe(202);
    expect(retry.body.id).toBe(reservedId);
    expect(retry.body.createdAt).toBe(new Date(createdAt).toISOString());
    const again = await postAlert(svc.url, body, { 'Idempotency-Key': 'k-crash' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(reservedId);
    expect(await alertCount()).toBe(before + 1);
    await reader.waitFor((f) => f.type === 'alert' && f.alert.id === reservedId);
    reader.close();
  });

  it('finishes the same alert when a request crashed after writing the record, before queueing it', async () => {
    const body = { headline: 'Crashed after the record', topics: ['crash2'] };
    const reservedId = '01JCRASHED0000000000000001';
    const createdAt = Date.now();
    await new Idempotency(client, keys).reserve('env', 'k-crash2', body, reservedId, createdAt);
    // The record exists but no job was queued: without a retry it would sit as queued.
    const input = alertInputSchema.parse(body);
    expect(await new AlertStore(client, keys).create(newRecord(reservedId, input, 'env', new Date(createdAt)))).toBe(true);
    const reader = await openReader(svc.wsUrl, { topics: 'crash2' });
    const before = await alertCount();
    const retry = await postAlert(svc.url, body, { 'Idempotency-Key': 'k-crash2' });
    expect(retry.status).toBe(202);
    expect(retry.body.id).toBe(reservedId);
    expect(await alertCount()).toBe(before);
    await reader.waitFor((f) => f.type === 'alert' && f.alert.id === reservedId);
    const again = await postAlert(svc.url, body, { 'Idempotency-Key': 'k-crash2' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const marker = await passMarker(svc.url, [reader], ['crash2']);
    expect(framesBefore(reader, marker).filter((f) => f.type === 'alert')).toHaveLength(1);
    const entries = (await client.xrange(keys.feed, '-', '+')) as [string, string[]][];
    expect(entries.filter(([, f]) => f.includes(reservedId))).toHaveLength(1);
    reader.close();
  });

  it('makes no second alert when a request crashed after queueing, before remembering its response', async () => {
    const body = { headline: 'Crashed before the response', topics: ['crash3'] };
    const first = await postAlert(svc.url, body, { 'Idempotency-Key': 'k-crash3' });
    await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${first.body.id}`)).body.status === 'sent');
    // That crash leaves the reservation without a remembered response.
    const idemKey = keys.idempotency('env', createHash('sha256').update('k-crash3').digest('base64url'));
    expect(await client.hdel(idemKey, 'response')).toBe(1);
    const before = await alertCount();
    const retry = await postAlert(svc.url, body, { 'Idempotency-Key': 'k-crash3' });
    expect(retry.status).toBe(202);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await alertCount()).toBe(before);
    const entries = (await client.xrange(keys.feed, '-', '+')) as [string, string[]][];
    expect(entries.filter(([, f]) => f.includes(first.body.id))).toHaveLength(1);
  });

  it('compares bodies as canonical JSON: key order is ignored, everything else counts', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }));
    expect(canonicalJson({ topics: ['a', 'b'] })).not.toBe(canonicalJson({ topics: ['b', 'a'] }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
    expect(canonicalJson({ headline: 'x' })).not.toBe(canonicalJson({ headline: 'x', priority: 'urgent' }));
  });

  it('rejects a malformed Idempotency-Key with 422', async () => {
    const res = await postAlert(svc.url, { headline: 'x', topics: ['world'] }, { 'Idempotency-Key': 'x'.repeat(256) });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'Idempotency-Key', message: expect.any(String) }]);
  });
});
