import { loadSettings, SettingsError, SETTINGS } from '../../config/settings';

describe('settings', () => {
  it('has a default, unit and reason for every setting', () => {
    for (const [name, spec] of Object.entries(SETTINGS)) {
      expect({ name, unit: spec.unit.length > 0, why: spec.why.length > 10 }).toEqual({ name, unit: true, why: true });
    }
  });

  it('uses the documented defaults with an empty environment', () => {
    const s = loadSettings({});
    expect(s.PORT).toBe(8080);
    expect(s.REDIS_URL).toBeUndefined();
    expect(s.FLASHWIRE_ROLES).toEqual(['api', 'worker', 'gateway']);
    expect(s.FLASHWIRE_PUBLISH_KEY).toBeUndefined();
    expect(s.FLASHWIRE_JWT_SECRET).toBeUndefined();
    expect(s.FLASHWIRE_FEED_RETENTION_SECONDS).toBeGreaterThanOrEqual(24 * 3600);
    expect(s.FLASHWIRE_ALLOWED_ORIGINS).toEqual([]);
  });

  it('takes write threads as auto or a number', () => {
    expect(loadSettings({}).FLASHWIRE_GATEWAY_WRITE_THREADS).toBe('auto');
    expect(loadSettings({ FLASHWIRE_GATEWAY_WRITE_THREADS: '0' }).FLASHWIRE_GATEWAY_WRITE_THREADS).toBe(0);
    expect(loadSettings({ FLASHWIRE_GATEWAY_WRITE_THREADS: ' 2 ' }).FLASHWIRE_GATEWAY_WRITE_THREADS).toBe(2);
  });

  it('parses roles as a comma list and drops repeats', () => {
    expect(loadSettings({ FLASHWIRE_ROLES: 'gateway, api,gateway' }).FLASHWIRE_ROLES).toEqual(['gateway', 'api']);
  });

  it.each([
    ['PORT', 'abc', /PORT: must be a whole number/],
    ['PORT', '70000', /PORT: must be at most 65535/],
    ['FLASHWIRE_ROLES', 'api,cache', /FLASHWIRE_ROLES: must be a comma list of api, worker, gateway/],
    ['FLASHWIRE_ROLES', ',', /FLASHWIRE_ROLES: must name at least one/],
    ['REDIS_URL', 'localhost:6379', /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
    ['FLASHWIRE_JWT_SECRET', 'short', /FLASHWIRE_JWT_SECRET: must be at least 32 characters/],
    ['FLASHWIRE_HEARTBEAT_MS', '10', /FLASHWIRE_HEARTBEAT_MS: must be at least 1000/],
    ['FLASHWIRE_LOG_LEVEL', 'loud', /FLASHWIRE_LOG_LEVEL: must be one of/],
    ['FLASHWIRE_ALLOWED_ORIGINS', 'news.example', /FLASHWIRE_ALLOWED_ORIGINS: must be a comma list of origins/],
    ['FLASHWIRE_GATEWAY_WRITE_THREADS', 'many', /FLASHWIRE_GATEWAY_WRITE_THREADS: must be auto or a whole number between 0 and 16/],
    ['FLASHWIRE_GATEWAY_WRITE_THREADS', '17', /FLASHWIRE_GATEWAY_WRITE_THREADS: must be auto or a whole number between 0 and 16/],
  ])('rejects %s=%s with one line naming it', (name, value, message) => {
    let err: unknown;
    try {
      loadSettings({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    expect((err as SettingsError).variable).toBe(name);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });
});
