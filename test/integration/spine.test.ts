/**
 * End to end through the real parts: express, BullMQ, the Redis Stream feed
 * and the ws gateway, with real sockets.
 */
import { eventually, FIXTURE, getJson, openReader, postAlert } from '../helpers/clients';
import { framesBefore, passMarker } from '../helpers/marker';
import { startRedis } from '../helpers/redis';
import { childEnv, spawnService, startService, type ChildService } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

describe('the spine', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  describe('one process with every role', () => {
    let svc: Awaited<ReturnType<typeof startService>>;
    beforeAll(async () => {
      svc = await startService(redis.url);
    });
    afterAll(async () => {
      await svc.stop();
    });

    it('delivers the posted fixture to europe and * readers, not to sports', async () => {
      const europe = await openReader(svc.wsUrl, { topics: 'europe' });
      const sports = await openReader(svc.wsUrl, { topics: 'sports' });
      const all = await openReader(svc.wsUrl, { topics: '*' });
      const bare = await openReader(svc.wsUrl);
      expect(europe.frames[0]).toMatchObject({ type: 'welcome', topics: ['europe'], resumed: false, heartbeatMs: expect.any(Number), connectionId: expect.any(String) });
      expect(bare.frames[0].topics).toEqual(['*']);

      const posted = await postAlert(svc.url, FIXTURE);
      expect(posted.status).toBe(202);
      expect(posted.headers.get('location')).toBe(`/v1/alerts/${posted.body.id}`);

      for (const r of [europe, all, bare]) {
        const f = await r.waitFor((x) => x.type === 'alert');
        expect(f.alert).toMatchObject({ id: posted.body.id, headline: FIXTURE.headline, topics: FIXTURE.topics, priority: 'bulletin', summary: FIXTURE.summary, url: FIXTURE.url });
        expect(f.eventId).toMatch(/^\d+-\d+$/);
      }
      // The status moves to sent, with the same eventId the readers saw.
      const got = await getJson(`${svc.url}/v1/alerts/${posted.body.id}`);
      expect(got.body).toMatchObject({ status: 'sent', eventId: europe.ofType('alert')[0].eventId, sentAt: expect.any(String) });

      const marker = await passMarker(svc.url, [sports], ['sports']);
      expect(framesBefore(sports, marker).filter((f) => f.type === 'alert')).toHaveLength(0);
      for (const r of [europe, sports, all, bare]) r.close();
    });

    it('delivers an alert once to a reader whose subscriptions overlap', async () => {
      const r = await openReader(svc.wsUrl, { topics: 'europe,europe/ukraine,world,*' });
      const posted = await postAlert(svc.url, FIXTURE);
      await r.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id);
      const marker = await postAlert(svc.url, { headline: 'marker', topics: ['world'] });
      await r.waitFor((f) => f.type === 'alert' && f.alert.id === marker.body.id);
      expect(r.ofType('alert').filter((f) => f.alert.id === posted.body.id)).toHaveLength(1);
      r.close();
    });

    it('reports queued at once and sent after the worker appends', async () => {
      const posted = await postAlert(svc.url, { headline: 'Status check', topics: ['world'] });
      expect(['queued', 'sent']).toContain(posted.body.status);
      expect(posted.body.status).toBe('queued');
      const body = await eventually(async () => {
        const got = (await getJson(`${svc.url}/v1/alerts/${posted.body.id}`)).body;
        return got.status === 'sent' ? got : undefined;
      }, 20_000, 20);
      expect(body).toMatchObject({ status: 'sent', eventId: expect.stringMatching(/^\d+-\d+$/), sentAt: expect.any(String), report: { acceptedAt: posted.body.createdAt } });
    });
  });

  describe('roles as separate processes', () => {
    const children: ChildService[] = [];
    afterAll(async () => {
      await Promise.all(children.map((c) => c.stop()));
    });

    it('runs api, worker and two gateways apart, and both gateways deliver to their readers', async () => {
      const prefix = uniquePrefix();
      const env = (roles: string) => childEnv(redis.url, prefix, { FLASHWIRE_ROLES: roles });
      const [api, worker, gw1, gw2] = await Promise.all([spawnService(env('api')), spawnService(env('worker')), spawnService(env('gateway')), spawnService(env('gateway'))]);
      children.push(api, worker, gw1, gw2);

      // The gateway process serves no API, and the API process no stream.
      expect((await fetch(`${gw1.url}/v1/alerts/x`)).status).toBe(404);
      await expect(openReader(api.wsUrl)).rejects.toThrow();

      const r1 = await openReader(gw1.wsUrl, { topics: 'europe' });
      const r2 = await openReader(gw2.wsUrl, { topics: 'nato' });
      const posted = await postAlert(api.url, FIXTURE);
      expect(posted.status).toBe(202);
      const [f1, f2] = await Promise.all([r1.waitFor((f) => f.type === 'alert'), r2.waitFor((f) => f.type === 'alert')]);
      expect(f1.alert.id).toBe(posted.body.id);
      expect(f2.alert.id).toBe(posted.body.id);
      expect(f1.eventId).toBe(f2.eventId);
      r1.close();
      r2.close();
    });
  });
});
