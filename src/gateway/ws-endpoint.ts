/**
 * The WebSocket endpoint, /v1/stream: handshake checks, the frames readers
 * send, heartbeats. Writing to sockets happens in the reader and transport.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type Server } from 'ws';
import { parseTopicList } from '../alert/topics';
import { TOKENS_NOT_CONFIGURED, type Authenticator } from '../auth/authenticator';
import type { Principal } from '../auth/principal';
import { CLOSE, type ClientFrame } from '../protocol/frames';
import { grant, type Refusal } from './access';
import { originAllowed, presentedCredential, sinceParam } from './handshake';
import { parseClientFrame } from './client-frames';
import type { Gateway } from './gateway';
import { SpreadHeartbeat } from './heartbeat';
import { RateWindow } from './rate-window';
import type { Reader } from './reader';
import { WsConnection, type WsConnectionHandler } from './ws-connection';
import { WsTransport } from './ws-transport';

const STREAM_PATH = '/v1/stream';
/** Frames a connection may send before its reader is ready (welcome); one more is abuse (1008). */
const MAX_EARLY_FRAMES = 8;
/** Bad topics named one by one in a refusal's message; the rest are counted. */
const MAX_LISTED_TOPICS = 20;

/** Answers a refused handshake with a bare HTTP status, as ws itself does. */
function rejectHandshake(socket: Duplex, status: number, message: string): void {
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
    );
  }
  socket.destroy();
}

export class WsEndpoint implements WsConnectionHandler {
  private readonly wss: Server<typeof WsConnection>;
  private readonly conns = new Set<WsConnection>();
  private heartbeat: SpreadHeartbeat<WsConnection> | undefined;

  constructor(
    private readonly gateway: Gateway,
    private readonly authenticator: Authenticator,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      WebSocket: WsConnection,
      // permessage-deflate costs ~300 KiB per socket and a compression per
      // socket per alert; alerts are small. Off.
      perMessageDeflate: false,
      maxPayload: gateway.settings.FLASHWIRE_MAX_FRAME_BYTES,
      clientTracking: false,
      // Pings are answered here, under the rate limit and the slow-reader
      // cut-off: ws would answer every one, buffering pongs for a peer that
      // floods pings and never reads.
      autoPong: false,
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  start(): void {
    this.heartbeat = new SpreadHeartbeat(
      this.conns,
      this.gateway.settings.FLASHWIRE_HEARTBEAT_MS,
      (conn, token) => conn.ping(token),
      (conn) => conn.terminate(),
    );
    this.heartbeat.start();
  }

  stop(): void {
    this.heartbeat?.stop();
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
    // The request is not kept: what the connection needs of it is read in onConnection.
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.onConnection(ws, req, url));
    return true;
  }

  private async onConnection(ws: WsConnection, req: IncomingMessage, url: URL): Promise<void> {
    // Closing with a code needs a completed handshake; a refused reader gets
    // the reason in the close frame, which browsers can read.
    if (!this.gateway.admit()) {
      ws.close(CLOSE.overloaded, 'gateway full; retry later');
      return;
    }
    ws.handler = this;
    this.conns.add(ws);

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
    ws.principal = principal;
    if (principal?.kind === 'token') this.armExpiry(ws, principal.expiresAt);

    ws.transport = new WsTransport(ws);
    // Frames are taken from welcome on, while a replay runs too (a client
    // acks replayed events and pings as it pleases).
    const takeFrames = (reader: Reader) => {
      if (ws.reader) return;
      ws.reader = reader;
      const early = ws.early;
      ws.early = undefined;
      if (early) for (const [data, isBinary] of early) this.onMessage(ws, data, isBinary);
    };
    const reader = await this.gateway.openReader({
      transport: ws.transport,
      requested: parseTopicList(url.searchParams.get('topics')),
      principal,
      since: sinceParam(url),
      onWelcome: takeFrames,
    });
    takeFrames(reader);
    if (ws.readyState !== ws.OPEN) {
      this.gateway.closeReader(reader);
      return;
    }
  }

  /** A WebSocket ping from the peer: answered under the same limits as any frame. */
  onPing(conn: WsConnection, data: Buffer): void {
    if (conn.readyState !== conn.OPEN) return;
    if (this.messagesOf(conn).hit()) {
      if (conn.reader) conn.reader.close(CLOSE.policy, 'too many messages per second');
      else conn.close(CLOSE.policy, 'too many messages per second');
      return;
    }
    if (conn.reader && conn.transport) {
      if (conn.reader.hasRoom()) conn.transport.sendPong(data);
    } else if (conn.bufferedAmount <= this.gateway.settings.FLASHWIRE_MAX_BUFFERED_BYTES) {
      conn.pong(data);
    } else {
      conn.close(CLOSE.tooSlow, 'too slow: resume with since');
    }
  }

  /** A pong from the peer: an unsolicited one (or one for an older ping) proves nothing. */
  onPong(conn: WsConnection, data: Buffer): void {
    if (conn.pingedAt !== 0 && this.heartbeat?.answers(data)) conn.pingedAt = 0;
  }

  onMessage(conn: WsConnection, data: RawData, isBinary: boolean): void {
    const reader = conn.reader;
    if (!reader) return this.holdEarly(conn, data, isBinary);
    if (reader.closed) return;
    if (this.messagesOf(conn).hit()) {
      reader.close(CLOSE.policy, 'too many messages per second');
      return;
    }
    const parsed = parseClientFrame(data as Buffer, isBinary);
    if (!parsed.ok) {
      conn.badFrames ??= new RateWindow(this.gateway.settings.FLASHWIRE_MAX_BAD_FRAMES_PER_SECOND);
      if (conn.badFrames.hit()) {
        reader.close(CLOSE.policy, 'too many invalid frames');
        return;
      }
      reader.send({ type: 'error', code: 'invalid_frame', message: parsed.message });
      return;
    }
    this.onFrame(conn, reader, parsed.frame);
  }

  /** Held until welcome (the credential check and the resume plan): only a few. */
  private holdEarly(conn: WsConnection, data: RawData, isBinary: boolean): void {
    const early = (conn.early ??= []);
    if (early.length >= MAX_EARLY_FRAMES) {
      early.length = 0;
      conn.close(CLOSE.policy, `more than ${MAX_EARLY_FRAMES} frames before welcome`);
      return;
    }
    early.push([data, isBinary]);
  }

  /** Made on the connection's first frame: most readers never send one. */
  private messagesOf(conn: WsConnection): RateWindow {
    return (conn.messages ??= new RateWindow(this.gateway.settings.FLASHWIRE_MAX_MESSAGES_PER_SECOND));
  }

  private onFrame(conn: WsConnection, reader: Reader, frame: ClientFrame): void {
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
        const over = fresh.slice(room).map((topic): Refusal => ({ topic, code: 'too_many_topics', message: `"${topic}" not subscribed: at most ${s.FLASHWIRE_MAX_TOPICS_PER_CONNECTION} topics per connection` }));
        // One subscribe gets at most one error frame, naming every bad topic.
        const bad = [...refused, ...over];
        if (bad.length) reader.send(refusalFrame(bad));
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

  onClose(conn: WsConnection, code: number): void {
    if (!this.conns.delete(conn)) return;
    this.gateway.release();
    if (conn.expiryTimer) clearTimeout(conn.expiryTimer);
    if (conn.reader) {
      conn.reader.markClosed(code);
      this.gateway.closeReader(conn.reader);
    }
  }

  private armExpiry(conn: WsConnection, expiresAt: number): void {
    // setTimeout cannot wait longer than ~24.8 days; re-arm in steps.
    const wait = Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1);
    conn.expiryTimer = setTimeout(() => {
      if (Date.now() < expiresAt) return this.armExpiry(conn, expiresAt);
      conn.close(CLOSE.badCredential, 'credential expired');
    }, wait);
    conn.expiryTimer.unref();
  }

  /** Closes every socket with 1001 (readers are closed by the gateway first). */
  closeAll(): void {
    for (const conn of this.conns) conn.close(CLOSE.shuttingDown, 'server shutting down; reconnect and resume');
  }
}

/** One `error` frame for every topic a subscribe could not have: the first refusal's code, each topic with its reason. */
function refusalFrame(bad: readonly Refusal[]): { type: 'error'; code: Refusal['code']; message: string } {
  const first = bad[0]!;
  if (bad.length === 1) return { type: 'error', code: first.code, message: first.message };
  const listed = bad.slice(0, MAX_LISTED_TOPICS).map((r) => `${r.message} (${r.code})`);
  const more = bad.length > MAX_LISTED_TOPICS ? `; and ${bad.length - MAX_LISTED_TOPICS} more` : '';
  return { type: 'error', code: first.code, message: `${bad.length} topics not subscribed: ${listed.join('; ')}${more}` };
}
