import { randomBytes } from 'node:crypto';
import { loadSettings, type Settings } from '../../config/settings';

export const PUBLISH_KEY = 'test-publish-key-0123456789abcdef';
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';

/** A key prefix no other test uses, so tests cannot leak into each other. */
export function uniquePrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** Environment for a test service: a unique prefix, a free port, quiet logs. */
export function testEnv(redisUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    FLASHWIRE_PREFIX: uniquePrefix(),
    FLASHWIRE_PUBLISH_KEY: PUBLISH_KEY,
    FLASHWIRE_JWT_SECRET: JWT_SECRET,
    FLASHWIRE_LOG_LEVEL: 'silent',
    FLASHWIRE_JOB_LOCK_MS: '2000',
    FLASHWIRE_STALLED_INTERVAL_MS: '1000',
    ...overrides,
  };
}

export function testSettings(redisUrl: string, overrides: Record<string, string> = {}): Settings {
  return loadSettings(testEnv(redisUrl, overrides));
}
