/**
 * Subscriber tokens: HS256 JWTs a newsroom's own backend mints for paying
 * readers, with a `topics` claim (the patterns the holder may subscribe to,
 * with the same hierarchy as subscriptions) and a required `exp`.
 */
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { isValidSubscription } from '../alert/topics';
import type { TokenPrincipal } from './principal';

const claimsSchema = z.object({
  topics: z.array(z.string().refine(isValidSubscription)).min(1),
  exp: z.number().int(),
  sub: z.string().optional(),
});

/** Three base64url parts: what a JWT looks like, and an API key never does. */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

export class SubscriberTokens {
  constructor(private readonly secret: string | undefined) {}

  /** False when no secret is configured: every token is refused. */
  get configured(): boolean {
    return Boolean(this.secret);
  }

  /** The principal for a valid, unexpired token; undefined for anything else. */
  verify(token: string, now: number = Date.now()): TokenPrincipal | undefined {
    // No secret configured: private topics stay closed, every token is bad.
    if (!this.secret || !looksLikeJwt(token)) return undefined;
    let payload: unknown;
    try {
      // Pinning the algorithm refuses `alg: none` and RS/HS confusion.
      payload = jwt.verify(token, this.secret, { algorithms: ['HS256'], clockTimestamp: Math.floor(now / 1000) });
    } catch {
      return undefined;
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) return undefined;
    const p: TokenPrincipal = { kind: 'token', topics: claims.data.topics, expiresAt: claims.data.exp * 1000 };
    if (claims.data.sub !== undefined) p.subject = claims.data.sub;
    return p;
  }

  /** Mints a token (for tests, docs and a newsroom's own tooling). */
  static sign(secret: string, topics: string[], expiresInSeconds: number, subject?: string): string {
    return jwt.sign({ topics, ...(subject ? { sub: subject } : {}) }, secret, { algorithm: 'HS256', expiresIn: expiresInSeconds });
  }
}
