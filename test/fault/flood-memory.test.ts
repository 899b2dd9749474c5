/**
 * Fault: clients that never read, each flooding one kind of frame at a
 * gateway process (JSON ping, subscribe with held, bad or too many topics,
 * unsubscribe, ack, invalid frames, WebSocket pings and unsolicited pongs),
 * starting before their welcome. With the message rate limit lifted, what
 * bounds each is the per-connection cost: the gateway's memory stays within
 * +32 MiB and a bystander reader still gets a marker alert, about as fast as
 * before the flood.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { eventually, openReader, postAlert, sleep } from '../helpers/clients';
import { withFaultRig } from './fault-kit';
import { describeMemory, MB, memoryOf } from './memory';

const PER_FLOODER_BYTES = 8 * MB;
const FLOOD_MS = 20_000;
const HELD = Array.from({ length: 50 }, (_, i) => `flood/t${i}`);
const BAD = Array.from({ length: 100 }, (_, i) => `private/p${i}`);

const FLOODS: Record<string, { topics: string[]; frame: (ws: WebSocket) => void }> = {
  'json ping': { topics: ['world'], frame: (ws) => ws.send('{"type":"ping"}') },
  'subscribe to held topics': { topics: HELD, frame: (ws) => ws.send(JSON.stringify({ type: 'subscribe', topics: HELD })) },
  'subscribe to forbidden topics': { topics: ['world'], frame: (ws) => ws.send(JSON.stringify({ type: 'subscribe', topics: BAD })) },
  'subscribe past the topic cap': { topics: Array.from({ length: 100 }, (_, i) => `cap/t${i}`), frame: (ws) => ws.send(JSON.stringify({ type: 'subscribe', topics: HELD })) },
  unsubscribe: { topics: ['world'], frame: (ws) => ws.send(JSON.stringify({ type: 'unsubscribe', topics: HELD })) },
  ack: { topics: ['world'], frame: (ws) => ws.send('{"type":"ack","eventId":"1-1"}') },
  'invalid frame': { topics: ['world'], frame: (ws) => ws.send('not json') },
  'websocket ping': { topics: ['world'], frame: (ws) => ws.ping(Buffer.alloc(125, 1)) },
  'unsolicited websocket pong': { topics: ['world'], frame: (ws) => ws.pong(Buffer.alloc(125, 1)) },
};

/** Opens a stream connection that never reads (unless `reads`) and floods `frame` from the moment it opens; resolves with bytes sent. */
function flooder(wsUrl: string, topics: string[], frame: (ws: WebSocket) => void, reads = false): Promise<number> {
  const ws = new WebSocket(`${wsUrl}/v1/stream?topics=${topics.join(',')}`, { autoPong: false });
  ws.on('error', () => undefined);
  return new Promise((resolve) => {
    ws.once('open', async () => {
      const socket = (ws as unknown as { _socket: Socket })._socket;
      if (!reads) socket.pause();
      const until = Date.now() + FLOOD_MS;
      while (Date.now() < until && socket.bytesWritten < PER_FLOODER_BYTES && !socket.destroyed) {
        // Our own buffer stays small: a server that stopped reading stops the flood.
        if (ws.bufferedAmount < 256 * 1024) for (let i = 0; i < 50; i++) frame(ws);
        await new Promise((r) => setTimeout(r, ws.bufferedAmount < 256 * 1024 ? 0 : 20));
      }
      const sent = socket.bytesWritten;
      ws.terminate();
      resolve(sent);
    });
    ws.once('unexpected-response', () => resolve(0));
  });
}

describe('fault: never-reading clients flooding every kind of frame', () => {
  it('keeps the gateway within +32 MiB and a bystander served', () =>
    withFaultRig(async (rig) => {
      const api = await rig.spawn({ FLASHWIRE_ROLES: 'api,worker' });
      // The rate limit lifted (the cost bounds are under test) and no heartbeat
      // to clear the flooders out during the test.
      const gateway = await rig.spawn({ FLASHWIRE_ROLES: 'gateway', FLASHWIRE_MAX_MESSAGES_PER_SECOND: '100000', FLASHWIRE_HEARTBEAT_MS: '600000' });
      const kinds = Object.entries(FLOODS);
      // A flood outlives a failed assertion by up to FLOOD_MS: the rig waits for every one (they end once the gateway is gone).
      const floods: Promise<unknown>[] = [];
      rig.onClose(() => Promise.allSettled(floods));
      const flood = (f: { topics: string[]; frame: (ws: WebSocket) => void }, reads = false) => {
        const p = flooder(gateway.wsUrl, f.topics, f.frame, reads);
        floods.push(p);
        return p;
      };
      const bystander = await openReader(gateway.wsUrl, { topics: 'world' });
      rig.onClose(async () => {
        bystander.close();
        await bystander.closed;
      });
      const marker = async (label: string) => {
        const t0 = Date.now();
        const posted = await postAlert(api.url, { headline: `marker ${label}`, topics: ['world'] });
        expect(posted.status).toBe(202);
        await bystander.waitFor((f) => f.type === 'alert' && f.alert.id === posted.body.id, 60_000);
        return Date.now() - t0;
      };
      await marker('warm-up');
      // A reader that sends as much but reads its answers: the gateway's memory
      // under that traffic (V8's young generation grows to its size under a
      // high allocation rate, and stays) is the baseline.
      await Promise.all(kinds.slice(0, 3).map(([, f]) => flood(f, true)));
      const baseline = await marker('before');
      const before = await memoryOf(gateway.child.pid!, gateway.url);

      // Three kinds at a time, each more than the kernel's socket buffers plus
      // the gateway's per-connection limit, so the answered ones hit the cut-off.
      const sent: { kind: string; bytes: number }[] = [];
      let during = 0;
      for (let i = 0; i < kinds.length; i += 3) {
        const batch = kinds.slice(i, i + 3).map(([kind, f]) => flood(f).then((bytes) => ({ kind, bytes })));
        if (i === 0) {
          // A marker in the middle of the flood.
          await sleep(1000);
          during = await marker('during');
        }
        sent.push(...(await Promise.all(batch)));
      }
      const after = await memoryOf(gateway.child.pid!, gateway.url);
      const afterMarker = await marker('after');

      console.log(`${describeMemory('gateway under floods', before, after)}; bystander latency ${baseline} ms before, ${during} ms during, ${afterMarker} ms after; sent ${sent.map((s) => `${s.kind} ${(s.bytes / MB).toFixed(1)} MB`).join(', ')}`);
      expect(after.rss - before.rss).toBeLessThan(32 * MB);
      if (after.heapUsed !== undefined && before.heapUsed !== undefined) expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * MB);
      // Generous: the bystander is not starved, compared with itself before the flood.
      expect(during).toBeLessThan(baseline + 10_000);
      expect(bystander.ws.readyState).toBe(WebSocket.OPEN);
      // The floods that are answered were cut off as slow readers, not let grow
      // (the gateway's line comes through its stdout pipe, which may trail).
      await eventually(() => gateway.logs.some((l) => l.msg === 'slow reader cut off (4008)'), 20_000, 50);
    }), 180_000);
});
