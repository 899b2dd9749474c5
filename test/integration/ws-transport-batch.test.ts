/**
 * The WebSocket transport's dispatch batches, over real sockets: what is
 * delivered in one dispatch reaches each socket in one write, in order, and
 * control frames, closes and the slow-reader figure all see the pending
 * frames.
 */
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { parseEntry, type FeedEvent } from '../../src/feed/feed-event';
import { dispatchLastOfBatch } from '../../src/gateway/dispatch-batch';
import { FLUSH_AT, WsTransport } from '../../src/gateway/ws-transport';

function event(n: number, headline = `H${n}`): FeedEvent {
  return parseEntry(`1700000000000-${n}`, ['type', 'alert', 'alert', `A${n}`, 'topics', 'world', 'exp', '', 'body', JSON.stringify({ alert: { id: `A${n}`, headline } }).slice(1, -1)])!;
}

interface Pair {
  server: WebSocket;
  transport: WsTransport;
  received: string[];
  writes: () => number;
  closed: Promise<number>;
}

describe('WsTransport over real sockets', () => {
  let wss: WebSocketServer;
  let url: string;
  const clients: WebSocket[] = [];

  async function startServer(perMessageDeflate: boolean): Promise<void> {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  }

  async function pair(): Promise<Pair> {
    const accepted = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
    const client = new WebSocket(url);
    clients.push(client);
    const received: string[] = [];
    client.on('message', (d) => received.push(String(d)));
    const closed = new Promise<number>((r) => client.once('close', (code) => r(code)));
    await new Promise<void>((r, j) => {
      client.once('open', () => r());
      client.once('error', j);
    });
    const server = await accepted;
    const socket = (server as unknown as { _socket: Socket })._socket;
    let writes = 0;
    const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
    // Counts writes that reach the socket; corked writes count once, at uncork.
    socket.write = ((...a: unknown[]) => {
      if (socket.writableCorked === 0) writes++;
      return write(...a);
    }) as typeof socket.write;
    const uncork = socket.uncork.bind(socket);
    socket.uncork = () => {
      if (socket.writableCorked === 1) writes++;
      uncork();
    };
    return { server, transport: new WsTransport(server), received, writes: () => writes, closed };
  }

  async function until(pred: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!pred()) throw new Error(`timed out waiting for ${what}`);
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });

  describe('without extensions', () => {
    beforeEach(() => startServer(false));

    it('writes the events of one dispatch to each socket in one write, in order', async () => {
      const pairs = [await pair(), await pair(), await pair()];
      const events = [1, 2, 3, 4, 5].map((n) => event(n));
      for (const e of events) for (const p of pairs) p.transport.sendEvent(e);
      for (const p of pairs) {
        await until(() => p.received.length === 5, 'five frames');
        expect(p.received).toEqual(events.map((e) => e.frame));
        expect(p.writes()).toBe(1);
      }
    });

    it('writes a burst in slices of about FLUSH_AT bytes, so a reader that keeps up never looks slow', async () => {
      const p = await pair();
      const events = Array.from({ length: 100 }, (_, n) => event(n, 'h'.repeat(500)));
      let maxBuffered = 0;
      for (const e of events) {
        p.transport.sendEvent(e);
        maxBuffered = Math.max(maxBuffered, p.transport.bufferedAmount);
      }
      await until(() => p.received.length === 100, 'a hundred frames');
      expect(p.received).toEqual(events.map((e) => e.frame));
      const bytes = events.reduce((n, e) => n + Buffer.byteLength(e.frame) + 4, 0);
      expect(p.writes()).toBeLessThanOrEqual(Math.ceil(bytes / FLUSH_AT) + 1);
      expect(maxBuffered).toBeLessThan(FLUSH_AT + 1024 + bytes / 2);
    });

    it("writes the tail batch's last event at once, with what the socket held from the batch, in one write", async () => {
      const p = await pair();
      const single = await pair();
      const [e1, e2, e3] = [event(1), event(2), event(3)];
      p.transport.sendEvent(e1);
      p.transport.sendEvent(e2);
      expect(p.writes()).toBe(0);
      dispatchLastOfBatch(() => {
        p.transport.sendEvent(e3);
        single.transport.sendEvent(e3);
      });
      // Written before this tick ends: nobody waits for the rest of the dispatch loop.
      expect(p.writes()).toBe(1);
      expect(single.writes()).toBe(1);
      expect(p.transport.bufferedAmount).toBe(p.server.bufferedAmount);
      await until(() => p.received.length === 3 && single.received.length === 1, 'frames');
      expect(p.received).toEqual([e1.frame, e2.frame, e3.frame]);
      expect(single.received).toEqual([e3.frame]);
      expect(p.writes()).toBe(1);
    });

    it('gives a socket that missed an event in the middle exactly its own events, in order', async () => {
      const a = await pair();
      const b = await pair();
      const [e1, e2, e3] = [event(1), event(2), event(3)];
      a.transport.sendEvent(e1);
      b.transport.sendEvent(e1);
      a.transport.sendEvent(e2);
      a.transport.sendEvent(e3);
      b.transport.sendEvent(e3);
      await until(() => a.received.length === 3 && b.received.length === 2, 'frames');
      expect(a.received).toEqual([e1.frame, e2.frame, e3.frame]);
      expect(b.received).toEqual([e1.frame, e3.frame]);
      expect(b.writes()).toBe(1);
    });

    it('sends a control frame after the events delivered before it', async () => {
      const p = await pair();
      p.transport.sendEvent(event(1));
      p.transport.sendControl({ type: 'pong' });
      p.transport.sendEvent(event(2));
      await until(() => p.received.length === 3, 'three frames');
      expect(p.received.map((f) => JSON.parse(f).type)).toEqual(['alert', 'pong', 'alert']);
      expect(JSON.parse(p.received[2]!).eventId).toBe('1700000000000-2');
    });

    it('counts frames still waiting in the batch in bufferedAmount', async () => {
      const p = await pair();
      const e = event(1);
      p.transport.sendEvent(e);
      expect(p.transport.bufferedAmount).toBeGreaterThanOrEqual(Buffer.byteLength(e.frame) + 2);
      await until(() => p.received.length === 1, 'the frame');
    });

    it('sends pending events before the close frame', async () => {
      const p = await pair();
      p.transport.sendEvent(event(1));
      p.transport.close(4008, 'too slow: resume with since');
      expect(await p.closed).toBe(4008);
      expect(p.received).toEqual([event(1).frame]);
    });

    it('frames payloads of every length class (7-bit, 16-bit and 64-bit lengths)', async () => {
      const p = await pair();
      const events = [event(1, 'x'), event(2, 'y'.repeat(300)), event(3, 'z'.repeat(70_000))];
      for (const e of events) p.transport.sendEvent(e);
      await until(() => p.received.length === 3, 'three frames');
      expect(p.received).toEqual(events.map((e) => e.frame));
    });

    it('writes nothing to a socket that closed before the batch was written', async () => {
      const p = await pair();
      p.server.terminate();
      p.transport.sendEvent(event(1));
      expect(await p.closed).toBe(1006);
      expect(p.received).toEqual([]);
    });
  });

  describe('with permessage-deflate negotiated', () => {
    beforeEach(() => startServer(true));

    it('lets ws frame and compress, with the same frames arriving', async () => {
      const p = await pair();
      expect(p.server.extensions).toContain('permessage-deflate');
      const events = [event(1), event(2)];
      for (const e of events) p.transport.sendEvent(e);
      p.transport.sendControl({ type: 'pong' });
      await until(() => p.received.length === 3, 'three frames');
      expect(p.received).toEqual([...events.map((e) => e.frame), '{"type":"pong"}']);
    });
  });
});
