import type { FeedEvent } from '../../src/feed/feed-event';
import { RecentEvents } from '../../src/gateway/recent-events';

const ev = (ms: number, seq = 0): FeedEvent => ({ eventId: `${ms}-${seq}`, type: 'alert', alertId: `a${ms}`, topics: ['world'], expiresAt: 0, frame: '{}' });
const ids = (es: FeedEvent[]) => es.map((e) => e.eventId);

describe('recent events', () => {
  it('covers everything after its starting position and returns what follows a cursor', () => {
    const r = new RecentEvents(5, '100-0');
    for (const ms of [101, 102, 103]) r.push(ev(ms));
    expect(r.covers('100-0')).toBe(true);
    expect(r.covers('101-0')).toBe(true);
    expect(r.covers('99-0')).toBe(false);
    expect(ids(r.after('100-0'))).toEqual(['101-0', '102-0', '103-0']);
    expect(ids(r.after('102-0'))).toEqual(['103-0']);
    expect(ids(r.after('103-0'))).toEqual([]);
    // A cursor between events (one this reader never saw, e.g. filtered) still works.
    expect(ids(r.after('101-5'))).toEqual(['102-0', '103-0']);
  });

  it('wraps, moving its floor up to the newest event dropped', () => {
    const r = new RecentEvents(3, '0-0');
    for (let ms = 1; ms <= 7; ms++) r.push(ev(ms));
    expect(r.length).toBe(3);
    expect(r.covers('3-0')).toBe(false);
    expect(r.covers('4-0')).toBe(true);
    expect(ids(r.after('4-0'))).toEqual(['5-0', '6-0', '7-0']);
    expect(ids(r.after('6-0'))).toEqual(['7-0']);
  });

  it('compares ids as numbers across a digit boundary', () => {
    const r = new RecentEvents(10, '8-0');
    for (const ms of [9, 10, 11]) r.push(ev(ms));
    expect(ids(r.after('9-0'))).toEqual(['10-0', '11-0']);
  });

  it('with no capacity covers only the newest position', () => {
    const r = new RecentEvents(0, '5-0');
    r.push(ev(6));
    expect(r.covers('5-0')).toBe(false);
    expect(r.covers('6-0')).toBe(true);
    expect(r.after('6-0')).toEqual([]);
  });
});
