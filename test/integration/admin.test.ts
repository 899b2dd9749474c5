/**
 * /admin/queues: the bull-board dashboard opens only for an API key with the
 * admin scope (as a bearer token or the Basic auth password), and it is
 * read-only.
 */
import IORedis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY } from '../helpers/settings';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the queue dashboard at /admin/queues', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let conn: IORedis;
  let adminKey: string;
  let subscribeKey: string;

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url);
    conn = new IORedis(redis.url);
    const keys = new ApiKeyStore(conn, svc.service.keys);
    adminKey = (await keys.create('ops', ['admin'])).secret;
    subscribeKey = (await keys.create('reader-backend', ['subscribe', 'publish'])).secret;
  });
  afterAll(async () => {
    conn.disconnect();
    await svc.stop();
    await redis.cleanup();
  });

  const get = (path: string, authorization?: string) => fetch(`${svc.url}${path}`, { headers: authorization ? { Authorization: authorization } : {} });

  it('answers 401 with a Basic challenge (so a browser asks for the key) when no key is sent', async () => {
    const res = await get('/admin/queues');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="flashwire admin"/);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { status: number }).status).toBe(401);
    // The dashboard's own API and assets are behind the same check.
    expect((await get('/admin/queues/api/queues')).status).toBe(401);
  });

  it('answers 401 for an unknown key, bearer or Basic', async () => {
    expect((await get('/admin/queues', 'Bearer fw_not-a-key-at-all-0123456789')).status).toBe(401);
    expect((await get('/admin/queues', basic('ops', 'fw_not-a-key-at-all-0123456789'))).status).toBe(401);
  });

  it('answers 403 for a key without the admin scope', async () => {
    for (const auth of [`Bearer ${PUBLISH_KEY}`, `Bearer ${subscribeKey}`, basic('x', subscribeKey)]) {
      const res = await get('/admin/queues', auth);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/lacks the "admin" scope/);
    }
  });

  it('opens with an admin key as a bearer token or as the Basic auth password, and shows the send queue', async () => {
    const page = await get('/admin/queues', `Bearer ${adminKey}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<div id="root"/);

    const viaBasic = await get('/admin/queues', basic('anyone', adminKey));
    expect(viaBasic.status).toBe(200);

    // An embargoed alert sits in the queue as a delayed job, named by its alert id.
    const embargoed = await postAlert(svc.url, { headline: 'embargoed until later', topics: ['world'], sendAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(embargoed.status).toBe(202);
    const api = await get('/admin/queues/api/queues?activeQueue=alerts&status=delayed&page=1', basic('anyone', adminKey));
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string; readOnlyMode: boolean; counts: Record<string, number>; jobs: { id: string }[] }[] };
    const q = body.queues.find((x) => x.name === 'alerts');
    expect(q).toBeDefined();
    expect(q!.readOnlyMode).toBe(true);
    expect(q!.counts.delayed).toBe(1);
    expect(q!.jobs.map((j) => j.id)).toContain(embargoed.body.id);
  });

  it('is read-only: promoting an embargoed alert early is refused and the job stays delayed', async () => {
    const embargoed = await postAlert(svc.url, { headline: 'must not go early', topics: ['world'], sendAt: new Date(Date.now() + 3_600_000).toISOString() });
    const res = await fetch(`${svc.url}/admin/queues/api/queues/alerts/${embargoed.body.id}/promote`, { method: 'PUT', headers: { Authorization: `Bearer ${adminKey}` } });
    expect(res.status).toBe(405);
    const status = (await fetch(`${svc.url}/v1/alerts/${embargoed.body.id}`).then((r) => r.json())) as { status: string };
    expect(status.status).toBe('scheduled');
  });
});
