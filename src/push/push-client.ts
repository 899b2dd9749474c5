/**
 * Sends one push message to a push service (RFC 8030 section 5) over a
 * kept-alive connection, at most `concurrency` at once per push-service
 * origin: a fan-out to a million browsers is mostly a few origins (FCM,
 * Mozilla, Apple), and each gets a steady pipe rather than a storm.
 */
import http from 'node:http';
import https from 'node:https';
import { encryptPayload, type SubscriptionKeys } from './encryption';
import { publicOnlyLookup } from './endpoint';
import type { PreparedPush } from './message';
import type { VapidSigner } from './vapid';

export interface PushResult {
  /** The push service's HTTP status; 0 when no answer came (connection refused, timeout). */
  status: number;
  /** From Retry-After, when the service sent one. */
  retryAfterMs?: number;
  error?: string;
}

export interface PushClientOptions {
  signer: VapidSigner;
  concurrencyPerOrigin: number;
  allowPrivate: boolean;
  /** How long one request may take. */
  timeoutMs?: number;
}

/** Retry-After as seconds or an HTTP date, in ms from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A counting semaphore: run() waits for a free slot. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

interface Origin {
  agent: http.Agent;
  limiter: Limiter;
}

export class PushClient {
  private readonly origins = new Map<string, Origin>();
  private readonly timeoutMs: number;

  constructor(private readonly options: PushClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  private origin(url: URL): Origin {
    let o = this.origins.get(url.origin);
    if (!o) {
      const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets: this.options.concurrencyPerOrigin, scheduling: 'lifo' };
      if (!this.options.allowPrivate) agentOptions.lookup = publicOnlyLookup as unknown as https.AgentOptions['lookup'];
      o = { agent: url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions), limiter: new Limiter(this.options.concurrencyPerOrigin) };
      this.origins.set(url.origin, o);
    }
    return o;
  }

  /** Encrypts and sends; never throws for what the push service or the network does. */
  send(endpoint: string, keys: SubscriptionKeys, push: PreparedPush): Promise<PushResult> {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return Promise.resolve({ status: 0, error: 'bad endpoint URL' });
    }
    const o = this.origin(url);
    return o.limiter.run(() => this.request(url, o.agent, keys, push));
  }

  private request(url: URL, agent: http.Agent, keys: SubscriptionKeys, push: PreparedPush): Promise<PushResult> {
    let body: Buffer;
    try {
      body = encryptPayload(push.payload, keys);
    } catch (err) {
      return Promise.resolve({ status: 0, error: `cannot encrypt for this subscription: ${(err as Error).message}` });
    }
    const headers = {
      'Content-Type': 'application/octet-stream',
      'Content-Encoding': 'aes128gcm',
      'Content-Length': String(body.length),
      Authorization: this.options.signer.authorization(url),
      TTL: push.headers.TTL,
      Urgency: push.headers.Urgency,
      Topic: push.headers.Topic,
    };
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<PushResult>((resolve) => {
      const req = mod.request(url, { method: 'POST', agent, headers, timeout: this.timeoutMs }, (res) => {
        // The answer's body is not needed; reading it lets the socket go back to the pool.
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfterMs: parseRetryAfter(res.headers['retry-after']) }));
        res.on('error', (err) => resolve({ status: res.statusCode ?? 0, error: err.message }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer in ${this.timeoutMs} ms`)));
      req.on('error', (err) => resolve({ status: 0, error: err.message }));
      req.end(body);
    });
  }

  /** Closes every kept-alive connection; idempotent. */
  close(): void {
    for (const o of this.origins.values()) o.agent.destroy();
    this.origins.clear();
  }
}
