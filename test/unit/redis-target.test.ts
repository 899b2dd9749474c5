import path from 'node:path';
import { redisChoice } from '../../src/redis/target';
import { TopologyError } from '../../src/redis/topology';

const base = { REDIS_URL: undefined, REDIS_SENTINELS: undefined, REDIS_SENTINEL_NAME: 'mymaster', REDIS_CLUSTER_NODES: undefined, REDIS_PASSWORD: undefined, FLASHWIRE_PREFIX: 'fw', FLASHWIRE_DATA_DIR: 'data' };

describe('which Redis the settings mean (the service and the CLI alike)', () => {
  it('is the private server in FLASHWIRE_DATA_DIR when no Redis is named', () => {
    const dir = path.resolve('data');
    expect(redisChoice(base)).toEqual({ kind: 'private', dir, target: { path: path.join(dir, 'redis.sock') } });
  });

  it('is REDIS_URL, Sentinel or Cluster when one is named', () => {
    expect(redisChoice({ ...base, REDIS_URL: 'redis://r:6379' })).toEqual({ kind: 'external', target: { url: 'redis://r:6379' } });
    expect(redisChoice({ ...base, REDIS_SENTINELS: ['s1:26379'] } as never)).toMatchObject({ kind: 'external', target: { sentinels: [{ host: 's1', port: 26379 }], name: 'mymaster' } });
    expect(redisChoice({ ...base, REDIS_CLUSTER_NODES: ['n1:7000'], FLASHWIRE_PREFIX: '{fw}' } as never)).toMatchObject({ kind: 'external', target: { cluster: [{ host: 'n1', port: 7000 }] } });
  });

  it('refuses two at once', () => {
    expect(() => redisChoice({ ...base, REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: ['s1:26379'] } as never)).toThrow(TopologyError);
  });
});
