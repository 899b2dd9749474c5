/**
 * The preamble most integration files share: one real redis-server for the
 * file and one plain client on it, both closed after the file's last test.
 * Each test still makes its own service (and so its own key prefix).
 */
import IORedis from 'ioredis';
import { startRedis } from './redis';

export interface RedisForFile {
  readonly redis: Awaited<ReturnType<typeof startRedis>>;
  readonly client: IORedis;
}

export function redisForFile(options: Parameters<typeof startRedis>[0] = {}): RedisForFile {
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  let client: IORedis | undefined;
  beforeAll(async () => {
    redis = await startRedis(options);
    client = new IORedis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.cleanup();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('redisForFile: Redis is only there inside the tests');
    return v;
  };
  return {
    get redis() {
      return started(redis);
    },
    get client() {
      return started(client);
    },
  };
}
