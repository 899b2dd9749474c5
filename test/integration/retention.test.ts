/**
 * Retention (the contract's "Cursors, visibility, retention"; issue 11 point 4):
 * every per-alert key (record with its audit trail, report with its
 * receipts) carries FLASHWIRE_RECORD_RETENTION_SECONDS as an expiry counted
 * from the alert's last change or expiry, refreshed by every change; once
 * alerts age out, Redis holds as many keys and as much memory as before.
 *
 * Nothing here waits for a clock: the test reads the expiries Flashwire set,
 * then makes them due at once (PEXPIRE 1 ms), as time passing would.
 */
import IORedis from 'ioredis';
import type { AlertInput } from '../../src/alert/schema';
import { newAlertId } from '../../src/alert/ids';
import { createLogger } from '../../src/log';
import { Keys } from '../../src/redis/keys';
import { AlertChanges } from '../../src/store/alert-changes';
import { AlertStore, newRecord } from '../../src/store/alert-store';
import { ReportWriter } from '../../src/store/report';
import { appendSend } from '../../workers/fanout.worker';
import { eventually, FIXTURE, getJson, openReader, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService, PUBLISH_KEY } from '../helpers/service';
import { testSettings } from '../helpers/settings';

jest.setTimeout(90_000);

const RETENTION_S = 60;
const RETENTION_MS = RETENTION_S * 1000;

async function keysUnder(client: IORedis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    out.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return out.sort();
}

/** Makes every expiry under the prefix due now, as if the retention had passed; returns how many keys it aged. */
async function ageOut(client: IORedis, prefix: string): Promise<number> {
  const keys = await keysUnder(client, prefix);
  const ttls = await Promise.all(keys.map((k) => client.pttl(k)));
  const due = keys.filter((_, i) => (ttls[i] as number) > 0);
  for (const k of due) await client.pexpire(k, 1);
  await new Promise((r) => setTimeout(r, 10));
  // Touching an expired key deletes it there and then (no wait for the active cycle).
  for (const k of due) await client.exists(k);
  return due.length;
}

/**
 * Redis's used_memory less what its connections' buffers, the AOF buffer
 * and the keyspace's hash tables hold at that moment: those follow the
 * timing of the commands just sent and of Redis's own housekeeping (a burst
 * of 800 PTTLs leaves a query buffer that Redis shrinks when it gets round
 * to it; the tables that grew for 760 keys are shrunk by a periodic task,
 * later on a busy machine), not what the alerts left behind.
 */
async function usedMemory(client: IORedis): Promise<number> {
  const stats = (await client.call('MEMORY', 'STATS')) as unknown[];
  const field = (list: unknown[], name: string): unknown => {
    const i = list.indexOf(name);
    return i < 0 ? undefined : list[i + 1];
  };
  const db = (field(stats, 'db.0') as unknown[] | undefined) ?? [];
  const tables = Number(field(db, 'overhead.hashtable.main') ?? 0) + Number(field(db, 'overhead.hashtable.expires') ?? 0);
  return Number(field(stats, 'total.allocated')) - Number(field(stats, 'clients.normal')) - Number(field(stats, 'aof.buffer')) - tables;
}

describe('record retention', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: IORedis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new IORedis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.cleanup();
  });

  it('puts the retention on every per-alert key, counted from the last change or expiry, and refreshes it on each change', async () => {
    const svc = await startService(redis.url, { FLASHWIRE_RECORD_RETENTION_SECONDS: String(RETENTION_S) });
    const keys = new Keys(svc.prefix);
    const reader = await openReader(svc.wsUrl, { topics: 'world' });
    try {
      const posted = await postAlert(svc.url, { ...FIXTURE, topics: ['world'] });
      const id = posted.body.id as string;
      const frame = await reader.waitFor((f) => f.type === 'alert' && f.alert.id === id);
      reader.send({ type: 'ack', eventId: frame.eventId });
      await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${id}`)).body.report.receipts === 1);

      for (const k of [keys.alert(id), keys.report(id)]) {
        const ttl = await client.pttl(k);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(RETENTION_MS);
      }
      // The report goes with its record.
      expect(await client.call('PEXPIRETIME', keys.report(id))).toBe(await client.call('PEXPIRETIME', keys.alert(id)));

      // Each change counts the retention from itself: age both keys, change, read again.
      const change = async (what: string, run: () => Promise<Response>) => {
        await client.pexpire(keys.alert(id), 5000);
        await client.pexpire(keys.report(id), 5000);
        expect([what, (await run()).status]).toEqual([what, 200]);
        for (const k of [keys.alert(id), keys.report(id)]) expect([what, k, (await client.pttl(k)) > RETENTION_MS - 10_000]).toEqual([what, k, true]);
      };
      const auth = { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' };
      await change('correction', () => fetch(`${svc.url}/v1/alerts/${id}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ headline: 'Corrected' }) }));
      await change('retraction', () => fetch(`${svc.url}/v1/alerts/${id}/retract`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: 'Wrong' }) }));

      // Counted from the expiry when that is later than the last change.
      const expiresAt = new Date(Date.now() + 3600_000).toISOString();
      const expiring = await postAlert(svc.url, { headline: 'Expires in an hour', topics: ['world'], expiresAt });
      await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${expiring.body.id}`)).body.status === 'sent');
      expect(await client.call('PEXPIRETIME', keys.alert(expiring.body.id))).toBe(Date.parse(expiresAt) + RETENTION_MS);

      // An embargoed alert is kept at least until its retention after the embargo.
      const sendAt = new Date(Date.now() + 3600_000).toISOString();
      const scheduled = await postAlert(svc.url, { headline: 'Embargoed', topics: ['world'], sendAt });
      expect(scheduled.body.status).toBe('scheduled');
      expect(await client.call('PEXPIRETIME', keys.alert(scheduled.body.id))).toBe(Date.parse(sendAt) + RETENTION_MS);

      // Every per-alert key under the prefix expires.
      const perAlert = (await keysUnder(client, svc.prefix)).filter((k) => k.startsWith(`${svc.prefix}:alert:`) || k.startsWith(`${svc.prefix}:report:`));
      expect(perAlert.length).toBeGreaterThanOrEqual(4);
      for (const k of perAlert) expect([k, (await client.pttl(k)) > 0]).toEqual([k, true]);

      // Aged out, the alert is gone: a 404.
      await client.pexpire(keys.alert(id), 1);
      await client.pexpire(keys.report(id), 1);
      await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${id}`)).status === 404);
    } finally {
      reader.close();
      await svc.stop();
    }
  });

  it('brings the key count and used_memory back to their baseline once alerts age out', async () => {
    // A Redis of its own: used_memory counts everything in it.
    const own = await startRedis();
    const client = new IORedis(own.url);
    try {
      // The real code paths that write per-alert keys, driven directly: the
      // API's create, the worker's append, corrections, retractions, failures
      // and a gateway's report with receipts.
      const settings = testSettings(own.url, { FLASHWIRE_RECORD_RETENTION_SECONDS: String(RETENTION_S) });
      const keys = new Keys(settings.FLASHWIRE_PREFIX);
      const store = new AlertStore(client, keys, RETENTION_MS);
      const changes = new AlertChanges(client, keys, { maxEntries: 1_000_000, retentionMs: 48 * 3600_000, recordRetentionMs: RETENTION_MS });
      const reports = new ReportWriter(client, keys, 'gateway-under-test', createLogger('silent'), { retentionMs: RETENTION_MS, flushMs: 3600_000 });
      const input: AlertInput = { ...(FIXTURE as unknown as AlertInput), topics: ['world', 'europe/ukraine'], priority: 'bulletin' };

      const lifecycle = async (i: number) => {
        const id = newAlertId();
        await store.create(newRecord(id, input, 'desk', new Date()));
        await store.queued(id);
        if (i % 10 === 9) {
          await store.markFailed(id, 'every attempt failed');
          return;
        }
        const sent = await appendSend({ redis: client, keys, settings }, id);
        reports.delivered(sent.eventId!, id, 3, Date.now());
        reports.receipt(id);
        reports.receipt(id);
        if (i % 3 === 0) await changes.correct(id, { headline: `${input.headline} (corrected)` }, 'desk');
        if (i % 5 === 0) await changes.retract(id, 'Retracted for the test', 'desk');
      };
      // The feed keeps its own, separate retention (FLASHWIRE_FEED_RETENTION_SECONDS):
      // each append trims what is older. Here its clock is advanced the same way.
      const ageFeed = () => client.xtrim(keys.feed, 'MINID', String(Date.now() + 1));

      // Warm up: one alert through its whole life, so scripts are loaded and the feed exists.
      await lifecycle(0);
      await reports.flush();
      await ageOut(client, settings.FLASHWIRE_PREFIX);
      await ageFeed();
      const baselineKeys = await keysUnder(client, settings.FLASHWIRE_PREFIX);
      const baselineMemory = await usedMemory(client);

      const N = 400;
      for (let i = 1; i <= N; i++) await lifecycle(i);
      await reports.flush();
      const grownKeys = await keysUnder(client, settings.FLASHWIRE_PREFIX);
      const grownMemory = await usedMemory(client);
      // Records and reports (failed alerts have no report).
      expect(grownKeys.length - baselineKeys.length).toBe(N + N - N / 10);
      expect(grownMemory - baselineMemory).toBeGreaterThan(N * 1000);

      expect(await ageOut(client, settings.FLASHWIRE_PREFIX)).toBe(grownKeys.length - baselineKeys.length);
      await ageFeed();
      expect(await keysUnder(client, settings.FLASHWIRE_PREFIX)).toEqual(baselineKeys);
      expect(await client.dbsize()).toBe(baselineKeys.length);
      // Allocator slack and connection buffers move used_memory by a few KiB, not by what N alerts took.
      const back = await usedMemory(client);
      expect(back - baselineMemory).toBeLessThan(64 * 1024);
      expect(back - baselineMemory).toBeLessThan((grownMemory - baselineMemory) / 20);
      await reports.stop();
    } finally {
      client.disconnect();
      await own.cleanup();
    }
  });
});
