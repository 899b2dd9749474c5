/**
 * Corrections and retractions (the contract HTTP API, The feed): a sent alert's
 * correction is an `update` event and its retraction a `retract` event, each
 * in the feed once, after the alert; unsent alerts are simply changed or
 * never sent; the wrong state is a 404 or 409 problem.
 */
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { QUEUE_NAME } from '../../src/queue/alert-queue';
import { Keys } from '../../src/redis/keys';
import { runScript } from '../../src/redis/scripts';
import { appendSend } from '../../workers/fanout.worker';
import { eventually, FIXTURE, getJson, openReader, postAlert } from '../helpers/clients';
import { framesBefore, passMarker } from '../helpers/marker';
import { startRedis } from '../helpers/redis';
import { startService, PUBLISH_KEY } from '../helpers/service';
import { testSettings } from '../helpers/settings';

/** A stream entry's fields (names at even positions) as an object. */
function fieldsOf(f: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < f.length; i += 2) o[f[i] as string] = f[i + 1] as string;
  return o;
}

const AUTH = { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' };

async function send(url: string, method: string, path: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url + path, { method, headers: AUTH, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('corrections and retractions', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let client: IORedis;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url);
    client = new IORedis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await svc.stop();
    await redis.cleanup();
  });

  async function sentAlert(body: Record<string, unknown> = FIXTURE): Promise<any> {
    const posted = await postAlert(svc.url, body);
    expect(posted.status).toBe(202);
    return eventually(async () => {
      const got = await getJson(`${svc.url}/v1/alerts/${posted.body.id}`);
      return got.body.status === 'sent' ? got.body : undefined;
    });
  }

  async function feedTypesFor(alertId: string): Promise<string[]> {
    const entries = (await client.xrange(new Keys(svc.prefix).feed, '-', '+')) as [string, string[]][];
    return entries.map(([, f]) => fieldsOf(f)).filter((f) => f.alert === alertId).map((f) => f.type as string);
  }

  it('sends a correction of a sent alert as an update event carrying the whole corrected alert', async () => {
    const reader = await openReader(svc.wsUrl, { topics: 'europe' });
    const alert = await sentAlert();
    await reader.waitFor((f) => f.type === 'alert' && f.alert.id === alert.id);
    const patched = await send(svc.url, 'PATCH', `/v1/alerts/${alert.id}`, { headline: 'Stoltenberg: NATO will not deploy troops (corrected)' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: alert.id, status: 'sent', headline: 'Stoltenberg: NATO will not deploy troops (corrected)', updatedAt: expect.any(String) });
    const update = await reader.waitFor((f) => f.type === 'update' && f.alert.id === alert.id);
    expect(update.alert).toMatchObject({
      id: alert.id,
      headline: 'Stoltenberg: NATO will not deploy troops (corrected)',
      summary: FIXTURE.summary,
      url: FIXTURE.url,
      topics: FIXTURE.topics,
      priority: FIXTURE.priority,
      createdAt: alert.createdAt,
      sentAt: alert.sentAt,
      updatedAt: patched.body.updatedAt,
    });
    expect(BigInt(update.eventId.split('-')[0]) >= BigInt(alert.eventId.split('-')[0])).toBe(true);
    expect(update.eventId).not.toBe(alert.eventId);
    // The eventId of the alert stays its send's.
    expect(patched.body.eventId).toBe(alert.eventId);
    // A PATCH that changes nothing (a retried request) tells readers nothing.
    const again = await send(svc.url, 'PATCH', `/v1/alerts/${alert.id}`, { headline: 'Stoltenberg: NATO will not deploy troops (corrected)' });
    expect(again.status).toBe(200);
    const marker = await passMarker(svc.url, [reader], ['europe']);
    expect(framesBefore(reader, marker).filter((f) => f.type === 'update' && f.alert.id === alert.id)).toHaveLength(1);
    expect(await feedTypesFor(alert.id)).toEqual(['alert', 'update']);
    reader.close();
  });

  it('retracts a sent alert with a retract event; a resuming reader gets alert, update, retract in order', async () => {
    const reader = await openReader(svc.wsUrl, { topics: 'nato' });
    const alert = await sentAlert();
    const before = (await getJson(`${svc.url}/v1/feed?topics=nato&limit=500`)).body;
    const cursor = before.events.filter((f: any) => f.eventId !== alert.eventId && f.type === 'alert' && f.alert.id !== alert.id).pop()?.eventId ?? '0-0';
    expect((await send(svc.url, 'PATCH', `/v1/alerts/${alert.id}`, { summary: 'Corrected summary.' })).status).toBe(200);
    const retracted = await send(svc.url, 'POST', `/v1/alerts/${alert.id}/retract`, { reason: 'Misattributed quote' });
    expect(retracted.status).toBe(200);
    expect(retracted.body).toMatchObject({ id: alert.id, status: 'retracted', retraction: { reason: 'Misattributed quote', by: 'env' } });
    const frame = await reader.waitFor((f) => f.type === 'retract' && f.id === alert.id);
    expect(Object.keys(frame).sort()).toEqual(['eventId', 'id', 'reason', 'type']);
    expect(frame.reason).toBe('Misattributed quote');
    expect(await feedTypesFor(alert.id)).toEqual(['alert', 'update', 'retract']);

    // A reader resuming from before the alert sees the three events in order.
    const resumed = await openReader(svc.wsUrl, { topics: 'nato', since: cursor });
    await resumed.waitFor((f) => f.type === 'retract' && f.id === alert.id);
    const mine = resumed.frames.filter((f) => (f.alert?.id ?? f.id) === alert.id && ['alert', 'update', 'retract'].includes(f.type));
    expect(mine.map((f) => f.type)).toEqual(['alert', 'update', 'retract']);

    // Retracted: a second retraction and a correction are 409 problems.
    const twice = await send(svc.url, 'POST', `/v1/alerts/${alert.id}/retract`, { reason: 'again' });
    expect(twice.status).toBe(409);
    expect(twice.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(twice.body).toMatchObject({ status: 409, type: expect.stringContaining('conflict'), detail: expect.stringContaining('retracted') });
    expect((await send(svc.url, 'PATCH', `/v1/alerts/${alert.id}`, { headline: 'x' })).status).toBe(409);
    expect(await feedTypesFor(alert.id)).toEqual(['alert', 'update', 'retract']);
    reader.close();
    resumed.close();
  });

  it('answers 404 for an alert that does not exist, and 422 for a bad reason or patch', async () => {
    const missing = await send(svc.url, 'POST', '/v1/alerts/01HZZZZZZZZZZZZZZZZZZZZZZZ/retract', { reason: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ status: 404, type: expect.stringContaining('not-found') });
    expect((await send(svc.url, 'PATCH', '/v1/alerts/01HZZZZZZZZZZZZZZZZZZZZZZZ', { headline: 'x' })).status).toBe(404);
    expect((await send(svc.url, 'POST', '/v1/alerts/nope/retract', { reason: 'x' })).status).toBe(404);
    const alert = await sentAlert({ headline: 'for validation', topics: ['world'] });
    const noReason = await send(svc.url, 'POST', `/v1/alerts/${alert.id}/retract`, {});
    expect(noReason.status).toBe(422);
    expect(noReason.body.errors).toEqual([{ path: 'reason', message: 'is required' }]);
    expect((await send(svc.url, 'POST', `/v1/alerts/${alert.id}/retract`, { reason: 'x'.repeat(501) })).status).toBe(422);
    const badPatch = await send(svc.url, 'PATCH', `/v1/alerts/${alert.id}`, { topics: ['sports'] });
    expect(badPatch.status).toBe(422);
    expect(badPatch.body.errors).toContainEqual({ path: 'topics', message: 'cannot be changed; changeable: headline, summary, url' });
    expect((await send(svc.url, 'PATCH', `/v1/alerts/${alert.id}`, { url: 'ftp://x' })).status).toBe(422);
    expect((await send(svc.url, 'PATCH', `/v1/alerts/${alert.id}`, {})).status).toBe(422);
    const noKey = await fetch(`${svc.url}/v1/alerts/${alert.id}/retract`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"reason":"x"}' });
    expect(noKey.status).toBe(401);
  });

  it('never sends a scheduled alert that was retracted, and sends a corrected scheduled alert as corrected', async () => {
    const reader = await openReader(svc.wsUrl, { topics: 'world' });
    // Far enough that the changes surely land first; the test then lifts the
    // embargo itself, as the delayed job would when its time came.
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const doomed = await postAlert(svc.url, { headline: 'Embargoed, then pulled', topics: ['world'], sendAt });
    const fixed = await postAlert(svc.url, { headline: 'Embargoed with a typo', topics: ['world'], sendAt });
    expect(doomed.body.status).toBe('scheduled');
    const r = await send(svc.url, 'POST', `/v1/alerts/${doomed.body.id}/retract`, { reason: 'story pulled' });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('retracted');
    const p = await send(svc.url, 'PATCH', `/v1/alerts/${fixed.body.id}`, { headline: 'Embargoed, typo fixed' });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ status: 'scheduled', headline: 'Embargoed, typo fixed' });
    expect(p.body.updatedAt).toBeUndefined();
    const conn = client.duplicate();
    const queue = new Queue(QUEUE_NAME, { connection: conn, prefix: new Keys(svc.prefix).bullPrefix });
    try {
      for (const id of [doomed.body.id, fixed.body.id]) await (await queue.getJob(id))?.promote();
      // Both jobs have run: nothing more can enter the feed for either.
      await eventually(async () => (await Promise.all([doomed.body.id, fixed.body.id].map(async (id) => (await queue.getJob(id))?.finishedOn))).every(Boolean), 20_000);
    } finally {
      await queue.close();
      conn.disconnect();
    }
    const got = await reader.waitFor((f) => f.type === 'alert' && f.alert.id === fixed.body.id, 15_000);
    expect(got.alert.headline).toBe('Embargoed, typo fixed');
    const marker = await passMarker(svc.url, [reader], ['world']);
    expect(framesBefore(reader, marker).filter((f) => f.alert?.id === doomed.body.id || f.id === doomed.body.id)).toHaveLength(0);
    expect(await feedTypesFor(doomed.body.id)).toEqual([]);
    expect(await feedTypesFor(fixed.body.id)).toEqual(['alert']);
    expect((await getJson(`${svc.url}/v1/alerts/${doomed.body.id}`)).body.status).toBe('retracted');
    reader.close();
  });

  it('appends each change once when corrections and retractions race each other', async () => {
    const alert = await sentAlert({ headline: 'race', topics: ['world'] });
    const results = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => send(svc.url, 'PATCH', `/v1/alerts/${alert.id}`, { headline: `race ${i}` })),
      ...Array.from({ length: 5 }, () => send(svc.url, 'POST', `/v1/alerts/${alert.id}/retract`, { reason: 'race' })),
    ]);
    const retracts = results.slice(5);
    expect(retracts.filter((r) => r.status === 200)).toHaveLength(1);
    expect(retracts.filter((r) => r.status === 409)).toHaveLength(4);
    const types = await feedTypesFor(alert.id);
    expect(types.filter((t) => t === 'retract')).toHaveLength(1);
    // Nothing follows the retraction.
    expect(types[types.length - 1]).toBe('retract');
    const updates = results.slice(0, 5).filter((r) => r.status === 200).length;
    expect(types.filter((t) => t === 'update')).toHaveLength(updates);
  });

  it('sends the corrected text when a correction lands between the worker reading the alert and appending it', async () => {
    const api = await startService(redis.url, { FLASHWIRE_ROLES: 'api' });
    try {
      const posted = await postAlert(api.url, { headline: 'before', topics: ['world'] });
      const keys = new Keys(api.prefix);
      // Correct it while queued, then append: the worker must see the new text.
      expect((await send(api.url, 'PATCH', `/v1/alerts/${posted.body.id}`, { headline: 'after' })).status).toBe(200);
      // A worker that read the record before the correction (revision 0) is refused.
      const staleFrame = `"alert":${JSON.stringify({ id: posted.body.id, headline: 'before' })}`;
      const stale = await runScript(client, 'appendSend', [keys.alert(posted.body.id), keys.feed], [staleFrame, 'world', '', new Date().toISOString(), 1000, 3_600_000, posted.body.id, '0']);
      expect(stale).toEqual(['stale']);
      expect(await client.xlen(keys.feed)).toBe(0);
      const res = await appendSend({ redis: client, keys, settings: testSettings(redis.url, { FLASHWIRE_PREFIX: api.prefix }) }, posted.body.id);
      expect(res.outcome).toBe('appended');
      const [[, fields]] = (await client.xrange(keys.feed, '-', '+')) as [[string, string[]]];
      expect(JSON.parse(`{${fieldsOf(fields).body}}`).alert.headline).toBe('after');
    } finally {
      await api.stop();
    }
  });
});
