/**
 * VAPID (RFC 8292): who we are to push services. One P-256 key pair for the
 * whole install, made on first start and kept in Redis so every process
 * (and every restart) signs with the same key the browsers subscribed with;
 * or given by settings. Tokens are ES256 JWTs, one per push-service origin,
 * reused until close to their expiry: signing per message would cost an
 * ECDSA signature per subscription for nothing.
 */
import { createECDH, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys';

export interface VapidKeyPair {
  /** Uncompressed P-256 public key, base64url (65 bytes): the browser's applicationServerKey. */
  publicKey: string;
  /** The private scalar, base64url (32 bytes). */
  privateKey: string;
}

export class VapidKeyError extends Error {}

/** A fresh key pair. */
export function generateVapidKeys(): VapidKeyPair {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  // getPrivateKey drops leading zero bytes (one key in 256): a JWK's `d` is always 32.
  const d = ecdh.getPrivateKey();
  const scalar = Buffer.concat([Buffer.alloc(32 - d.length), d]);
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: scalar.toString('base64url') };
}

/** Checks that the private key is a P-256 scalar whose public key is the one given. */
export function checkVapidKeys(pair: VapidKeyPair): VapidKeyPair {
  const d = Buffer.from(pair.privateKey, 'base64url');
  if (d.length !== 32) throw new VapidKeyError('the VAPID private key must be 32 bytes, base64url');
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(d);
  } catch {
    throw new VapidKeyError('the VAPID private key is not a valid P-256 key');
  }
  if (ecdh.getPublicKey().toString('base64url') !== pair.publicKey) throw new VapidKeyError('the VAPID public key does not belong to the private key');
  return pair;
}

/**
 * The install's key pair: the one given by settings, else the one kept in
 * Redis, made now if there is none. SET NX makes processes starting at once
 * agree on a single pair.
 */
export async function loadVapidKeys(redis: Redis, keys: Keys, given: { publicKey?: string; privateKey?: string }): Promise<VapidKeyPair> {
  if (given.publicKey || given.privateKey) {
    if (!given.publicKey || !given.privateKey) throw new VapidKeyError('set both FLASHWIRE_VAPID_PUBLIC_KEY and FLASHWIRE_VAPID_PRIVATE_KEY, or neither');
    return checkVapidKeys({ publicKey: given.publicKey, privateKey: given.privateKey });
  }
  const fresh = generateVapidKeys();
  await redis.set(keys.vapidKeys, JSON.stringify(fresh), 'NX');
  const stored = await redis.get(keys.vapidKeys);
  if (!stored) throw new VapidKeyError('the VAPID key pair vanished from Redis just after it was stored');
  return checkVapidKeys(JSON.parse(stored) as VapidKeyPair);
}

/** How long a token lives (RFC 8292 allows at most 24 h). */
export const TOKEN_LIFETIME_S = 12 * 3600;
/** A cached token is replaced this long before it expires, so none is sent stale. */
const TOKEN_REFRESH_MARGIN_S = 3600;

function jwk(pair: VapidKeyPair, withPrivate: boolean) {
  const pub = Buffer.from(pair.publicKey, 'base64url');
  return {
    kty: 'EC',
    crv: 'P-256',
    x: pub.subarray(1, 33).toString('base64url'),
    y: pub.subarray(33, 65).toString('base64url'),
    ...(withPrivate ? { d: pair.privateKey } : {}),
  };
}

/** The public key as a KeyObject, for checking tokens. */
function vapidPublicKeyObject(publicKey: string): KeyObject {
  return createPublicKey({ key: jwk({ publicKey, privateKey: '' }, false), format: 'jwk' });
}

/** Verifies an ES256 JWT against a VAPID public key; answers its claims, or undefined. */
export function verifyVapidJwt(token: string, publicKey: string): Record<string, unknown> | undefined {
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) return undefined;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  if (header.alg !== 'ES256') return undefined;
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: vapidPublicKeyObject(publicKey), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  return ok ? (JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>) : undefined;
}

export class VapidSigner {
  private readonly key: KeyObject;
  private readonly cache = new Map<string, { header: string; refreshAt: number }>();
  /** Tokens signed so far (the cache's misses). */
  signed = 0;

  constructor(
    readonly pair: VapidKeyPair,
    /** A `mailto:` or `https:` contact for the push service's operators. */
    readonly subject: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createPrivateKey({ key: jwk(pair, true), format: 'jwk' });
  }

  /** The `Authorization` header for a push to `endpoint`: `vapid t=JWT, k=KEY`. */
  authorization(endpoint: URL | string): string {
    const origin = (typeof endpoint === 'string' ? new URL(endpoint) : endpoint).origin;
    const nowS = Math.floor(this.now() / 1000);
    const hit = this.cache.get(origin);
    if (hit && nowS < hit.refreshAt) return hit.header;
    const exp = nowS + TOKEN_LIFETIME_S;
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${enc({ typ: 'JWT', alg: 'ES256' })}.${enc({ aud: origin, exp, sub: this.subject })}`;
    const sig = sign('sha256', Buffer.from(input), { key: this.key, dsaEncoding: 'ieee-p1363' });
    const header = `vapid t=${input}.${sig.toString('base64url')}, k=${this.pair.publicKey}`;
    this.cache.set(origin, { header, refreshAt: exp - TOKEN_REFRESH_MARGIN_S });
    this.signed++;
    return header;
  }
}
