/**
 * The delivery report in GET /v1/alerts/{id} (the contract): acceptedAt, sentAt,
 * deliveries summed over every gateway, feedToLastWriteMs percentiles over
 * gateways, and receipts from readers' `ack` frames.
 */
import IORedis from 'ioredis';
import { latencySummary } from '../../src/store/report';
import { eventually, getJson, openReader, postAlert } from '../helpers/clients';
import { passMarker } from '../helpers/marker';
import { startRedis } from '../helpers/redis';
import { startService, PUBLISH_KEY } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

describe('delivery report', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: Awaited<ReturnType<typeof startService>>;
  let gw1: Awaited<ReturnType<typeof startService>>;
  let gw2: Awaited<ReturnType<typeof startService>>;
  let client: IORedis;
  beforeAll(async () => {
    redis = await startRedis();
    const prefix = uniquePrefix();
    api = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api,worker' });
    gw1 = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'gateway' });
    gw2 = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'gateway' });
    client = new IORedis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await Promise.all([api.stop(), gw1.stop(), gw2.stop()]);
    await redis.cleanup();
  });

  it('sums deliveries over gateways, gives latency percentiles over gateways, and counts receipts', async () => {
    const readers = [
      ...(await Promise.all([1, 2, 3].map(() => openReader(gw1.wsUrl, { topics: 'europe' })))),
      ...(await Promise.all([1, 2].map(() => openReader(gw2.wsUrl, { topics: 'europe/ukraine' })))),
    ];
    const bystander = await openReader(gw2.wsUrl, { topics: 'sports' });
    const posted = await postAlert(api.url, { headline: 'Report me', topics: ['europe/ukraine'] });
    const frames = await Promise.all(readers.map((r) => r.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id)));

    // Three readers acknowledge; one of them twice (counted once).
    for (const [i, r] of readers.slice(0, 3).entries()) r.send({ type: 'ack', eventId: frames[i].eventId });
    readers[0]!.send({ type: 'ack', eventId: frames[0].eventId });
    // An ack for an event that is not an alert this gateway sent counts nothing.
    readers[3]!.send({ type: 'ack', eventId: '1-0' });

    const report = await eventually(async () => {
      const r = (await getJson(`${api.url}/v1/alerts/${posted.body.id}`)).body.report;
      return r.deliveries === 5 && r.receipts === 3 && r.feedToLastWriteMs ? r : undefined;
    });
    const alert = (await getJson(`${api.url}/v1/alerts/${posted.body.id}`)).body;
    expect(report).toMatchObject({ acceptedAt: posted.body.createdAt, sentAt: alert.sentAt, deliveries: 5, receipts: 3 });
    const lat = report.feedToLastWriteMs;
    for (const k of ['p50', 'p90', 'p99', 'max']) expect(lat[k]).toBeGreaterThanOrEqual(0);
    expect(lat.p50).toBeLessThanOrEqual(lat.p90);
    expect(lat.p90).toBeLessThanOrEqual(lat.p99);
    expect(lat.p99).toBeLessThanOrEqual(lat.max);
    // One latency figure per gateway that wrote the alert.
    const fields = await client.hkeys(`${api.prefix}:report:${posted.body.id}`);
    expect(fields.filter((f) => f.startsWith('lat:'))).toHaveLength(2);

    // Corrections reach readers but are not new deliveries of the alert.
    const fix = await fetch(`${api.url}/v1/alerts/${posted.body.id}`, { method: 'PATCH', headers: { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' }, body: '{"headline":"Report me (fixed)"}' });
    expect(fix.status).toBe(200);
    await Promise.all(readers.map((r) => r.waitFor((f) => f.type === 'update')));
    // Each gateway delivers in feed order and flushes its counts in order, so
    // once the marker's deliveries are written the update's would be too.
    const marker = await passMarker(api.url, readers, ['europe/ukraine']);
    await eventually(async () => (await getJson(`${api.url}/v1/alerts/${marker}`)).body.report.deliveries === 5);
    expect((await getJson(`${api.url}/v1/alerts/${posted.body.id}`)).body.report).toMatchObject({ deliveries: 5, receipts: 3 });
    for (const r of [...readers, bystander]) r.close();
  });

  it('reports nothing delivered and no latency for an alert nobody was subscribed to', async () => {
    const posted = await postAlert(api.url, { headline: 'Nobody listens', topics: ['nobody'] });
    await eventually(async () => (await getJson(`${api.url}/v1/alerts/${posted.body.id}`)).body.status === 'sent');
    // A later alert that each gateway delivers and reports: by then anything
    // either wrote about the earlier one is written too.
    const listeners = [await openReader(gw1.wsUrl, { topics: 'nobody-marker' }), await openReader(gw2.wsUrl, { topics: 'nobody-marker' })];
    const marker = await passMarker(api.url, listeners, ['nobody-marker']);
    await eventually(async () => (await getJson(`${api.url}/v1/alerts/${marker}`)).body.report.deliveries === 2);
    for (const r of listeners) r.close();
    expect((await getJson(`${api.url}/v1/alerts/${posted.body.id}`)).body.report).toMatchObject({ deliveries: 0, receipts: 0, feedToLastWriteMs: null });
  });

  it('takes nearest-rank percentiles over the gateways', () => {
    const h: Record<string, string> = { deliveries: '100' };
    for (let i = 1; i <= 10; i++) h[`lat:g${i}`] = String(i * 10);
    expect(latencySummary(h)).toEqual({ p50: 50, p90: 90, p99: 100, max: 100 });
    expect(latencySummary({ 'lat:a': '7' })).toEqual({ p50: 7, p90: 7, p99: 7, max: 7 });
    expect(latencySummary({ deliveries: '3' })).toBeNull();
  });
});
