/**
 * The canary (FLASHWIRE_CANARY_SECONDS): every so often this process posts
 * a routine alert on `private/flashwire-canary` to its own API over HTTP and
 * waits for it on its own gateway over a WebSocket, so the figure covers the
 * whole path: API, record, feed (through the queue and worker, or sent by
 * the accept itself), gateway, socket. Its
 * end-to-end time is the `flashwire_canary_seconds` gauge.
 *
 * The topic is private, so no reader without a grant for it ever receives
 * it (`*` never covers private topics); the canary reads it with a key that
 * exists only inside this process. It runs where the api and gateway roles
 * share a process (the default, or one such process in a split install).
 */
import WebSocket from 'ws';
import type { Logger } from 'pino';
import type { ApiKeyStore } from '../auth/api-keys';
import { metrics } from '../metrics/metrics';

const CANARY_TOPIC = 'private/flashwire-canary';
const CANARY_KEY_NAME = 'flashwire-canary';

export interface CanaryOptions {
  /** Base URL of this process, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  everySeconds: number;
  apiKeys: ApiKeyStore;
  log: Logger;
}

export class Canary {
  private readonly secret: string;
  private timer: NodeJS.Timeout | undefined;
  private ws: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  /** Alert id -> when its POST started, for canaries still on their way. */
  private readonly inFlight = new Map<string, number>();
  /**
   * Alert id -> when it arrived, for canaries that reached the reader before
   * their POST was answered: an alert the accept sends itself can.
   */
  private readonly early = new Map<string, number>();
  private stopped = false;
  private round: Promise<void> = Promise.resolve();

  constructor(private readonly o: CanaryOptions) {
    this.secret = o.apiKeys.processKey(CANARY_KEY_NAME, ['publish', 'subscribe']);
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.tick(), this.o.everySeconds * 1000);
    this.timer.unref();
    this.tick();
  }

  /** One canary now (the timer calls this); resolves once it is posted. */
  tick(): Promise<void> {
    this.round = this.round.then(() => this.send()).catch((err: unknown) => this.o.log.warn({ err: String(err) }, 'canary failed'));
    return this.round;
  }

  private async send(): Promise<void> {
    if (this.stopped) return;
    // Canaries older than two rounds are lost; say so once and forget them.
    const now = Date.now();
    for (const [id, at] of this.inFlight) {
      if (now - at < 2 * this.o.everySeconds * 1000) continue;
      this.inFlight.delete(id);
      this.o.log.warn({ alertId: id }, 'canary alert never arrived');
    }
    // Arrivals no POST of this process claimed (another process's canary) are forgotten.
    for (const [id, at] of this.early) if (now - at >= 2 * this.o.everySeconds * 1000) this.early.delete(id);
    await this.reader();
    const startedAt = Date.now();
    const res = await fetch(`${this.o.baseUrl}/v1/alerts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.secret}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        headline: `Flashwire canary ${new Date(startedAt).toISOString()}`,
        topics: [CANARY_TOPIC],
        priority: 'routine',
        // A canary is news for nobody: never replayed once its round is over.
        expiresAt: new Date(startedAt + Math.max(60, 2 * this.o.everySeconds) * 1000).toISOString(),
      }),
    });
    const body = (await res.json().catch(() => ({}))) as { id?: string; status?: string; detail?: string };
    if (res.status !== 202 || !body.id) throw new Error(`canary POST answered ${res.status}: ${body.detail ?? ''}`);
    if (body.status === 'pending_approval') this.o.log.warn('canary alert waits for approval: leave routine out of FLASHWIRE_APPROVAL_PRIORITIES');
    const arrivedAt = this.early.get(body.id);
    if (arrivedAt === undefined) {
      this.inFlight.set(body.id, startedAt);
      return;
    }
    this.early.delete(body.id);
    this.arrived(body.id, startedAt, arrivedAt);
  }

  private arrived(id: string, startedAt: number, arrivedAt: number): void {
    metrics.canarySeconds.set((arrivedAt - startedAt) / 1000);
    metrics.canaryLastSuccess.set(arrivedAt / 1000);
    this.o.log.debug({ alertId: id, ms: arrivedAt - startedAt }, 'canary arrived');
  }

  /** The canary's own reader on this process's gateway, opened once and reopened when lost. */
  private reader(): Promise<WebSocket> {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return Promise.resolve(this.ws);
    this.opening ??= new Promise<WebSocket>((resolve, reject) => {
      const url = `${this.o.baseUrl.replace(/^http/, 'ws')}/v1/stream?topics=${encodeURIComponent(CANARY_TOPIC)}`;
      const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${this.secret}` } });
      ws.on('message', (data) => this.onFrame(String(data), ws, resolve));
      ws.once('error', (err) => reject(err));
      ws.once('close', () => {
        if (this.ws === ws) this.ws = undefined;
        reject(new Error('canary reader closed'));
      });
    }).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private onFrame(text: string, ws: WebSocket, opened: (ws: WebSocket) => void): void {
    let f: { type?: string; alert?: { id?: string } };
    try {
      f = JSON.parse(text) as typeof f;
    } catch {
      return;
    }
    if (f.type === 'welcome') {
      this.ws = ws;
      opened(ws);
      return;
    }
    const id = f.type === 'alert' ? f.alert?.id : undefined;
    if (id === undefined) return;
    const startedAt = this.inFlight.get(id);
    if (startedAt === undefined) {
      this.early.set(id, Date.now());
      return;
    }
    this.inFlight.delete(id);
    this.arrived(id, startedAt, Date.now());
  }

  /** Stops the timer and closes the reader; idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
    this.ws?.terminate();
    this.ws = undefined;
  }
}
