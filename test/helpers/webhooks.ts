/** Small helpers for the webhook tests: an admin key and the management calls. */
import IORedis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { Keys } from '../../src/redis/keys';
import { FIXTURE, postAlert } from './clients';

export async function createAdminKey(redisUrl: string, prefix: string, name = 'ops'): Promise<string> {
  const conn = new IORedis(redisUrl);
  try {
    return (await new ApiKeyStore(conn, new Keys(prefix)).create(name, ['admin'])).secret;
  } finally {
    conn.disconnect();
  }
}

export interface WebhookApi {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  create(url: string, topics: string[], description?: string): Promise<{ id: string; secret: string }>;
  get(id: string): Promise<any>;
}

export function webhookApi(baseUrl: string, adminKey: string): WebhookApi {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { Authorization: `Bearer ${adminKey}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    call,
    create: async (url, topics, description) => {
      const r = await call('POST', '/v1/webhooks', { url, topics, ...(description ? { description } : {}) });
      if (r.status !== 201) throw new Error(`create webhook: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as { id: string; secret: string };
    },
    get: async (id) => (await call('GET', `/v1/webhooks/${id}`)).body,
  };
}

/** Posts an alert on `topic` and returns its id. */
export async function postOn(baseUrl: string, topic: string, headline: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await postAlert(baseUrl, { ...FIXTURE, topics: [topic], headline, ...extra });
  if (r.status !== 202) throw new Error(`post: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}
