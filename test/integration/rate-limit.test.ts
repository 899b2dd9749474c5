/**
 * Publish rate limits per key (the contract: 429 with Retry-After), counted in
 * Redis so they hold across API processes.
 */
import IORedis from 'ioredis';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { Keys } from '../../src/redis/keys';
import { postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

describe('publish rate limit', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('allows FLASHWIRE_PUBLISH_RATE_PER_MINUTE per key across two API processes, then answers 429 with Retry-After', async () => {
    const prefix = uniquePrefix();
    const env = { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api', FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '5' };
    const [a, b] = await Promise.all([startService(redis.url, env), startService(redis.url, env)]);
    const client = new IORedis(redis.url);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await postAlert((i % 2 ? a : b).url, { headline: `r${i}`, topics: ['world'] })).status);
      expect(statuses).toEqual([202, 202, 202, 202, 202]);
      const over = await postAlert(a.url, { headline: 'one too many', topics: ['world'] });
      expect(over.status).toBe(429);
      expect(over.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const retryAfter = Number(over.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(over.body).toMatchObject({ status: 429, type: expect.stringContaining('rate-limited') });
      expect((await postAlert(b.url, { headline: 'still too many', topics: ['world'] })).status).toBe(429);
      // Nothing was created for the refused requests.
      expect((await client.keys(`${prefix}:alert:*`)).length).toBe(5);

      // The limit is per key: another key publishes freely.
      const { secret } = await new ApiKeyStore(client, new Keys(prefix)).create('other-desk', ['publish']);
      expect((await postAlert(a.url, { headline: 'other key', topics: ['world'] }, { Authorization: `Bearer ${secret}` })).status).toBe(202);

      // When the window ends the key may publish again.
      const windowKey = (await client.keys(`${prefix}:rate:env:*`))[0]!;
      await client.pexpire(windowKey, 1);
      await new Promise((r) => setTimeout(r, 20));
      expect((await postAlert(a.url, { headline: 'new window', topics: ['world'] })).status).toBe(202);
    } finally {
      client.disconnect();
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
