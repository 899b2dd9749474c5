/**
 * Embargoes (the contract `sendAt`): a scheduled alert is a BullMQ delayed job;
 * it survives the restart of every Flashwire process and of Redis (AOF,
 * fsync always), and reaches readers after sendAt, never before.
 */
import { getJson, openReader, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

describe('embargoed alerts', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis({ appendfsync: 'always' });
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('sends a scheduled alert after sendAt even when every process and Redis restart in between', async () => {
    const prefix = uniquePrefix();
    const first = await startService(redis.url, { FLASHWIRE_PREFIX: prefix });
    // Far enough that every restart surely finishes before the embargo lifts.
    const sendAt = new Date(Date.now() + 30_000);
    const posted = await postAlert(first.url, { headline: 'Embargoed until thirty seconds from now', topics: ['world'], sendAt: sendAt.toISOString() });
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ status: 'scheduled', sendAt: sendAt.toISOString() });
    expect((await getJson(`${first.url}/v1/alerts/${posted.body.id}`)).body.status).toBe('scheduled');

    // Everything goes down: Flashwire, then Redis; then both come back.
    await first.stop();
    await redis.stop();
    await redis.start();
    const second = await startService(redis.url, { FLASHWIRE_PREFIX: prefix });
    try {
      const reader = await openReader(second.wsUrl, { topics: 'world' });
      expect((await getJson(`${second.url}/v1/alerts/${posted.body.id}`)).body.status).toBe('scheduled');
      const frame = await reader.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id, 60_000);
      const arrived = Date.now();
      expect(arrived).toBeGreaterThanOrEqual(sendAt.getTime());
      expect(Date.parse(frame.alert.sentAt)).toBeGreaterThanOrEqual(sendAt.getTime());
      const got = (await getJson(`${second.url}/v1/alerts/${posted.body.id}`)).body;
      expect(got).toMatchObject({ status: 'sent', eventId: frame.eventId, sendAt: sendAt.toISOString() });
      expect(reader.ofType('alert')).toHaveLength(1);
      reader.close();
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('holds a scheduled alert back until sendAt while everything runs', async () => {
    const svc = await startService(redis.url);
    try {
      const reader = await openReader(svc.wsUrl, { topics: 'europe' });
      const sendAt = Date.now() + 2500;
      const posted = await postAlert(svc.url, { headline: 'Embargo, no restart', topics: ['europe'], sendAt: new Date(sendAt).toISOString() });
      const frame = await reader.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id, 15_000);
      expect(Date.now()).toBeGreaterThanOrEqual(sendAt);
      expect(Date.parse(frame.alert.sentAt)).toBeGreaterThanOrEqual(sendAt);
      reader.close();
    } finally {
      await svc.stop();
    }
  });
});
