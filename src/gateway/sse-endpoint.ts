/**
 * The Server-Sent Events endpoint, /v1/events: the same readers as the
 * WebSocket endpoint over a plain HTTP response. Every refusal is an HTTP
 * status with a problem document, given before the stream starts, because
 * an EventSource cannot read a refusal sent later.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTopicList } from '../alert/topics';
import { TOKENS_NOT_CONFIGURED, type Authenticator } from '../auth/authenticator';
import type { Principal } from '../auth/principal';
import { writeProblem, type ProblemCode } from '../http/problem';
import { CLOSE } from '../protocol/frames';
import { grant } from './access';
import { SpreadRound } from './heartbeat';
import type { Gateway } from './gateway';
import { originAllowed, presentedCredential, sinceParam } from './handshake';
import type { Reader } from './reader';
import { SseTransport } from './sse-transport';

const EVENTS_PATH = '/v1/events';

interface Stream {
  transport: SseTransport;
  reader: Reader | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
}

/** Errors on a stream's response are followed by 'close', which does the cleanup. */
const ignoreError = (): void => undefined;

/** A refusal before the stream starts: a problem document, as the API answers. */
function refuse(res: ServerResponse, code: ProblemCode, detail: string, headers?: Record<string, string>, errors?: { path: string; message: string }[]): void {
  writeProblem(res, code, detail, { headers, errors });
}

export class SseEndpoint {
  /** Each open stream by its response, so one 'close' handler serves every stream: no closure per stream. */
  private readonly streams = new Map<ServerResponse, Stream>();
  private heartbeat: SpreadRound<Stream> | undefined;
  private readonly onResponseClose: (this: ServerResponse) => void;

  constructor(
    private readonly gateway: Gateway,
    private readonly authenticator: Authenticator,
  ) {
    const endpoint = this;
    this.onResponseClose = function (this: ServerResponse) {
      endpoint.onClose(this);
    };
  }

  get streamCount(): number {
    return this.streams.size;
  }

  start(): void {
    // Spread over the interval, a slice of the streams each second, as WebSocket heartbeats are.
    this.heartbeat = new SpreadRound(this.streams, this.gateway.settings.FLASHWIRE_HEARTBEAT_MS, (s) => s.transport.heartbeat());
    this.heartbeat.start();
  }

  stop(): void {
    this.heartbeat?.stop();
    this.heartbeat = undefined;
  }

  /** Handles an HTTP request; answers false when the path is not ours. */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== EVENTS_PATH) return false;
    if (req.method !== 'GET') {
      refuse(res, 'method_not_allowed', `${EVENTS_PATH} answers GET only`, { Allow: 'GET' });
      return true;
    }
    void this.open(req, res, url).catch(() => {
      if (!res.headersSent) refuse(res, 'unavailable', 'the stream could not be opened; retry');
      else res.destroy();
    });
    return true;
  }

  private async open(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const s = this.gateway.settings;
    if (!this.gateway.isAccepting) return refuse(res, 'unavailable', 'this gateway is shutting down; reconnect', { 'Retry-After': '1' });
    const origin = req.headers.origin;
    if (!originAllowed(s.FLASHWIRE_ALLOWED_ORIGINS, origin)) return refuse(res, 'forbidden', `Origin ${origin} is not allowed`);

    let principal: Principal | undefined;
    const credential = presentedCredential(req, url);
    if (credential !== undefined) {
      try {
        principal = await this.authenticator.authenticate(credential);
      } catch {
        return refuse(res, 'unavailable', 'cannot check credentials now; retry later', { 'Retry-After': '1' });
      }
      if (!principal) return refuse(res, 'unauthorized', this.authenticator.refusal?.(credential) === TOKENS_NOT_CONFIGURED ? TOKENS_NOT_CONFIGURED : 'the credential is unknown, revoked or expired', { 'WWW-Authenticate': 'Bearer' });
    }

    const requested = parseTopicList(url.searchParams.get('topics'));
    const { granted, refused } = grant(principal, requested);
    const invalid = refused.filter((r) => r.code === 'invalid_topic');
    if (invalid.length) {
      return refuse(res, 'bad_request', 'some topics are not valid', undefined, invalid.map((r) => ({ path: 'topics', message: r.message })));
    }
    if (refused.length) {
      const detail = refused.map((r) => r.message).join('; ');
      return principal
        ? refuse(res, 'forbidden', detail)
        : refuse(res, 'unauthorized', `${detail}: pass ?token= or an Authorization header`, { 'WWW-Authenticate': 'Bearer' });
    }
    if (granted.length > s.FLASHWIRE_MAX_TOPICS_PER_CONNECTION) {
      return refuse(res, 'bad_request', `at most ${s.FLASHWIRE_MAX_TOPICS_PER_CONNECTION} topics per connection`);
    }
    if (!this.gateway.admit()) return refuse(res, 'unavailable', 'gateway full; retry later', { 'Retry-After': '1' });

    // EventSource sends Last-Event-ID on its own reconnects; it is newer than
    // the `since` still sitting in the URL it reconnects to.
    const header = req.headers['last-event-id'];
    const lastEventId = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // nginx buffers responses unless told not to.
      'X-Accel-Buffering': 'no',
      ...(origin !== undefined ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : {}),
    });
    res.socket?.setNoDelay(true);
    res.flushHeaders();

    const stream: Stream = { transport: new SseTransport(res), reader: undefined, expiryTimer: undefined };
    this.streams.set(res, stream);
    res.on('close', this.onResponseClose);
    res.on('error', ignoreError);
    // The peer may have left while credentials were checked: give the slot back.
    if (res.destroyed) return this.onClose(res);
    if (principal?.kind === 'token') this.armExpiry(stream, principal.expiresAt);

    stream.reader = await this.gateway.openReader({ transport: stream.transport, requested: granted, principal, since: lastEventId ?? sinceParam(url) });
    // Closed while the reader opened: onClose had no reader to close yet.
    if (!this.streams.has(res)) this.gateway.closeReader(stream.reader);
  }

  private onClose(res: ServerResponse): void {
    const stream = this.streams.get(res);
    if (!stream) return;
    this.streams.delete(res);
    this.gateway.release();
    stream.transport.markEnded();
    if (stream.expiryTimer) clearTimeout(stream.expiryTimer);
    if (stream.reader) {
      stream.reader.markClosed(stream.transport.closeCode ?? 1006);
      this.gateway.closeReader(stream.reader);
    }
  }

  private armExpiry(stream: Stream, expiresAt: number): void {
    const wait = Math.min(Math.max(expiresAt - Date.now(), 0), 2 ** 31 - 1);
    stream.expiryTimer = setTimeout(() => {
      if (Date.now() < expiresAt) return this.armExpiry(stream, expiresAt);
      if (stream.reader) stream.reader.close(CLOSE.badCredential, 'credential expired');
      else stream.transport.close(CLOSE.badCredential, 'credential expired');
    }, wait);
    stream.expiryTimer.unref();
  }

  /** Ends every stream (readers are closed by the gateway first). */
  closeAll(): void {
    for (const s of this.streams.values()) s.transport.close(CLOSE.shuttingDown, 'server shutting down');
  }
}
