/**
 * The floor: a bare `ws` server that, for each message on a Redis pub/sub
 * channel, sends that one pre-serialized buffer to every connected reader
 * in a plain loop. No topics, no feed, no resume: what Node and `ws` cost
 * when nothing else is done. With FLOOR_PROCESSES > 1 it runs one process
 * per core behind node:cluster, as the gateway does.
 *
 * Env: PORT, REDIS_URL, FLOOR_CHANNEL, FLOOR_PROCESSES.
 */
import cluster from 'node:cluster';
import http from 'node:http';
import IORedis from 'ioredis';
import { WebSocketServer } from 'ws';

const port = Number(process.env.PORT);
const processes = Number(process.env.FLOOR_PROCESSES ?? '1');

function serve(): void {
  const server = http.createServer((_req, res) => res.end('floor'));
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: true });
  wss.on('connection', (ws) => ws.on('error', () => undefined));
  const sub = new IORedis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    for (const ws of wss.clients) ws.send(message, { binary: false });
  });
  void sub.subscribe(process.env.FLOOR_CHANNEL!).then(() => {
    server.listen(port, '0.0.0.0', () => {
      if (cluster.isWorker) process.send!({ ready: true });
      else process.send?.({ ev: 'floor-ready' });
    });
  });
}

if (processes > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < processes; i++) {
    cluster.fork().on('message', (m: { ready?: boolean }) => {
      if (m.ready && ++ready === processes) process.send?.({ ev: 'floor-ready' });
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGKILL');
    process.exit(0);
  });
} else {
  serve();
  process.on('SIGTERM', () => process.exit(0));
}
