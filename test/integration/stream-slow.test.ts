/**
 * A reader that stops reading must not slow anyone else: it is cut off
 * (4008) once its backlog passes FLASHWIRE_MAX_BUFFERED_BYTES, everyone
 * else gets every alert, and the gateway holds a bounded amount for it.
 *
 * The stalled peer is a raw TCP client (python3, because Node cannot shrink
 * a socket's buffers) that completes the WebSocket handshake and then never
 * reads. Small receive buffer and segment size keep the kernel from
 * absorbing the whole flood on loopback, so the backlog lands in the gateway.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import Redis from 'ioredis';
import { eventually, openReader, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { STREAM_ENV } from './stream-helpers';

const MAX_BUFFERED = 16 * 1024;

const STALLED_CLIENT = `
import socket, sys, time, base64, os
port = int(sys.argv[1])
kind = sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
s.connect(('127.0.0.1', port))
key = base64.b64encode(os.urandom(16)).decode()
if kind == 'ws':
  s.sendall(('GET /v1/stream?topics=flood HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n'
    'Sec-WebSocket-Key: ' + key + '\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n').encode())
else:
  s.sendall(b'GET /v1/events?topics=flood HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nAccept: text/event-stream\\r\\n\\r\\n')
head = b''
while b'\\r\\n\\r\\n' not in head:
  chunk = s.recv(1)
  if not chunk: break
  head += chunk
print(head.split(b'\\r\\n')[0].decode(), flush=True)
time.sleep(120)
`;

function startStalledClient(port: number, kind: 'ws' | 'sse'): Promise<{ child: ChildProcess; statusLine: string }> {
  const child = spawn('python3', ['-c', STALLED_CLIENT, String(port), kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`stalled client exited early (${code})`)));
    readline.createInterface({ input: child.stdout! }).once('line', (statusLine) => resolve({ child, statusLine }));
  });
}

describe('a reader that stops reading', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  const stalled: ChildProcess[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url, { ...STREAM_ENV, FLASHWIRE_MAX_BUFFERED_BYTES: String(MAX_BUFFERED) });
  });
  afterAll(async () => {
    for (const c of stalled) c.kill('SIGKILL');
    await svc?.stop();
    await redis?.cleanup();
  });

  it.each([
    ['WebSocket', 'ws', 'HTTP/1.1 101 Switching Protocols'],
    ['SSE', 'sse', 'HTTP/1.1 200 OK'],
  ] as const)('over %s is cut off (4008) while 200 alerts with 1 KiB summaries reach every other reader, and its backlog stays bounded', async (_name, kind, statusLine) => {
    const gw = svc.service.gateway!;
    const slowBefore = gw.stats.slowDisconnects;
    const others = await Promise.all([1, 2, 3].map(() => openReader(svc.wsUrl, { topics: 'flood' })));
    const otherIds = new Set(others.map((r) => r.frames[0].connectionId as string));
    const s = await startStalledClient(svc.port, kind);
    stalled.push(s.child);
    expect(s.statusLine).toBe(statusLine);
    await eventually(() => gw.hub.membersOf('flood') === 4 && gw.readers.size === 4);
    const stalledReader = [...gw.readers].find((r) => !otherIds.has(r.id))!;
    expect(stalledReader).toBeDefined();

    // Watch the bytes the gateway holds for the stalled socket for as long as it exists.
    let maxBuffered = 0;
    const sampler = setInterval(() => (maxBuffered = Math.max(maxBuffered, stalledReader.transport.bufferedAmount)), 2);
    const rssBefore = process.memoryUsage().rss;

    const summary = 'x'.repeat(1024);
    const posted: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => postAlert(svc.url, { headline: `flood ${batch * 10 + i}`, summary, topics: ['flood'] })));
      for (const r of rs) {
        expect(r.status).toBe(202);
        posted.push(r.body.id);
      }
    }

    for (const r of others) {
      const got = await r.waitForCount('alert', 200, 30_000);
      expect(new Set(got.map((f) => f.alert.id))).toEqual(new Set(posted));
      expect(r.ws.readyState).toBe(r.ws.OPEN);
    }
    expect(stalledReader.closed).toBe(true);
    expect(gw.stats.slowDisconnects - slowBefore).toBe(1);
    // Its socket is freed (terminated when the close handshake cannot complete).
    await eventually(() => !gw.readers.has(stalledReader) && gw.hub.membersOf('flood') === 3, 10_000);
    clearInterval(sampler);
    // Bounded: the limit plus at most one frame, never the flood (~260 KB). Bytes held
    // only grow by writes and writes stop at the cut-off, so its figure is the peak.
    expect(gw.stats.maxBufferedAtCutOff).toBeGreaterThan(MAX_BUFFERED);
    expect(gw.stats.maxBufferedAtCutOff).toBeLessThan(MAX_BUFFERED + 4 * 1024);
    expect(maxBuffered).toBeLessThan(MAX_BUFFERED + 4 * 1024);
    // The whole process grew by far less than a buffered flood per stalled reader would cost.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    for (const r of others) r.close();
  });

  it('does not cut off readers that keep up when one burst is bigger than the per-socket limit', async () => {
    const gw = svc.service.gateway!;
    const slowBefore = gw.stats.slowDisconnects;
    const readers = await Promise.all([1, 2].map(() => openReader(svc.wsUrl, { topics: 'burst' })));
    // 60 events of ~1.3 KB appended in one transaction: the tail reads them in one go (~80 KB > 16 KiB).
    const admin = new Redis(redis.url);
    const tx = admin.multi();
    const summary = 'y'.repeat(1024);
    for (let i = 0; i < 60; i++) {
      const alert = { id: `burst-${i}`, headline: `burst ${i}`, topics: ['burst'], priority: 'urgent', createdAt: new Date().toISOString(), summary };
      tx.xadd(`${svc.prefix}:feed`, '*', 'type', 'alert', 'alert', alert.id, 'topics', 'burst', 'exp', '', 'body', `"alert":${JSON.stringify(alert)}`);
    }
    await tx.exec();
    admin.disconnect();
    for (const r of readers) {
      const got = await r.waitForCount('alert', 60, 15_000);
      expect(got.map((f) => f.alert.id)).toEqual(Array.from({ length: 60 }, (_, i) => `burst-${i}`));
      expect(r.ws.readyState).toBe(r.ws.OPEN);
    }
    expect(gw.stats.slowDisconnects).toBe(slowBefore);
    for (const r of readers) r.close();
  });
});
