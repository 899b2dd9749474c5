/**
 * A dispatch's writes shared with a write thread, over real sockets: every
 * socket gets every frame once and in order, whether the thread or the main
 * thread wrote it, with control frames written mid-dispatch, sockets whose
 * buffers fill, and peers that are gone.
 */
import type { AddressInfo, Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { parseEntry, type FeedEvent } from '../../src/feed/feed-event';
import { dispatchLastOfBatch } from '../../src/gateway/dispatch-batch';
import { ParallelWrites, writeThreadCount } from '../../src/gateway/parallel-writes';
import { WsTransport } from '../../src/gateway/ws-transport';
import { eventually, openReader, postAlert, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { STREAM_ENV } from './stream-helpers';

function event(n: number, headline = `H${n}`): FeedEvent {
  return parseEntry(`1700000000000-${n}`, ['type', 'alert', 'alert', `A${n}`, 'topics', 'world', 'exp', '', 'body', JSON.stringify({ alert: { id: `A${n}`, headline } }).slice(1, -1)])!;
}

interface Pair {
  client: WebSocket;
  server: WebSocket;
  transport: WsTransport;
  received: string[];
}

describe('ParallelWrites over real sockets', () => {
  let wss: WebSocketServer;
  let url: string;
  let writes: ParallelWrites;
  const clients: WebSocket[] = [];

  beforeEach(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    // Every write of a dispatch may be shared: the thread's part is not left to chance.
    writes = new ParallelWrites({ threads: 1, directFirst: 0 });
  });

  afterEach(async () => {
    await writes.stop();
    for (const c of clients.splice(0)) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });

  async function pairs(n: number): Promise<Pair[]> {
    const out: Pair[] = [];
    for (let i = 0; i < n; i++) {
      const accepted = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
      const client = new WebSocket(url);
      clients.push(client);
      const received: string[] = [];
      client.on('message', (d) => received.push(String(d)));
      client.on('error', () => undefined);
      await new Promise<void>((r, j) => {
        client.once('open', () => r());
        client.once('error', j);
      });
      const server = await accepted;
      out.push({ client, server, transport: new WsTransport(server), received });
    }
    return out;
  }

  /** Leaves every shared write to the thread, so that its path is taken for certain. */
  async function threadOnly(): Promise<void> {
    await writes.stop();
    writes = new ParallelWrites({ threads: 1, directFirst: 0, mainWrites: false });
  }

  /** No thread: every shared write is the main thread's, on the descriptor as a thread's would be. */
  async function mainOnly(): Promise<void> {
    await writes.stop();
    writes = new ParallelWrites({ threads: 0, directFirst: 0 });
  }

  /** Who makes a dispatch's shared writes, for the tests that hold for either. */
  const writers: [string, () => Promise<void>][] = [
    ['the write thread', threadOnly],
    ['the main thread', mainOnly],
  ];

  /** One dispatch of `e` to every pair, its writes shared with the thread. */
  function dispatch(all: Pair[], e: FeedEvent, during?: (p: Pair, i: number) => void): void {
    dispatchLastOfBatch(() => {
      all.forEach((p, i) => {
        p.transport.sendEvent(e);
        during?.(p, i);
      });
    }, writes);
  }

  it('gets every frame to every socket once and in order, and the thread writes its share', async () => {
    const all = await pairs(120);
    const sent: FeedEvent[] = [];
    // Dispatch until the thread has written some of them: how many it takes
    // depends on when the scheduler runs it, never whether it is right.
    await eventually(() => {
      for (let k = 0; k < 5; k++) {
        const e = event(sent.length + 1);
        sent.push(e);
        dispatch(all, e);
      }
      return writes.threadWrites > 0;
    }, 30_000, 1);
    const frames = sent.map((e) => e.frame);
    await eventually(() => all.every((p) => p.received.length >= frames.length), 30_000);
    for (const p of all) expect(p.received).toEqual(frames);
  }, 60_000);

  it('wakes a waiting thread for a whole chunk, not for each socket', async () => {
    const all = await pairs(300);
    const sent: FeedEvent[] = [];
    // The hub's walk made slow, as it is among many readers with filters:
    // the thread then keeps up with what is published and waits between entries.
    const slowWalk = () => {
      const until = performance.now() + 0.05;
      while (performance.now() < until);
    };
    for (let n = 1; n <= 10; n++) {
      const e = event(n);
      sent.push(e);
      dispatch(all, e, slowWalk);
    }
    // A wake-up is for CHUNK (16) entries the thread then takes, so a
    // dispatch of 300 wakes it at most ceil(300 / 16) times, plus once at its
    // end; woken for each entry it was ~one per socket.
    expect(writes.threadWakes).toBeLessThanOrEqual(10 * (Math.ceil(300 / 16) + 1));
    const frames = sent.map((e) => e.frame);
    await eventually(() => all.every((p) => p.received.length >= frames.length), 30_000);
    for (const p of all) expect(p.received).toEqual(frames);
  }, 60_000);

  it('writes a control frame sent mid-dispatch after the event already offered to that socket', async () => {
    await threadOnly();
    const all = await pairs(40);
    const expected: string[][] = all.map(() => []);
    for (let n = 1; n <= 20; n++) {
      dispatch(all, event(n), (p, i) => {
        expected[i]!.push(`alert:1700000000000-${n}`);
        if (i % 3 === n % 3) {
          p.transport.sendControl({ type: 'pong' });
          expected[i]!.push('pong');
        }
      });
    }
    await eventually(() => all.every((p, i) => p.received.length >= expected[i]!.length), 30_000);
    all.forEach((p, i) => {
      expect(p.received.map((f) => (JSON.parse(f).type === 'pong' ? 'pong' : `alert:${JSON.parse(f).eventId}`))).toEqual(expected[i]);
    });
  }, 60_000);

  it.each(writers)('keeps order on a socket whose buffer fills: what %s could not write goes through the socket, after what it wrote', async (_who, writer) => {
    await writer();
    const all = await pairs(3);
    const stalled = all[1]!;
    // The reader stops reading: its kernel buffers fill, the thread's writes
    // come back short or refused, and Node queues the rest.
    (stalled.client as unknown as { _socket: Socket })._socket.pause();
    const sent: FeedEvent[] = [];
    const big = 'b'.repeat(200_000);
    while (stalled.server.bufferedAmount === 0 && sent.length < 200) {
      const e = event(sent.length + 1, big);
      sent.push(e);
      dispatch(all, e);
    }
    expect(stalled.server.bufferedAmount).toBeGreaterThan(0);
    for (let k = 0; k < 5; k++) {
      const e = event(sent.length + 1, big);
      sent.push(e);
      dispatch(all, e);
    }
    (stalled.client as unknown as { _socket: Socket })._socket.resume();
    const frames = sent.map((e) => e.frame);
    await eventually(() => all.every((p) => p.received.length >= frames.length), 30_000);
    for (const p of all) expect(p.received).toEqual(frames);
    expect(writes.shortWrites).toBeGreaterThan(0);
  }, 60_000);

  it('writes a socket with bytes queued in Node through Node, behind them', async () => {
    await threadOnly();
    const all = await pairs(6);
    const queued = all[2]!;
    const socket = (queued.server as unknown as { _socket: Socket })._socket;
    socket.cork();
    queued.server.send('queued first');
    dispatch(all, event(1));
    socket.uncork();
    await eventually(() => all.every((p) => p.received.length >= (p === queued ? 2 : 1)), 30_000);
    expect(queued.received).toEqual(['queued first', event(1).frame]);
    for (const p of all) if (p !== queued) expect(p.received).toEqual([event(1).frame]);
  });

  it.each(writers)('leaves the other sockets whole when a peer is gone before the gateway has noticed (%s writing)', async (_who, writer) => {
    await writer();
    const all = await pairs(30);
    const gone = all[7]!;
    // Gone in this tick: the gateway's side still looks open, so the thread
    // writes to it; the reset comes back, and the next write is refused.
    (gone.client as unknown as { _socket: Socket })._socket.destroy();
    const rest = all.filter((p) => p !== gone);
    const sent = [1, 2, 3].map((n) => event(n));
    for (const e of sent) dispatch(all, e);
    expect(writes.shortWrites).toBeGreaterThan(0);
    await eventually(() => rest.every((p) => p.received.length >= 3), 30_000);
    for (const p of rest) expect(p.received).toEqual(sent.map((e) => e.frame));
    expect(gone.received).toEqual([]);
  }, 60_000);

  it('writes what no thread is left to take on the main thread, rather than waiting for it', async () => {
    await writes.stop();
    // No thread at all, and the main thread told to leave shared writes to threads.
    writes = new ParallelWrites({ threads: 0, directFirst: 0, mainWrites: false });
    const all = await pairs(20);
    const sent = [1, 2, 3].map((n) => event(n));
    for (const e of sent) dispatch(all, e);
    await eventually(() => all.every((p) => p.received.length >= 3), 30_000);
    for (const p of all) expect(p.received).toEqual(sent.map((e) => e.frame));
    expect(writes.threadWrites).toBe(0);
  });

  it('writes directly once stopped', async () => {
    const all = await pairs(5);
    await writes.stop();
    const before = writes.threadWrites;
    dispatch(all, event(1));
    await eventually(() => all.every((p) => p.received.length === 1), 30_000);
    expect(writes.threadWrites).toBe(before);
  });
});

describe('a gateway with a write thread', () => {
  it('gets every alert to every reader once and in order, its thread writing some of them', async () => {
    const redis = await startRedis();
    const svc = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_GATEWAY_WRITE_THREADS: '1' });
    const readers: TestReader[] = [];
    try {
      for (let i = 0; i < 200; i++) readers.push(await openReader(svc.wsUrl, { topics: 'world' }));
      const ids: string[] = [];
      const threadWrites = async () => {
        const text = await fetch(`${svc.url}/metrics`).then((r) => r.text());
        return Number(/^flashwire_gateway_thread_writes_total (\d+)/m.exec(text)?.[1] ?? 0);
      };
      // Alerts until the thread has written to some readers: when it gets
      // its first chunk depends on the scheduler, never whether all arrive.
      await eventually(async () => {
        const r = await postAlert(svc.url, { headline: `shared ${ids.length}`, topics: ['world'] });
        expect(r.status).toBe(202);
        ids.push(r.body.id);
        await eventually(() => readers.every((rd) => rd.ofType('alert').length === ids.length), 20_000);
        return (await threadWrites()) > 0;
      }, 40_000, 1);
      for (const rd of readers) expect(rd.ofType('alert').map((f) => f.alert.id)).toEqual(ids);
    } finally {
      for (const rd of readers) rd.close();
      await svc.stop();
      await redis.cleanup();
    }
  }, 90_000);
});

describe('writeThreadCount', () => {
  it('gives auto the cores the gateway processes leave free, at most four', () => {
    expect(writeThreadCount('auto', 1, 2)).toBe(1);
    expect(writeThreadCount('auto', 2, 2)).toBe(0);
    expect(writeThreadCount('auto', 7, 2)).toBe(0);
    expect(writeThreadCount('auto', 1, 16)).toBe(4);
    expect(writeThreadCount('auto', 1, 1)).toBe(0);
  });

  it('takes a number as it is', () => {
    expect(writeThreadCount(0, 1, 8)).toBe(0);
    expect(writeThreadCount(3, 7, 2)).toBe(3);
  });
});
