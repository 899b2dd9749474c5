/**
 * GET /v1/feed (the contract HTTP API): the stream's own frames, oldest first,
 * after a cursor, for the topics asked (`*` when none), with `next`; limit
 * 1-500 (default 100); expired alerts and their events left out.
 */
import { eventually, getJson, openReader, postAlert, sleep } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService, PUBLISH_KEY } from '../helpers/service';

describe('GET /v1/feed', () => {
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

  const feed = (q: string, headers: Record<string, string> = {}) => getJson(`${svc.url}/v1/feed${q}`, headers);

  it('returns exactly the frames the stream sent, oldest first, with next as the last eventId', async () => {
    const reader = await openReader(svc.wsUrl, { topics: 'europe,sports' });
    const ids: string[] = [];
    for (const [i, t] of ['europe', 'sports', 'europe/ukraine', 'world'].entries()) {
      ids.push((await postAlert(svc.url, { headline: `poll ${i}`, topics: [t] })).body.id);
    }
    await reader.waitForCount('alert', 3);
    const fix = await fetch(`${svc.url}/v1/alerts/${ids[0]}`, { method: 'PATCH', headers: { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' }, body: '{"headline":"poll 0 fixed"}' });
    expect(fix.status).toBe(200);
    await reader.waitFor((f) => f.type === 'update');

    const res = await feed('?topics=europe,sports');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const streamed = reader.frames.filter((f) => ['alert', 'update', 'retract'].includes(f.type));
    expect(res.body.events).toEqual(streamed);
    expect(res.body.next).toBe(streamed[streamed.length - 1].eventId);

    // Paging: limit and after walk the same events in the same order.
    const page1 = await feed('?topics=europe,sports&limit=2');
    expect(page1.body.events).toEqual(streamed.slice(0, 2));
    expect(page1.body.next).toBe(streamed[1].eventId);
    const page2 = await feed(`?topics=europe,sports&limit=2&after=${page1.body.next}`);
    expect(page2.body.events).toEqual(streamed.slice(2, 4));
    const end = await feed(`?topics=europe,sports&after=${res.body.next}`);
    expect(end.body).toEqual({ events: [], next: null });
    reader.close();
  });

  it('reads every public topic when no topics are given, and refuses bad parameters with 422', async () => {
    const all = await feed('');
    const star = await feed('?topics=*');
    expect(all.body).toEqual(star.body);
    expect(all.body.events.some((f: any) => f.alert?.topics.includes('world'))).toBe(true);
    for (const q of ['?limit=0', '?limit=501', '?limit=abc', '?limit=1.5', '?after=banana', '?after=12', '?topics=Bad_Topic']) {
      const r = await feed(q);
      expect({ q, status: r.status }).toEqual({ q, status: 422 });
      expect(r.body.errors.length).toBeGreaterThan(0);
    }
    expect((await feed('?limit=500')).status).toBe(200);
    expect((await feed('?limit=1')).body.events).toHaveLength(1);
  });

  it('takes only a canonical MS-SEQ cursor within 64 bits: anything else is a 422 naming after, never a 500', async () => {
    const now = Date.now();
    const bad = [`${now}-99999999999999999999`, '99999999999999999999-0', `${now}-18446744073709551616`, '18446744073709551616-0', `0${now}-0`, `${now}-01`, '00-0', `${now}-0-0`, `-${now}-0`, `${now}`, `${now}-`, ` ${now}-0`, `${now}.0-0`, `+${now}-0`];
    for (const after of bad) {
      const r = await feed(`?after=${encodeURIComponent(after)}`);
      expect({ after, status: r.status, paths: r.body.errors?.map((e: any) => e.path) }).toEqual({ after, status: 422, paths: ['after'] });
    }
    // The largest ids are well-formed: nothing comes after them.
    for (const after of ['18446744073709551615-18446744073709551615', `18446744073709551615-0`, `${now + 86_400_000}-18446744073709551615`]) {
      expect({ after, ...(await feed(`?after=${after}`)) }).toMatchObject({ after, status: 200, body: { events: [], next: null } });
    }
  });

  it('answers last=N with the newest N events for the topics, oldest first, and next at the end of the feed', async () => {
    const posted: string[] = [];
    for (let i = 0; i < 5; i++) posted.push((await postAlert(svc.url, { headline: `latest ${i}`, topics: [i % 2 ? 'latest/odd' : 'latest'] })).body.id);
    // Something newer on another topic: not returned, but next is past it.
    const other = await postAlert(svc.url, { headline: 'elsewhere', topics: ['elsewhere'] });
    await eventually(async () => (await feed('?topics=elsewhere')).body.events.some((f: any) => f.alert.id === other.body.id));
    const all = await feed('?topics=latest');
    const end = (await feed('?topics=*&limit=500')).body;
    const last3 = await feed('?topics=latest&last=3');
    expect(last3.status).toBe(200);
    expect(last3.body.events).toEqual(all.body.events.slice(-3));
    expect(last3.body.events.map((f: any) => f.alert.id)).toEqual(posted.slice(-3));
    expect(last3.body.next).toBe(end.events[end.events.length - 1].eventId);
    // Going on from next misses nothing and repeats nothing.
    const later = await postAlert(svc.url, { headline: 'latest later', topics: ['latest'] });
    await eventually(async () => (await feed(`?topics=latest&after=${last3.body.next}`)).body.events.length === 1);
    expect((await feed(`?topics=latest&after=${last3.body.next}`)).body.events.map((f: any) => f.alert.id)).toEqual([later.body.id]);
    expect((await feed('?topics=latest&last=500')).body.events).toEqual((await feed('?topics=latest')).body.events);
    expect((await feed('?topics=nothing-here&last=5')).body).toEqual({ events: [], next: expect.any(String) });
    for (const q of ['?last=0', '?last=501', '?last=x', `?last=3&after=${last3.body.next}`, '?last=3&limit=3']) {
      const r = await feed(q);
      expect({ q, status: r.status, paths: r.body.errors?.map((e: any) => e.path) }).toEqual({ q, status: 422, paths: ['last'] });
    }
  });

  it('defaults to 100 events a page', async () => {
    for (let i = 0; i < 105; i++) await postAlert(svc.url, { headline: `bulk ${i}`, topics: ['bulk'] });
    await eventually(async () => (await feed('?topics=bulk&limit=500')).body.events.length === 105, 20_000);
    const page = await feed('?topics=bulk');
    expect(page.body.events).toHaveLength(100);
    const rest = await feed(`?topics=bulk&after=${page.body.next}`);
    expect(rest.body.events).toHaveLength(5);
  });

  it('leaves out expired alerts and their events', async () => {
    // Far enough that the alert and its retraction surely reach the feed first.
    const expiresAt = new Date(Date.now() + 30_000).toISOString();
    const short = await postAlert(svc.url, { headline: 'short-lived', topics: ['ephemeral'], expiresAt });
    const lasting = await postAlert(svc.url, { headline: 'lasting', topics: ['ephemeral'] });
    await eventually(async () => (await feed('?topics=ephemeral')).body.events.length === 2);
    const retract = await fetch(`${svc.url}/v1/alerts/${short.body.id}/retract`, { method: 'POST', headers: { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' }, body: '{"reason":"gone"}' });
    expect(retract.status).toBe(200);
    expect((await feed('?topics=ephemeral')).body.events.map((f: any) => f.type)).toEqual(['alert', 'alert', 'retract']);
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 100);
    const after = await feed('?topics=ephemeral');
    expect(after.body.events.map((f: any) => f.alert?.id ?? f.id)).toEqual([lasting.body.id]);
  }, 90_000);
});
