/**
 * Feed event ids are Redis Stream ids, `<ms>-<seq>`: two decimal integers,
 * each at most 2^64−1, written without leading zeros. Only that canonical
 * form is an eventId; everything else is malformed, so a cursor that Redis
 * would refuse (or read as another id) never reaches Redis.
 *
 * They only grow, but as strings they do not sort ("9-0" > "10-0"), so
 * compare them here. This module is the one place ids are checked and
 * compared: the service, this package and the browser client all use it.
 * It lives in the client package because the package may hold no service
 * code, while the service may import the package; it must stay free of
 * imports (Node-only ones above all: the browser bundle includes it).
 */
/** Shape only; `isEventId` also checks the 64-bit range. */
export const EVENT_ID_PATTERN = /^(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})$/;

/** 2^64 − 1, the largest part a Redis Stream id can have. */
const MAX_PART = '18446744073709551615';

function fitsIn64Bits(part: string): boolean {
  return part.length < MAX_PART.length || (part.length === MAX_PART.length && part <= MAX_PART);
}

/** True for a canonical `MS-SEQ` eventId within 64 bits. */
export function isEventId(s: unknown): s is string {
  if (typeof s !== 'string' || s.length > 41 || !EVENT_ID_PATTERN.test(s)) return false;
  const dash = s.indexOf('-');
  return fitsIn64Bits(s.slice(0, dash)) && fitsIn64Bits(s.slice(dash + 1));
}

/**
 * Negative when a < b, zero when equal, positive when a > b. Both must be
 * eventIds (`isEventId`): canonical parts compare by length, then digits.
 */
export function compareEventIds(a: string, b: string): number {
  // Runs once per delivery in the gateway: compared in place, with no slices.
  if (a === b) return 0;
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  if (da !== db) return da - db;
  for (let i = 0; i < da; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  const sa = a.length - da;
  const sb = b.length - db;
  if (sa !== sb) return sa - sb;
  for (let i = da + 1; i < a.length; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return 0;
}

/** Milliseconds part: when the event entered the feed (ms since the epoch). */
export function eventTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** The position before the first event. */
export const ZERO_EVENT_ID = '0-0';
