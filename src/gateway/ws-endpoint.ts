/**
 * The WebSocket endpoint, /v1/stream: handshake checks, the frames readers
 * send, heartbeats. Writing to sockets happens in the reader and transport.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { parseTopicList } from '../alert/topics';
import { TOKENS_NOT_CONFIGURED, type Authenticator } from '../auth/authenticator';
import type { Principal } from '../auth/principal';
import { CLOSE, type ClientFrame } from '../protocol/frames';
import { grant } from './access';
import { originAllowed, presentedCredential, sinceParam } from './handshake';
import { parseClientFrame } from './client-frames';
import type { Gateway } from './gateway';
import { RateWindow } from './rate-window';
import type { Reader } from './reader';
import { WsTransport } from './ws-transport';

export const STREAM_PATH = '/v1/stream';

interface Conn {
  ws: WebSocket;
  reader: Reader | undefined;
  principal: Principal | undefined;
  alive: boolean;
  messages: RateWindow;
  badFrames: RateWindow;
  expiryTimer: NodeJS.Timeout | undefined;
}

/** Answers a refused handshake with a bare HTTP status, as ws itself does. */
export function rejectHandshake(socket: Duplex, status: number, message: string): void {
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
    );
  }
  socket.destroy();
}

export class WsEndpoint {
  private readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly gateway: Gateway,
    private readonly authenticator: Authenticator,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      // permessage-deflate costs ~300 KiB per socket and a compression per
      // socket per alert; alerts are small. Off.
      perMessageDeflate: false,
      maxPayload: gateway.settings.FLASHWIRE_MAX_FRAME_BYTES,
      clientTracking: false,
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  start(): void {
    const ms = this.gateway.settings.FLASHWIRE_HEARTBEAT_MS;
    this.heartbeat = setInterval(() => this.beat(), ms);
    this.heartbeat.unref();
  }

  stop(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Handles an HTTP upgrade; answers false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== STREAM_PATH) return false;
    const s = this.gateway.settings;
    if (!this.gateway.isAccepting) {
      rejectHandshake(socket, 503, 'Service Unavailable');
      return true;
    }
    if (!originAllowed(s.FLASHWIRE_ALLOWED_ORIGINS, req.headers.origin)) {
      rejectHandshake(socket, 403, 'Forbidden');
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.onConnection(ws, req, url));
    return true;
  }

  private async onConnection(ws: WebSocket, req: IncomingMessage, url: URL): Promise<void> {
    const s = this.gateway.settings;
    const conn: Conn = {
      ws,
      reader: undefined,
      principal: undefined,
      alive: true,
      messages: new RateWindow(s.FLASHWIRE_MAX_MESSAGES_PER_SECOND),
      badFrames: new RateWindow(s.FLASHWIRE_MAX_BAD_FRAMES_PER_SECOND),
      expiryTimer: undefined,
    };
    // Closing with a code needs a completed handshake; a refused reader gets
    // the reason in the close frame, which browsers can read.
    if (!this.gateway.admit()) {
      ws.close(CLOSE.overloaded, 'gateway full; retry later');
      return;
    }
    this.conns.add(conn);
    const early: [RawData, boolean][] = [];
    ws.on('message', (data, isBinary) => (conn.reader ? this.onMessage(conn, data, isBinary) : early.push([data, isBinary])));
    ws.on('pong', () => (conn.alive = true));
    ws.on('error', () => undefined);
    ws.on('close', (code) => this.onClose(conn, code));

    let principal: Principal | undefined;
    const credential = presentedCredential(req, url);
    if (credential !== undefined) {
      try {
        principal = await this.authenticator.authenticate(credential);
      } catch {
        ws.close(CLOSE.overloaded, 'cannot check credentials now; retry later');
        return;
      }
      if (!principal) {
        ws.close(CLOSE.badCredential, credential && this.authenticator.refusal?.(credential) === TOKENS_NOT_CONFIGURED ? TOKENS_NOT_CONFIGURED : 'bad or expired credential');
        return;
      }
    }
    if (ws.readyState !== ws.OPEN) return;
    conn.principal = principal;
    if (principal?.kind === 'token') this.armExpiry(conn, principal.expiresAt);

    const reader = await this.gateway.openReader({
      transport: new WsTransport(ws),
      requested: parseTopicList(url.searchParams.get('topics')),
      principal,
      since: sinceParam(url),
    });
    conn.reader = reader;
    if (ws.readyState !== ws.OPEN) {
      this.gateway.closeReader(reader);
      return;
    }
    for (const [data, isBinary] of early) this.onMessage(conn, data, isBinary);
  }

  private onMessage(conn: Conn, data: RawData, isBinary: boolean): void {
    const reader = conn.reader;
    if (!reader || reader.closed) return;
    if (conn.messages.hit()) {
      reader.close(CLOSE.policy, 'too many messages per second');
      return;
    }
    const parsed = parseClientFrame(data as Buffer, isBinary);
    if (!parsed.ok) {
      if (conn.badFrames.hit()) {
        reader.close(CLOSE.policy, 'too many invalid frames');
        return;
      }
      reader.send({ type: 'error', code: 'invalid_frame', message: parsed.message });
      return;
    }
    this.onFrame(conn, reader, parsed.frame);
  }

  private onFrame(conn: Conn, reader: Reader, frame: ClientFrame): void {
    const s = this.gateway.settings;
    switch (frame.type) {
      case 'ping':
        reader.send({ type: 'pong' });
        return;
      case 'subscribe': {
        const { granted, refused } = grant(conn.principal, [...new Set(frame.topics)]);
        const fresh = granted.filter((t) => !reader.topics.has(t));
        const room = Math.max(0, s.FLASHWIRE_MAX_TOPICS_PER_CONNECTION - reader.topics.size);
        const added = fresh.slice(0, room);
        this.gateway.subscribe(reader, added);
        const already = granted.filter((t) => !fresh.includes(t));
        for (const r of refused) reader.send({ type: 'error', code: r.code, message: r.message });
        if (fresh.length > room) {
          reader.send({ type: 'error', code: 'too_many_topics', message: `at most ${s.FLASHWIRE_MAX_TOPICS_PER_CONNECTION} topics per connection; not subscribed: ${fresh.slice(room).join(', ')}` });
        }
        if (added.length || already.length || refused.length === 0) reader.send({ type: 'subscribed', topics: [...already, ...added] });
        return;
      }
      case 'unsubscribe': {
        const removed = frame.topics.filter((t) => reader.topics.has(t));
        this.gateway.unsubscribe(reader, removed);
        reader.send({ type: 'unsubscribed', topics: removed });
        return;
      }
      case 'ack':
        this.gateway.onAck(reader, frame.eventId);
        return;
    }
  }

  private onClose(conn: Conn, code: number): void {
    if (!this.conns.delete(conn)) return;
    this.gateway.release();
    if (conn.expiryTimer) clearTimeout(conn.expiryTimer);
    if (conn.reader) {
      conn.reader.markClosed(code);
      this.gateway.closeReader(conn.reader);
    }
  }

  private armExpiry(conn: Conn, expiresAt: number): void {
    // setTimeout cannot wait longer than ~24.8 days; re-arm in steps.
    const wait = Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1);
    conn.expiryTimer = setTimeout(() => {
      if (Date.now() < expiresAt) return this.armExpiry(conn, expiresAt);
      conn.ws.close(CLOSE.badCredential, 'credential expired');
    }, wait);
    conn.expiryTimer.unref();
  }

  /** Pings every socket; terminates those that missed the previous ping. */
  private beat(): void {
    for (const conn of this.conns) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  /** Closes every socket with 1001 (readers are closed by the gateway first). */
  closeAll(): void {
    for (const conn of this.conns) conn.ws.close(CLOSE.shuttingDown, 'server shutting down; reconnect and resume');
  }
}
