/**
 * One webhook call: a POST with the Standard Webhooks headers, through the
 * SSRF-guarded lookup, never following a redirect (a 3xx is a failure),
 * given up after the timeout, and reading at most 4 KiB of the answer.
 */
import http from 'node:http';
import https from 'node:https';
import { guardedLookup, systemLookup, UnsafeAddressError, type LookupAll } from './ssrf';

const MAX_RESPONSE_BYTES = 4096;

export interface CallResult {
  /** The HTTP status, when one arrived. */
  status?: number;
  /** Why no status arrived: `timeout`, `blocked` (SSRF guard) or a network error. */
  error?: string;
  /** Seconds the receiver asked to wait (Retry-After), if any. */
  retryAfterSeconds?: number;
  ms: number;
}

export interface SenderOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  lookup?: LookupAll;
}


/** Retry-After as seconds: a delay or an HTTP date. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

export class WebhookSender {
  private readonly lookup: ReturnType<typeof guardedLookup>;
  // Keep-alive: a busy endpoint reuses its connection (already checked at connect).
  private readonly agents = { http: new http.Agent({ keepAlive: true, maxSockets: 4 }), https: new https.Agent({ keepAlive: true, maxSockets: 4 }) };

  constructor(private readonly options: SenderOptions) {
    this.lookup = guardedLookup(options.allowPrivate, options.lookup ?? systemLookup);
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  call(url: string, headers: Record<string, string>, body: string): Promise<CallResult> {
    const started = Date.now();
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    return new Promise<CallResult>((resolve) => {
      let done = false;
      const finish = (r: Omit<CallResult, 'ms'>) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ ...r, ms: Date.now() - started });
      };
      const req = mod.request(
        u,
        {
          method: 'POST',
          agent: u.protocol === 'https:' ? this.agents.https : this.agents.http,
          lookup: this.lookup as unknown as http.RequestOptions['lookup'],
          headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Flashwire-Webhooks/1', ...headers },
        },
        (res) => {
          let read = 0;
          const status = res.statusCode ?? 0;
          const retryAfterSeconds = parseRetryAfter(res.headers['retry-after'] as string | undefined);
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read >= MAX_RESPONSE_BYTES) {
              // Enough: the status is what counts; drop the rest unread.
              res.destroy();
              finish({ status, retryAfterSeconds });
            }
          });
          res.on('end', () => finish({ status, retryAfterSeconds }));
          res.on('error', () => finish({ status, retryAfterSeconds }));
          res.on('close', () => finish({ status, retryAfterSeconds }));
        },
      );
      const timer = setTimeout(() => {
        finish({ error: 'timeout' });
        req.destroy();
      }, this.options.timeoutMs);
      req.on('error', (err) => finish({ error: err instanceof UnsafeAddressError || err.name === 'UnsafeAddressError' ? 'blocked' : ((err as NodeJS.ErrnoException).code ?? 'network').toLowerCase() }));
      req.end(body);
    });
  }
}
