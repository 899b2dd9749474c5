/**
 * Liveness and readiness: /healthz answers while the process runs,
 * /readyz only while Redis answers — and the API never acknowledges an
 * alert it could not make durable.
 */
import { eventually, getJson, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';

describe('health and readiness', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url);
  });
  afterAll(async () => {
    await svc.stop();
    await redis.cleanup();
  });

  it('answers /healthz and /readyz with 200 while Redis is up', async () => {
    expect(await getJson(`${svc.url}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${svc.url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('is alive but not ready while Redis is down, refuses alerts with 503, and recovers by itself', async () => {
    await redis.stop();
    try {
      const ready = await eventually(async () => {
        const r = await getJson(`${svc.url}/readyz`);
        return r.status === 503 ? r : undefined;
      });
      expect(ready.headers.get('content-type')).toMatch(/application\/problem\+json/);
      // One type per status wherever the 503 comes from: /readyz and the API agree.
      expect(ready.body).toMatchObject({ status: 503, title: 'Service Unavailable', type: 'https://flashwire.dev/problems/unavailable' });
      expect((await getJson(`${svc.url}/healthz`)).status).toBe(200);

      const refused = await postAlert(svc.url, { headline: 'Not while Redis is down', topics: ['world'] });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(refused.body).toMatchObject({ status: 503, title: 'Service Unavailable', type: 'https://flashwire.dev/problems/unavailable' });
    } finally {
      await redis.start();
    }
    await eventually(async () => (await getJson(`${svc.url}/readyz`)).status === 200, 15_000);
    const accepted = await eventually(async () => {
      const r = await postAlert(svc.url, { headline: 'Back', topics: ['world'] });
      return r.status === 202 ? r : undefined;
    }, 15_000);
    await eventually(async () => (await getJson(`${svc.url}/v1/alerts/${accepted.body.id}`)).body.status === 'sent', 15_000);
  });
});
