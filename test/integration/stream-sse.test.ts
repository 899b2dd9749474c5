/**
 * Server-Sent Events at /v1/events: the same events as the WebSocket with
 * `id:` and `event:` fields, resume with Last-Event-ID (or since), comment
 * heartbeats, and refusals as HTTP statuses before the stream starts.
 */
import http from 'node:http';
import Redis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { compareEventIds } from '../../src/feed/event-id';
import { Keys } from '../../src/redis/keys';
import { eventually, openReader, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY } from '../helpers/settings';
import { STREAM_ENV } from './stream-helpers';

interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  raw: () => string;
  events: SseEvent[];
  body: string;
  ended: Promise<void>;
  waitFor(pred: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

/** A plain HTTP client that parses the event stream as EventSource would. */
function openSse(baseUrl: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<SseClient> {
  const qs = new URLSearchParams(query).toString();
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}/v1/events${qs ? '?' + qs : ''}`, { headers }, (res) => {
      let raw = '';
      let buf = '';
      const events: SseEvent[] = [];
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buf += chunk;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const e: SseEvent = { id: undefined, event: undefined, data: '' };
          let any = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const i = line.indexOf(':');
            const field = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            any = true;
            if (field === 'id') e.id = value;
            else if (field === 'event') e.event = value;
            else if (field === 'data') e.data = e.data ? `${e.data}\n${value}` : value;
          }
          if (any) events.push(e);
        }
        for (const w of [...waiters]) w();
      });
      const ended = new Promise<void>((r) => res.once('close', () => r()));
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        raw: () => raw,
        events,
        get body() {
          return raw;
        },
        ended,
        waitFor: (pred, timeoutMs = 10_000) =>
          new Promise((res2, rej) => {
            const check = () => {
              const e = events.find(pred);
              if (e) {
                waiters.delete(check);
                clearTimeout(t);
                res2(e);
              }
            };
            const t = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`timed out; stream so far: ${raw.slice(0, 2000)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        close: () => req.destroy(),
      };
      if (client.status !== 200) {
        res.on('end', () => resolve(client));
        res.resume();
        return;
      }
      resolve(client);
    });
    req.on('error', reject);
  });
}

const alertEvents = (c: SseClient) => c.events.filter((e) => e.event === 'alert' || e.event === 'update' || e.event === 'retract');

describe('Server-Sent Events at /v1/events', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let subscribeKey: string;
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_HEARTBEAT_MS: '1000' });
    const admin = new Redis(redis.url);
    subscribeKey = (await new ApiKeyStore(admin, new Keys(svc.prefix)).create('sse-reader', ['subscribe'])).secret;
    admin.disconnect();
  });
  afterAll(async () => {
    await svc?.stop();
    await redis?.cleanup();
  });

  it('starts with a welcome and sends each alert with id, event and data equal to the WebSocket frame', async () => {
    const sse = await openSse(svc.url, { topics: 'europe' });
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    const welcome = await sse.waitFor((e) => e.event === 'welcome');
    expect(welcome.id).toBeUndefined();
    expect(JSON.parse(welcome.data)).toMatchObject({ type: 'welcome', topics: ['europe'], resumed: false, heartbeatMs: 1000 });

    const ws = await openReader(svc.wsUrl, { topics: 'europe' });
    const wsText: string[] = [];
    ws.ws.on('message', (d) => wsText.push(String(d)));
    const posted = await postAlert(svc.url, { headline: 'SSE and WS agree', topics: ['europe/ukraine'] });
    const e = await sse.waitFor((x) => x.event === 'alert');
    const frame = JSON.parse(e.data);
    expect(frame).toMatchObject({ type: 'alert', eventId: e.id, alert: { id: posted.body.id, headline: 'SSE and WS agree' } });
    await ws.waitFor((f) => f.type === 'alert');
    expect(e.data).toBe(wsText.find((t) => t.includes(posted.body.id)));
    ws.close();
    sse.close();
  });

  it('resumes from the Last-Event-ID header, exactly once and in order', async () => {
    const first = await openSse(svc.url, { topics: 'resume-sse' });
    const a = await postAlert(svc.url, { headline: 'one', topics: ['resume-sse'] });
    const seen = await first.waitFor((e) => e.event === 'alert' && JSON.parse(e.data).alert.id === a.body.id);
    first.close();
    const missed = [] as string[];
    for (const h of ['two', 'three']) missed.push((await postAlert(svc.url, { headline: h, topics: ['resume-sse'] })).body.id);
    await eventually(async () => (await fetch(`${svc.url}/v1/alerts/${missed[1]}`).then((r) => r.json() as Promise<any>)).status === 'sent');

    // The URL still carries an older since, as an EventSource reconnecting to its original URL would.
    const again = await openSse(svc.url, { topics: 'resume-sse', since: '0-0' }, { 'Last-Event-ID': seen.id! });
    const welcome = await again.waitFor((e) => e.event === 'welcome');
    expect(JSON.parse(welcome.data).resumed).toBe(true);
    const live = await postAlert(svc.url, { headline: 'four', topics: ['resume-sse'] });
    await again.waitFor((e) => e.event === 'alert' && JSON.parse(e.data).alert.id === live.body.id);
    expect(alertEvents(again).map((e) => JSON.parse(e.data).alert.id)).toEqual([...missed, live.body.id]);
    const ids = alertEvents(again).map((e) => e.id!);
    expect(ids.every((id, i) => i === 0 || compareEventIds(id, ids[i - 1]!) > 0)).toBe(true);
    expect(compareEventIds(ids[0]!, seen.id!)).toBeGreaterThan(0);
    again.close();
  });

  it('resumes from ?since= when there is no Last-Event-ID', async () => {
    const a = await postAlert(svc.url, { headline: 'since one', topics: ['since-sse'] });
    const b = await postAlert(svc.url, { headline: 'since two', topics: ['since-sse'] });
    await eventually(async () => (await fetch(`${svc.url}/v1/alerts/${b.body.id}`).then((r) => r.json() as Promise<any>)).status === 'sent');
    const aEventId = (await fetch(`${svc.url}/v1/alerts/${a.body.id}`).then((r) => r.json() as Promise<any>)).eventId as string;
    const sse = await openSse(svc.url, { topics: 'since-sse', since: aEventId });
    await sse.waitFor((e) => e.event === 'alert');
    expect(alertEvents(sse).map((e) => JSON.parse(e.data).alert.id)).toEqual([b.body.id]);
    sse.close();
  });

  // The resync event's id is where the stream now carries on from (the
  // feed's end), so an EventSource reconnecting later forgets the bad cursor;
  // and every later event reaches the stream.
  it.each([
    ['a malformed Last-Event-ID', { 'Last-Event-ID': 'not-an-id' }, {}, 'invalid_since'],
    ['a Last-Event-ID beyond 64 bits', { 'Last-Event-ID': '1-99999999999999999999' }, {}, 'invalid_since'],
    ['a Last-Event-ID from the future', { 'Last-Event-ID': `${Date.now() + 86_400_000}-0` }, {}, 'unknown_since'],
    ['a since from the future', {}, { since: `${Date.now() + 86_400_000}-5` }, 'unknown_since'],
  ] as const)('after a resync for %s, moves Last-Event-ID to the feed end and delivers every later event', async (_what, headers, query, reason) => {
    const topic = `sse-resync-${reason.replace('_', '-')}`;
    // Once a reader has it, the gateway's tail is at least this far.
    const watcher = await openReader(svc.wsUrl, { topics: topic });
    const before = await postAlert(svc.url, { headline: 'before the reader', topics: [topic] });
    const end = (await watcher.waitFor((f) => f.type === 'alert' && f.alert.id === before.body.id)).eventId;
    watcher.close();
    const sse = await openSse(svc.url, { topics: topic, ...query }, headers);
    const e = await sse.waitFor((x) => x.event === 'resync');
    expect(JSON.parse(e.data)).toEqual({ type: 'resync', reason });
    expect(e.id).toBe(end);
    const live: string[] = [];
    for (let i = 0; i < 2; i++) live.push((await postAlert(svc.url, { headline: `live ${i}`, topics: [topic] })).body.id);
    await sse.waitFor((x) => x.event === 'alert' && JSON.parse(x.data).alert.id === live[1], 20_000);
    expect(alertEvents(sse).map((x) => JSON.parse(x.data).alert.id)).toEqual(live);
    sse.close();
  });

  it('sends ": hb" comment lines every heartbeat interval', async () => {
    const sse = await openSse(svc.url, { topics: 'quiet' });
    await eventually(() => (sse.raw().match(/^: hb$/gm) ?? []).length >= 2, 15_000);
    sse.close();
  });

  it('frees the reader when the client goes away', async () => {
    const gw = svc.service.gateway!;
    const sse = await openSse(svc.url, { topics: 'leaving' });
    await sse.waitFor((e) => e.event === 'welcome');
    expect(gw.hub.membersOf('leaving')).toBe(1);
    sse.close();
    await eventually(() => gw.hub.membersOf('leaving') === 0);
  });

  describe('refusals before the stream starts', () => {
    it('answers a private topic with no credential with 401', async () => {
      const r = await openSse(svc.url, { topics: 'private/club' });
      expect(r.status).toBe(401);
      expect(r.headers['content-type']).toMatch(/problem\+json/);
      // The same document the API answers a 401 with.
      expect(JSON.parse(r.body)).toMatchObject({ status: 401, type: 'https://flashwire.dev/problems/unauthorized', title: 'Unauthorized' });
    });

    it('answers a bad credential with 401', async () => {
      const r = await openSse(svc.url, { topics: 'private/club', token: 'not-a-real-credential' });
      expect(r.status).toBe(401);
      const h = await openSse(svc.url, { topics: 'private/club' }, { Authorization: 'Bearer not-a-real-credential' });
      expect(h.status).toBe(401);
    });

    it('answers a credential that does not grant the topic with 403', async () => {
      const r = await openSse(svc.url, { topics: 'private/club' }, { Authorization: `Bearer ${PUBLISH_KEY}` });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ status: 403, detail: expect.stringContaining('private/club') });
    });

    it('opens the stream for a credential that grants it, and delivers private alerts', async () => {
      const r = await openSse(svc.url, { topics: 'private/club', token: subscribeKey });
      expect(r.status).toBe(200);
      await r.waitFor((e) => e.event === 'welcome');
      const posted = await postAlert(svc.url, { headline: 'members only', topics: ['private/club'] });
      await r.waitFor((e) => e.event === 'alert' && JSON.parse(e.data).alert.id === posted.body.id);
      r.close();
    });

    it('answers an invalid topic with 400 and other methods with 405', async () => {
      const r = await openSse(svc.url, { topics: 'Not A Topic' });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ type: 'https://flashwire.dev/problems/bad-request', errors: [{ path: 'topics', message: expect.any(String) }] });
      const post = await fetch(`${svc.url}/v1/events`, { method: 'POST' });
      expect(post.status).toBe(405);
    });
  });
});
