/**
 * The Flashwire browser client: one live connection to the stream, served
 * by every gateway and api process as an ES module at /client/flashwire.js.
 *
 * It has no dependencies: it type-imports the protocol and bundles the
 * eventId comparison and the backoff the Node client uses (both from the
 * client package, dependency-free). It reconnects by itself with exponential
 * backoff and jitter, resumes from the last eventId it delivered (so nothing is
 * missed at a reconnect), drops anything at or below that eventId (so
 * nothing is shown twice), and falls back to Server-Sent Events where a
 * WebSocket cannot be opened (proxies that refuse the upgrade). On
 * `resync` it forgets its cursor: the connection carries on live from the
 * feed's end, and the application refetches what it needs over HTTP
 * (`GET /v1/feed`), then may hand the answer's `next` to `advanceTo()`.
 *
 * ```js
 * import { FlashwireClient } from '/client/flashwire.js';
 * const fw = new FlashwireClient({ topics: ['europe', 'world'] });
 * fw.on('alert', (f) => show(f.alert));
 * fw.connect();
 * ```
 */
import type { AlertFrame, ErrorFrame, RetractFrame, UpdateFrame, WelcomeFrame } from '../../protocol/frames';
import { backoffDelay } from '../../../clients/node/src/backoff';
import { compareEventIds, isEventId } from '../../../clients/node/src/event-id';
import { handshakeTimeout } from '../../../clients/node/src/handshake';

export type { AlertFrame, ErrorFrame, RetractFrame, UpdateFrame, WelcomeFrame };
export type AlertPayload = AlertFrame['alert'];
export interface ResyncFrame {
  type: 'resync';
  reason: string;
}

export type Transport = 'websocket' | 'sse';
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateEvent {
  state: ConnectionState;
  transport: Transport | undefined;
  /** Consecutive failed attempts so far (0 once open). */
  attempt: number;
  /** When reconnecting: how long until the next try. */
  delayMs?: number;
  /** Why the connection ended, when known (close code and reason). */
  reason?: string;
}

/** Every event the client emits, by name. */
export interface ClientEvents {
  alert: AlertFrame;
  update: UpdateFrame;
  retract: RetractFrame;
  /**
   * The resume point could not be honoured (trimmed, unknown or invalid): the
   * client has forgotten it and the connection is live from the feed's end.
   * Refetch what is needed over HTTP (`GET /v1/feed`).
   */
  resync: ResyncFrame;
  state: StateEvent;
  welcome: WelcomeFrame;
  /** An `error` frame from the server (e.g. forbidden_topic); the connection stays open. */
  error: ErrorFrame;
  subscribed: { type: 'subscribed'; topics: string[] };
  unsubscribed: { type: 'unsubscribed'; topics: string[] };
}

export interface FlashwireClientOptions {
  /** The service, e.g. https://push.example; defaults to the page's origin. */
  url?: string;
  /** Topics to subscribe to; none means every public topic (`*`). */
  topics?: string[];
  /** Resume after this eventId on the first connection. */
  since?: string;
  /** A subscriber token (JWT) for private/ topics, sent as ?token=. */
  token?: string;
  /** `auto` tries WebSocket first and falls back to SSE when it cannot open. */
  transport?: 'auto' | Transport;
  /** First reconnect delay; doubles per failed attempt up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** How long a connection may take to be served (the upgrade answered, the stream's headers received) before it is dropped and retried (ms, default 30,000). */
  handshakeTimeoutMs?: number;
  /** Send `ack` frames so readers are counted in the delivery report (WebSocket only). */
  ack?: boolean;
}

type Listener<T> = (event: T) => void;

/** Compares feed event ids (`ms-seq`) as numbers: the service's own comparison. */
export { compareEventIds, isEventId };

const EVENT_TYPES = ['alert', 'update', 'retract'] as const;
const SSE_TYPES = ['alert', 'update', 'retract', 'resync', 'welcome', 'error'] as const;

export class FlashwireClient {
  private readonly base: string;
  private readonly topicSet: Set<string>;
  private readonly listeners = new Map<keyof ClientEvents, Set<Listener<never>>>();
  private ws: WebSocket | undefined;
  private es: EventSource | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Running while a connection waits to be served: a connection nobody answers is not waited on forever. */
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private wanted = false;
  private current: ConnectionState = 'idle';
  private currentTransport: Transport | undefined;
  /** The last event delivered to listeners: the resume point and the duplicate fence. */
  lastEventId: string | undefined;

  constructor(private readonly options: FlashwireClientOptions = {}) {
    const origin = typeof location !== 'undefined' ? location.origin : 'http://localhost:8080';
    this.base = (options.url ?? origin).replace(/\/+$/, '');
    this.topicSet = new Set(options.topics ?? []);
    // A malformed cursor would only earn a resync; start live instead.
    this.lastEventId = isEventId(options.since) ? options.since : undefined;
  }

  get state(): ConnectionState {
    return this.current;
  }

  get transport(): Transport | undefined {
    return this.currentTransport;
  }

  get topics(): string[] {
    return [...this.topicSet];
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof ClientEvents>(type: K, fn: Listener<ClientEvents[K]>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  connect(): this {
    if (this.wanted) return this;
    this.wanted = true;
    this.open(this.preferred());
    return this;
  }

  /**
   * Moves the resume point forward to `eventId` when it is newer than the
   * last event delivered (or none is held): after the application caught up
   * over HTTP (`GET /v1/feed`'s `next`), so a reconnect resumes from there
   * and nothing it already has is delivered again.
   */
  advanceTo(eventId: string): void {
    if (!isEventId(eventId)) return;
    if (this.lastEventId === undefined || compareEventIds(eventId, this.lastEventId) > 0) this.lastEventId = eventId;
  }

  /** Closes for good (until connect() is called again). */
  close(): void {
    this.wanted = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.teardown();
    this.setState({ state: 'closed', transport: this.currentTransport, attempt: 0, reason: 'closed by the client' });
  }

  subscribe(topics: string[]): void {
    const fresh = topics.filter((t) => !this.topicSet.has(t));
    if (fresh.length === 0) return;
    const wasAll = this.topicSet.size === 0;
    for (const t of fresh) this.topicSet.add(t);
    // A connection opened with no topics reads `*`; narrowing it needs a new connection.
    this.changeTopics({ type: 'subscribe', topics: fresh }, wasAll);
  }

  unsubscribe(topics: string[]): void {
    const gone = topics.filter((t) => this.topicSet.has(t));
    if (gone.length === 0) return;
    for (const t of gone) this.topicSet.delete(t);
    this.changeTopics({ type: 'unsubscribe', topics: gone }, this.topicSet.size === 0);
  }

  private changeTopics(frame: { type: 'subscribe' | 'unsubscribe'; topics: string[] }, reopen: boolean): void {
    if (!this.wanted) return;
    if (!reopen && this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return;
    }
    // SSE cannot take frames, so a topic change is a reconnect that resumes.
    this.teardown();
    if (this.timer) clearTimeout(this.timer);
    this.open(this.currentTransport ?? this.preferred());
  }

  private preferred(): Transport {
    const t = this.options.transport ?? 'auto';
    if (t === 'sse' || (t === 'auto' && typeof WebSocket === 'undefined')) return 'sse';
    return 'websocket';
  }

  private url(path: string): string {
    const u = new URL(path, this.base + '/');
    if (this.topicSet.size > 0) u.searchParams.set('topics', [...this.topicSet].join(','));
    if (this.lastEventId) u.searchParams.set('since', this.lastEventId);
    if (this.options.token) u.searchParams.set('token', this.options.token);
    return u.toString();
  }

  private open(transport: Transport): void {
    this.timer = undefined;
    this.currentTransport = transport;
    this.setState({ state: this.attempt === 0 && this.current !== 'reconnecting' ? 'connecting' : 'reconnecting', transport, attempt: this.attempt });
    if (transport === 'sse') this.openSse();
    else this.openWs();
  }

  private openWs(): void {
    const u = this.url('v1/stream').replace(/^http/, 'ws');
    let ws: WebSocket;
    try {
      ws = new WebSocket(u);
    } catch {
      return this.failed('websocket', false, 'WebSocket refused');
    }
    this.ws = ws;
    let opened = false;
    this.awaitServed(() => {
      if (this.ws !== ws) return;
      this.teardown();
      this.failed('websocket', false, this.notServed());
    });
    ws.onopen = () => {
      opened = true;
      this.served();
    };
    ws.onmessage = (m) => this.frame(typeof m.data === 'string' ? m.data : '');
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.served();
      // 4001: the credential is bad or expired; retrying cannot help.
      if (e.code === 4001) return this.stop(`credential refused (${e.reason || 4001})`);
      this.failed('websocket', opened, `closed ${e.code}${e.reason ? ': ' + e.reason : ''}`);
    };
  }

  private openSse(): void {
    if (typeof EventSource === 'undefined') return this.failed('sse', false, 'EventSource unavailable');
    const es = new EventSource(this.url('v1/events'));
    this.es = es;
    const onData = (m: MessageEvent) => this.frame(String(m.data));
    for (const t of SSE_TYPES) es.addEventListener(t, onData as EventListener);
    es.onmessage = onData;
    this.awaitServed(() => {
      if (this.es !== es) return;
      this.teardown();
      this.failed('sse', false, this.notServed());
    });
    es.onopen = () => {
      if (this.es !== es) return;
      this.served();
      // SSE has no welcome frame to wait for: the stream is open once headers arrive.
      if (this.current !== 'open') this.opened('sse');
    };
    es.onerror = () => {
      if (this.es !== es) return;
      this.served();
      // EventSource would retry on its own, from its own Last-Event-ID and
      // without backoff; this client owns reconnection instead.
      const wasOpen = this.current === 'open';
      es.close();
      this.es = undefined;
      this.failed('sse', wasOpen, 'event stream ended');
    };
  }

  /** `reached`: the transport itself worked (the WebSocket opened, the event stream started). */
  private failed(transport: Transport, reached: boolean, reason: string): void {
    if (!this.wanted) return;
    // A WebSocket that never opened is retried at once over SSE: the
    // network may refuse upgrades. If SSE fails too, back off and try both.
    if (transport === 'websocket' && !reached && (this.options.transport ?? 'auto') === 'auto') {
      this.open('sse');
      return;
    }
    // Only a connection that got as far as being served resets the backoff.
    if (this.current === 'open') this.attempt = 0;
    const delayMs = backoffDelay(this.attempt, this.options);
    this.attempt++;
    this.setState({ state: 'reconnecting', transport, attempt: this.attempt, delayMs, reason });
    this.timer = setTimeout(() => this.open(this.preferred()), delayMs);
  }

  private stop(reason: string): void {
    this.wanted = false;
    this.teardown();
    this.setState({ state: 'closed', transport: this.currentTransport, attempt: this.attempt, reason });
  }

  private awaitServed(onTimeout: () => void): void {
    this.served();
    this.handshakeTimer = setTimeout(onTimeout, handshakeTimeout(this.options.handshakeTimeoutMs));
  }

  private served(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  private notServed(): string {
    return `not served within ${handshakeTimeout(this.options.handshakeTimeoutMs)} ms`;
  }

  private teardown(): void {
    this.served();
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    }
    this.es?.close();
    this.es = undefined;
  }

  private opened(transport: Transport): void {
    this.attempt = 0;
    this.setState({ state: 'open', transport, attempt: 0 });
  }

  private frame(text: string): void {
    let f: { type?: string; eventId?: string };
    try {
      f = JSON.parse(text) as { type?: string };
    } catch {
      return;
    }
    const type = f.type;
    if (type === 'welcome') {
      this.opened(this.currentTransport ?? 'websocket');
      this.emit('welcome', f as WelcomeFrame);
      return;
    }
    if ((EVENT_TYPES as readonly string[]).includes(type ?? '')) {
      const id = f.eventId;
      if (!isEventId(id)) return;
      // Event ids only grow: anything at or below the last one was shown already.
      if (this.lastEventId && compareEventIds(id, this.lastEventId) <= 0) return;
      this.lastEventId = id;
      this.emit(type as 'alert', f as AlertFrame);
      if (this.options.ack && this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'ack', eventId: id }));
      return;
    }
    if (type === 'resync') {
      // The old cursor cannot be honoured: keeping it would drop every live
      // event at or below it. Forget it; the next event delivered sets it.
      this.lastEventId = undefined;
      this.emit('resync', f as ResyncFrame);
      return;
    }
    if (type === 'error' || type === 'subscribed' || type === 'unsubscribed') this.emit(type, f as never);
  }

  private setState(s: StateEvent): void {
    this.current = s.state;
    this.emit('state', s);
  }

  private emit<K extends keyof ClientEvents>(type: K, event: ClientEvents[K]): void {
    for (const fn of [...(this.listeners.get(type) ?? [])]) {
      try {
        (fn as Listener<ClientEvents[K]>)(event);
      } catch (err) {
        // One failing listener must not stop the stream for the others.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }
}
