/**
 * Rate limits, each a fixed one-minute window counted in Redis, so it holds
 * however many API processes share the traffic: writes (posts, corrections,
 * retractions) per API key, and anonymous feed polls per client address.
 */
import type { NextFunction, Request, Response } from 'express';
import { runScript } from '../redis/scripts';
import type { ApiContext } from './context';
import { ApiError } from './errors';

export const PUBLISH_WINDOW_MS = 60_000;
const WINDOW_MS = PUBLISH_WINDOW_MS;

/** After requireKey: counts the write against its key; 429 with Retry-After past the limit. */
export function publishRateLimit(ctx: ApiContext) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    await countPublish(ctx, keyNameOf(req));
    next();
  };
}

/** Counts one write against the caller's key (by its name); throws the 429 past the limit. */
export async function countPublish(ctx: ApiContext, name: string): Promise<void> {
  const [allowed, , ttlMs] = (await runScript(ctx.redis, 'rateLimit', [publishRateKey(ctx, name)], [ctx.settings.FLASHWIRE_PUBLISH_RATE_PER_MINUTE, WINDOW_MS])) as [number, number, number];
  if (allowed !== 1) throw publishRateLimited(ctx, name, ttlMs);
}

function keyNameOf(req: Request): string {
  const p = req.principal;
  return p?.kind === 'key' ? p.name : 'unknown';
}

/** The Redis counter of a key's writes in the current window. */
export function publishRateKey(ctx: ApiContext, keyName: string): string {
  return ctx.keys.rate(keyName, WINDOW_MS / 1000);
}

/** The 429 for a key past FLASHWIRE_PUBLISH_RATE_PER_MINUTE, its window resetting in `ttlMs`. */
export function publishRateLimited(ctx: ApiContext, keyName: string, ttlMs: number): ApiError {
  const limit = ctx.settings.FLASHWIRE_PUBLISH_RATE_PER_MINUTE;
  const wait = Math.max(1, Math.ceil(ttlMs / 1000));
  return new ApiError('rate_limited', `the key "${keyName}" may make ${limit} writes (posts, corrections, retractions) a minute (FLASHWIRE_PUBLISH_RATE_PER_MINUTE); retry in ${wait} s`, undefined, {
    'Retry-After': String(wait),
  });
}

/** Counts an anonymous GET /v1/feed against its client address; a 429 with Retry-After past FLASHWIRE_FEED_ANON_RATE_PER_MINUTE. */
export async function countAnonymousFeedRead(ctx: ApiContext, req: Request): Promise<void> {
  const limit = ctx.settings.FLASHWIRE_FEED_ANON_RATE_PER_MINUTE;
  const address = req.socket.remoteAddress ?? 'unknown';
  const [allowed, , ttlMs] = (await runScript(ctx.redis, 'rateLimit', [ctx.keys.feedRate(address, WINDOW_MS / 1000)], [limit, WINDOW_MS])) as [number, number, number];
  if (allowed !== 1) {
    const wait = Math.max(1, Math.ceil(ttlMs / 1000));
    throw new ApiError('rate_limited', `anonymous feed reads are limited to ${limit} a minute per address (FLASHWIRE_FEED_ANON_RATE_PER_MINUTE); retry in ${wait} s, or poll with a credential`, undefined, {
      'Retry-After': String(wait),
    });
  }
}
