import { getRandomValues } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * Random fractions for ulid from a pool refilled 4 KiB at a time: ulid's
 * own source asks the system for one byte per character, sixteen calls per
 * new id, which showed as 6 % of the API's CPU under ingest load. Still the
 * cryptographic source, so ids stay unguessable; a byte / 256 maps evenly
 * onto ulid's 32 characters.
 */
const pool = new Uint8Array(4096);
let taken = pool.length;
function pooledRandom(): number {
  if (taken === pool.length) {
    getRandomValues(pool);
    taken = 0;
  }
  return pool[taken++]! / 256;
}

/**
 * Alert ids are ULIDs: sortable by creation time, unique across processes,
 * URL-safe, and monotonic within a process so two alerts created in the same
 * millisecond still sort in the order they were accepted.
 */
const next = monotonicFactory(pooledRandom);

export function newAlertId(now: number = Date.now()): string {
  return next(now);
}

export const ALERT_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
