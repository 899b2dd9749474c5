/**
 * report.reach (the contract's "Approval and audience"): from the gateways' write
 * times against the readers connected at send, over every gateway.
 */
import { eventually, getJson, openReader, postAlert, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY, uniquePrefix } from '../helpers/settings';

describe('report.reach', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: Awaited<ReturnType<typeof startService>>;
  let gwA: Awaited<ReturnType<typeof startService>>;
  let gwB: Awaited<ReturnType<typeof startService>>;
  const prefix = uniquePrefix();
  const readers: TestReader[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    api = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api,worker' });
    gwA = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'gateway' });
    gwB = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'gateway' });
  });
  afterAll(async () => {
    for (const r of readers) r.close();
    await gwB?.stop();
    await gwA?.stop();
    await api?.stop();
    await redis?.cleanup();
  });

  it('counts the readers connected at send on every gateway and gives p50 <= p90 <= p99 of their write times', async () => {
    for (let i = 0; i < 2; i++) readers.push(await openReader(gwA.wsUrl, { topics: 'world' }));
    for (let i = 0; i < 3; i++) readers.push(await openReader(gwB.wsUrl, { topics: '*' }));
    readers.push(await openReader(gwB.wsUrl, { topics: 'sport' })); // connected, but not for this alert
    const posted = await postAlert(api.url, { headline: 'Reach across gateways', topics: ['world'], priority: 'flash' });
    expect(posted.body.report.reach).toBeNull();
    for (const r of readers.slice(0, 5)) await r.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id);
    const alert = await eventually(async () => {
      const a = (await getJson(`${api.url}/v1/alerts/${posted.body.id}`)).body;
      return a.report.reach?.readersAtSend === 5 ? a : undefined;
    }, 15_000);
    const { reach, feedToLastWriteMs } = alert.report;
    expect(Object.keys(reach).sort()).toEqual(['p50Ms', 'p90Ms', 'p99Ms', 'readersAtSend']);
    for (const p of ['p50Ms', 'p90Ms', 'p99Ms']) expect(Number.isInteger(reach[p])).toBe(true);
    expect(reach.p50Ms).toBeGreaterThanOrEqual(0);
    expect(reach.p50Ms).toBeLessThanOrEqual(reach.p90Ms);
    expect(reach.p90Ms).toBeLessThanOrEqual(reach.p99Ms);
    // The last reader written is the slowest gateway's last write.
    expect(reach.p99Ms).toBeLessThanOrEqual(feedToLastWriteMs.max);
    // Readers who join after the send do not change it.
    readers.push(await openReader(gwA.wsUrl, { topics: 'world', since: alert.eventId.replace(/-\d+$/, '-0') }));
    const again = (await getJson(`${api.url}/v1/alerts/${posted.body.id}`)).body;
    expect(again.report.reach.readersAtSend).toBe(5);
  });

  it('says nobody was reached when nobody was connected for the topic', async () => {
    // A private topic nobody holds: not even the `*` readers of the test above receive it.
    const posted = await postAlert(api.url, { headline: 'Nobody listens to this', topics: ['private/nobody-here'] });
    const a = await eventually(async () => {
      const r = (await getJson(`${api.url}/v1/alerts/${posted.body.id}`, { Authorization: `Bearer ${PUBLISH_KEY}` })).body;
      return r.status === 'sent' && r.report.reach ? r : undefined;
    }, 15_000);
    expect(a.report.reach).toEqual({ readersAtSend: 0, p50Ms: null, p90Ms: null, p99Ms: null });
  });
});
