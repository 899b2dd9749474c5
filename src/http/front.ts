/**
 * The HTTP front every role shares: one port for the API, the gateway's
 * WebSocket and SSE endpoints, and health checks. It routes; it holds no
 * logic of its own.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Redis } from 'ioredis';
import { redisFull } from '../redis/server-check';
import { writeProblem } from './problem';

export interface FrontRoutes {
  /** The API's request handler (express), when this process runs the api role. */
  api?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Gateway HTTP paths (SSE, client assets): answers false when not its path. */
  gatewayRequest?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Gateway upgrades: answers false when not its path. */
  gatewayUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /** Pages, the browser client and the API descriptions: answers false when not its path. */
  site?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** GET /metrics (Prometheus text), served by every role. */
  metrics?: (req: IncomingMessage, res: ServerResponse) => void;
  /** The connection readiness pings. */
  redis: Redis;
  roles: readonly string[];
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

async function redisReachable(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([redis.ping(), new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error('timeout')), timeoutMs)))]);
    return pong === 'PONG';
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export function createFront(routes: FrontRoutes): http.Server {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      return sendJson(res, 200, { status: 'ok', roles: routes.roles });
    }
    if (path === '/readyz' && (req.method === 'GET' || req.method === 'HEAD')) {
      void redisReachable(routes.redis).then(async (ok) => {
        if (!ok) return writeProblem(res, 'unavailable', 'Redis cannot be reached');
        // An API whose Redis refuses writes cannot accept alerts: not ready.
        const full = routes.roles.includes('api') ? await redisFull(routes.redis).catch(() => undefined) : undefined;
        if (full) return writeProblem(res, 'unavailable', full);
        sendJson(res, 200, { status: 'ready', roles: routes.roles });
      });
      return;
    }
    if (path === '/metrics' && routes.metrics && (req.method === 'GET' || req.method === 'HEAD')) return routes.metrics(req, res);
    if (routes.site?.(req, res)) return;
    if (routes.gatewayRequest?.(req, res)) return;
    if (routes.api) return routes.api(req, res);
    writeProblem(res, 'not_found', `no route for ${req.method} ${path} on this process (roles: ${routes.roles.join(', ')})`);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (routes.gatewayUpgrade?.(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  // Keep-alive sockets of API clients must not hold shutdown open forever.
  server.keepAliveTimeout = 5000;
  return server;
}
