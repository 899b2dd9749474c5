/** Feed event ids are `MS-SEQ`; as strings they do not sort ("9-0" > "10-0"). */
const EVENT_ID = /^(0|[1-9]\d{0,19})-(0|[1-9]\d{0,19})$/;

export function isEventId(s: unknown): s is string {
  return typeof s === 'string' && EVENT_ID.test(s);
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareEventIds(a: string, b: string): number {
  const [ma = '', sa = ''] = a.split('-');
  const [mb = '', sb = ''] = b.split('-');
  if (ma.length !== mb.length) return ma.length - mb.length;
  if (ma !== mb) return ma < mb ? -1 : 1;
  if (sa.length !== sb.length) return sa.length - sb.length;
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

/** When the event entered the feed (ms since the epoch). */
export function eventTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
