/**
 * Idempotency-Key on POST /v1/alerts (the contract's "Idempotency"): scoped to the
 * publishing key, kept 24 hours, an equal JSON body replays the first 202,
 * another body is a 422, and only successful responses are remembered.
 *
 * A new key is taken, with the alert id and the 202 to replay, in the same
 * transaction that writes the alert (src/api/accept.ts), so requests racing
 * on one key make one alert and the others replay it. A key reserved but
 * not finished (its job add failed, or an earlier release reserved it
 * before writing anything) is finished by its retry, on the same alert: the
 * record is created only if absent and the job id is the alert id, so
 * neither step can happen twice.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys';
import { runScript } from '../redis/scripts';
import { ApiError } from './errors';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';
const KEY_PATTERN = /^[\x21-\x7E]{1,255}$/;

/** JSON with object keys sorted at every level: equal bodies, equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function fingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** The request's Idempotency-Key, if sent; a malformed one is a 422. */
export function idempotencyKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers[IDEMPOTENCY_HEADER.toLowerCase()];
  if (raw === undefined) return undefined;
  const v = Array.isArray(raw) ? raw.join(',') : raw;
  if (!KEY_PATTERN.test(v)) {
    throw new ApiError('validation_failed', 'the Idempotency-Key header must be 1-255 visible ASCII characters (a UUID is ideal)', [
      { path: IDEMPOTENCY_HEADER, message: 'must be 1-255 visible ASCII characters' },
    ]);
  }
  return v;
}

export type Reservation =
  /** This request is the first with the key: it makes alert `alertId`. */
  | { kind: 'reserved'; alertId: string; createdAt: number }
  /** An earlier request with the same body has not finished: finish the same alert. */
  | { kind: 'pending'; alertId: string; createdAt: number }
  /** Finished: replay this response body. */
  | { kind: 'done'; response: string }
  | { kind: 'mismatch' };

export class Idempotency {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** The Redis key of one publishing key's Idempotency-Key. */
  key(keyName: string, idemKey: string): string {
    // Hashed: a client's key may hold any characters and up to 255 of them.
    return this.keys.idempotency(keyName, createHash('sha256').update(idemKey).digest('base64url'));
  }

  /**
   * Reserves the key alone, before anything else is written: how an
   * earlier release began, and so the state its interrupted requests left.
   */
  async reserve(keyName: string, idemKey: string, body: unknown, alertId: string, createdAt: number): Promise<Reservation> {
    const res = (await runScript(this.redis, 'idempotencyReserve', [this.key(keyName, idemKey)], [fingerprint(body), alertId, createdAt, IDEMPOTENCY_TTL_MS])) as string[];
    switch (res[0]) {
      case 'reserved':
      case 'pending':
        return { kind: res[0], alertId: res[1] as string, createdAt: Number(res[2]) };
      case 'done':
        return { kind: 'done', response: res[1] as string };
      case 'mismatch':
        return { kind: 'mismatch' };
      default:
        throw new Error(`idempotency-reserve answered ${String(res[0])}`);
    }
  }

  /** Remembers the 202 body; kept until 24 h after the key's first use. */
  async complete(keyName: string, idemKey: string, response: string): Promise<void> {
    await runScript(this.redis, 'idempotencyComplete', [this.key(keyName, idemKey)], [response]);
  }
}
