/**
 * Heartbeats and the limits a gateway process enforces: a peer that stops
 * answering pings is dropped and freed, connections are capped (1013), and
 * browsers from unlisted Origins are refused at the handshake.
 */
import WebSocket from 'ws';
import { eventually, openReader, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { STREAM_ENV } from './stream-helpers';

type Svc = Awaited<ReturnType<typeof startService>>;

/** The HTTP status of a refused handshake, or 101 when it was accepted. */
function handshakeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', (err) => (/Unexpected server response/.test(String(err)) ? undefined : reject(err)));
  });
}

describe('heartbeats and limits', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.cleanup();
  });

  describe('heartbeats', () => {
    let svc: Svc;
    beforeAll(async () => {
      svc = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_HEARTBEAT_MS: '1000' });
    });
    afterAll(async () => svc?.stop());

    it('pings every heartbeatMs and keeps a peer that answers', async () => {
      const r = await openReader(svc.wsUrl, { topics: 'alive' });
      expect(r.frames[0].heartbeatMs).toBe(1000);
      let pings = 0;
      r.ws.on('ping', () => pings++);
      await eventually(() => pings >= 3, 15_000);
      expect(r.ws.readyState).toBe(WebSocket.OPEN);
      expect(svc.service.gateway!.hub.membersOf('alive')).toBe(1);
      r.close();
    });

    it('terminates a peer that stops answering pings and frees everything it held', async () => {
      const gw = svc.service.gateway!;
      const held = (r: TestReader) => [...gw.readers].some((x) => x.id === r.frames[0].connectionId);
      const dead = await openReader(svc.wsUrl, { topics: 'silent-peer' }, { autoPong: false });
      const live = await openReader(svc.wsUrl, { topics: 'silent-peer' });
      expect(gw.hub.membersOf('silent-peer')).toBe(2);
      expect(held(dead)).toBe(true);
      const closed = await dead.closed;
      // Terminated, not closed politely: the client sees an abnormal close.
      expect(closed.code).toBe(1006);
      await eventually(() => svc.service.gateway!.hub.membersOf('silent-peer') === 1);
      expect(held(dead)).toBe(false);
      expect(held(live)).toBe(true);
      expect(live.ws.readyState).toBe(WebSocket.OPEN);
      live.close();
    });
  });

  describe('max connections', () => {
    let svc: Svc;
    beforeAll(async () => {
      svc = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_MAX_CONNECTIONS: '2' });
    });
    afterAll(async () => svc?.stop());

    it('closes a connection beyond FLASHWIRE_MAX_CONNECTIONS with 1013 and admits again once one leaves', async () => {
      const a = await openReader(svc.wsUrl);
      const b = await openReader(svc.wsUrl);
      await expect(openReader(svc.wsUrl)).rejects.toThrow(/closed before welcome: 1013/);
      // SSE streams count against the same cap.
      const sse = await fetch(`${svc.url}/v1/events`);
      expect(sse.status).toBe(503);
      await sse.body?.cancel();
      a.close();
      await a.closed;
      await eventually(() => svc.service.gateway!.connectionCount === 1);
      const c: TestReader = await openReader(svc.wsUrl);
      expect(c.frames[0].type).toBe('welcome');
      b.close();
      c.close();
    });
  });

  describe('origins', () => {
    let open: Svc;
    let listed: Svc;
    beforeAll(async () => {
      open = await startService(redis.url, STREAM_ENV);
      listed = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_ALLOWED_ORIGINS: 'https://news.example,https://m.news.example' });
    });
    afterAll(async () => {
      await open?.stop();
      await listed?.stop();
    });

    it('accepts every Origin by default', async () => {
      expect(await handshakeStatus(`${open.wsUrl}/v1/stream`, { Origin: 'https://anywhere.example' })).toBe(101);
    });

    it('refuses an unlisted Origin with 403 and accepts listed ones and non-browser clients', async () => {
      expect(await handshakeStatus(`${listed.wsUrl}/v1/stream`, { Origin: 'https://evil.example' })).toBe(403);
      expect(await handshakeStatus(`${listed.wsUrl}/v1/stream`, { Origin: 'https://news.example' })).toBe(101);
      expect(await handshakeStatus(`${listed.wsUrl}/v1/stream`, {})).toBe(101);
      const sse = await fetch(`${listed.url}/v1/events`, { headers: { Origin: 'https://evil.example' } });
      expect(sse.status).toBe(403);
      await sse.body?.cancel();
    });
  });
});
