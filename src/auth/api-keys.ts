/**
 * API keys, stored hashed in Redis. Keys are 256 random bits, so a plain
 * SHA-256 is a sound hash (no need for a slow password hash), and lookups
 * stay one HGET per request — which is also why revocation takes effect at
 * once in every process. The one exception is POST /v1/alerts, which keeps
 * what it looked up (authenticateCached) because its write re-checks the
 * stored key in the same script: a revoked key is refused there.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys';
import { runScript } from '../redis/scripts';
import { SCOPES, type KeyPrincipal, type Scope } from './principal';

export interface StoredKey {
  name: string;
  scopes: Scope[];
  createdAt: string;
}

const KEY_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Keys kept by authenticateCached; past this many the oldest go first. */
const CACHED_KEYS_MAX = 10_000;

export interface CachedKey {
  principal: KeyPrincipal;
  /**
   * The stored JSON as read ('' for a key never stored): a later check
   * compares it, so a changed record counts as revoked and a cached scope
   * can never outlive a change to the key.
   */
  stored: string;
}

/** The name under which FLASHWIRE_PUBLISH_KEY publishes. */
const ENV_KEY_NAME = 'env';

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function newSecret(): string {
  return 'fw_' + randomBytes(32).toString('base64url');
}

export function parseScopes(raw: string): Scope[] {
  const list = [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))];
  const bad = list.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad.length || list.length === 0) throw new Error(`scopes must be a comma list of ${SCOPES.join(', ')} (got ${JSON.stringify(raw)})`);
  return list as Scope[];
}

export class ApiKeyStore {
  private readonly envHash: Buffer | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    envPublishKey?: string,
  ) {
    this.envHash = envPublishKey ? Buffer.from(hashSecret(envPublishKey), 'hex') : undefined;
  }

  /** Keys this process made for itself (the canary), never stored: hash -> principal. */
  private readonly processKeys = new Map<string, KeyPrincipal>();

  /** A fresh key accepted by this process only, for as long as it runs. */
  processKey(name: string, scopes: Scope[]): string {
    const secret = newSecret();
    this.processKeys.set(hashSecret(secret), { kind: 'key', name, scopes });
    return secret;
  }

  /** The principal for a bearer secret, or undefined when it is not a key. */
  async authenticate(secret: string): Promise<KeyPrincipal | undefined> {
    const h = hashSecret(secret);
    return this.unstored(h) ?? (await this.lookup(h))?.principal;
  }

  /** The process's own keys and FLASHWIRE_PUBLISH_KEY: never stored, never revoked. */
  private unstored(h: string): KeyPrincipal | undefined {
    const own = this.processKeys.get(h);
    if (own) return own;
    if (this.envHash && timingSafeEqual(Buffer.from(h, 'hex'), this.envHash)) {
      return { kind: 'key', name: ENV_KEY_NAME, scopes: ['publish'] };
    }
    return undefined;
  }

  private async lookup(h: string): Promise<CachedKey | undefined> {
    // Lookup by hash: the secret itself never reaches Redis.
    const raw = await this.redis.hget(this.keys.apiKeys, h);
    if (!raw) return undefined;
    const k = JSON.parse(raw) as StoredKey;
    return { principal: { kind: 'key', name: k.name, scopes: k.scopes, keyHash: h }, stored: raw };
  }

  private readonly cached = new Map<string, CachedKey>();

  /**
   * As authenticate, but a stored key is looked up in Redis only the first
   * time. Only for a caller whose write re-checks the key in the same
   * round trip (against `stored`) or that calls stillValid before
   * answering: the cache alone would outlive a revocation.
   */
  async authenticateCached(secret: string): Promise<CachedKey | undefined> {
    const hit = this.cachedOnly(secret);
    if (hit) return hit;
    const h = hashSecret(secret);
    const found = await this.lookup(h);
    if (!found) return undefined;
    if (this.cached.size >= CACHED_KEYS_MAX) this.cached.delete(this.cached.keys().next().value!);
    this.cached.set(h, found);
    return found;
  }

  /** As authenticateCached without Redis: undefined for a key this process has not read yet. */
  cachedOnly(secret: string): CachedKey | undefined {
    const h = hashSecret(secret);
    const hit = this.cached.get(h);
    if (hit) return hit;
    const own = this.unstored(h);
    return own && { principal: own, stored: '' };
  }

  /** Whether a key from authenticateCached is still stored as it was read; a revoked one leaves the cache. */
  async stillValid(key: CachedKey): Promise<boolean> {
    const h = key.principal.keyHash;
    if (!h) return true;
    if ((await this.redis.hget(this.keys.apiKeys, h)) === key.stored) return true;
    this.forget(h);
    return false;
  }

  /** Drops a key from the cache: a check found it revoked. */
  forget(keyHash: string): void {
    this.cached.delete(keyHash);
  }

  /** Which of these key hashes (from principals' `keyHash`) are still stored, i.e. not revoked. */
  async stillStored(hashes: readonly string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const found = await this.redis.hmget(this.keys.apiKeys, ...hashes);
    return new Set(hashes.filter((_h, i) => found[i] !== null));
  }

  /** Creates a key; the secret is returned here and never stored. */
  async create(name: string, scopes: Scope[]): Promise<{ secret: string; key: StoredKey }> {
    if (!KEY_NAME_PATTERN.test(name)) throw new Error('a key name is 1-64 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit');
    if (name === ENV_KEY_NAME) throw new Error(`"${ENV_KEY_NAME}" is reserved for FLASHWIRE_PUBLISH_KEY`);
    const secret = newSecret();
    const h = hashSecret(secret);
    const key: StoredKey = { name, scopes, createdAt: new Date().toISOString() };
    const created = await runScript(this.redis, 'createApiKey', [this.keys.apiKeyNames, this.keys.apiKeys], [name, h, JSON.stringify(key)]);
    if (created !== 1) throw new Error(`a key named "${name}" already exists`);
    return { secret, key };
  }

  async list(): Promise<StoredKey[]> {
    const all = await this.redis.hvals(this.keys.apiKeys);
    return all.map((v) => JSON.parse(v) as StoredKey).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Revokes a key by name; resolves false when there is none. */
  async revoke(name: string): Promise<boolean> {
    const h = await this.redis.hget(this.keys.apiKeyNames, name);
    if (!h) return false;
    await this.redis.multi().hdel(this.keys.apiKeys, h).hdel(this.keys.apiKeyNames, name).publish(this.keys.revocations, name).exec();
    return true;
  }

  async count(): Promise<number> {
    return this.redis.hlen(this.keys.apiKeys);
  }
}
