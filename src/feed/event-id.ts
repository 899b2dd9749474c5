/**
 * Feed event ids are Redis Stream ids, `<ms>-<seq>`. They only grow, but as
 * strings they do not sort ("9-0" > "10-0"), so compare them here.
 */
export const EVENT_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;

export function isEventId(s: unknown): s is string {
  return typeof s === 'string' && EVENT_ID_PATTERN.test(s);
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareEventIds(a: string, b: string): number {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const ma = a.slice(0, da);
  const mb = b.slice(0, db);
  if (ma.length !== mb.length) return ma.length - mb.length;
  if (ma !== mb) return ma < mb ? -1 : 1;
  const sa = a.slice(da + 1);
  const sb = b.slice(db + 1);
  if (sa.length !== sb.length) return sa.length - sb.length;
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

/** Milliseconds part: when the event entered the feed. */
export function eventTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

export const ZERO_EVENT_ID = '0-0';
