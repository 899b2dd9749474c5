/**
 * A small typed client for the HTTP API (post, read, list, correct,
 * retract, feed), used by the CLI and exported for Node integrators. It
 * takes the same options as AlertStream (`{ url, key }`). Every failure is
 * a FlashwireApiError carrying the problem document, or `status` 0 when the
 * service could not be reached at all.
 */
import { serviceUrl, type ConnectionOptions } from './alert-stream';
import type { AlertDraft, AlertPatch, AlertResource, AlertStatus, EventFrame } from './types';

export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemDocument {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
}

export class FlashwireApiError extends Error {
  constructor(
    /** HTTP status, or 0 when the service could not be reached. */
    readonly status: number,
    readonly problem: ProblemDocument,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'FlashwireApiError';
  }
}

export interface FeedPage {
  events: EventFrame[];
  next: string | null;
}

export interface AlertPage {
  /** Newest first. */
  alerts: AlertResource[];
  /** Pass as `after` for the next (older) page; null when there is none. */
  next: string | null;
}

export type FlashwireApiOptions = ConnectionOptions;

export class FlashwireApi {
  readonly baseUrl: string;
  private readonly key: string | undefined;

  /** `new FlashwireApi({ url, key })`: the same options object as AlertStream. */
  constructor(options: FlashwireApiOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('FlashwireApi takes an options object: new FlashwireApi({ url, key })');
    this.baseUrl = serviceUrl(options.url).toString().replace(/^ws/, 'http');
    this.key = options.key;
  }

  send(alert: AlertDraft, options: { idempotencyKey?: string } = {}): Promise<AlertResource> {
    return this.request('POST', '/v1/alerts', alert, options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {});
  }

  get(id: string): Promise<AlertResource> {
    return this.request('GET', `/v1/alerts/${encodeURIComponent(id)}`);
  }

  correct(id: string, patch: AlertPatch): Promise<AlertResource> {
    return this.request('PATCH', `/v1/alerts/${encodeURIComponent(id)}`, patch);
  }

  retract(id: string, reason: string): Promise<AlertResource> {
    return this.request('POST', `/v1/alerts/${encodeURIComponent(id)}/retract`, { reason });
  }

  /** A second editor approves an alert waiting for approval (key with the `approve` scope). */
  approve(id: string): Promise<AlertResource> {
    return this.request('POST', `/v1/alerts/${encodeURIComponent(id)}/approve`);
  }

  /** Rejects an alert waiting for approval: it is never sent. */
  reject(id: string, reason: string): Promise<AlertResource> {
    return this.request('POST', `/v1/alerts/${encodeURIComponent(id)}/reject`, { reason });
  }

  /** Alerts newest first, filtered by status and topic; page on with `after: page.next`. */
  list(query: { status?: AlertStatus; topic?: string; limit?: number; after?: string } = {}): Promise<AlertPage> {
    const q = new URLSearchParams();
    if (query.status) q.set('status', query.status);
    if (query.topic) q.set('topic', query.topic);
    if (query.limit) q.set('limit', String(query.limit));
    if (query.after) q.set('after', query.after);
    const qs = q.toString();
    return this.request('GET', `/v1/alerts${qs ? '?' + qs : ''}`);
  }

  feed(query: { topics?: string[]; after?: string; limit?: number } = {}): Promise<FeedPage> {
    const q = new URLSearchParams();
    if (query.topics?.length) q.set('topics', query.topics.join(','));
    if (query.after) q.set('after', query.after);
    if (query.limit) q.set('limit', String(query.limit));
    const qs = q.toString();
    return this.request('GET', `/v1/feed${qs ? '?' + qs : ''}`);
  }

  private async request<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    if (this.key) headers.Authorization = `Bearer ${this.key}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new FlashwireApiError(0, { title: 'Unreachable', detail: `cannot reach ${this.where()}: ${cause?.code ?? cause?.message ?? (err as Error).message}` });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const problem = (parsed && typeof parsed === 'object' ? parsed : { detail: text.slice(0, 200) || res.statusText }) as ProblemDocument;
      throw new FlashwireApiError(res.status, problem);
    }
    return parsed as T;
  }

  /** The address without any user:password part, fit for messages. */
  private where(): string {
    const u = new URL(this.baseUrl);
    u.username = '';
    u.password = '';
    return u.origin;
  }
}
