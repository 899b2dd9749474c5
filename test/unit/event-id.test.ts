import { compareEventIds, eventTime, isEventId } from '../../src/feed/event-id';

describe('event ids', () => {
  it('compares by number, not as strings', () => {
    expect(compareEventIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareEventIds('10-0', '9-0')).toBeGreaterThan(0);
    expect(compareEventIds('5-9', '5-10')).toBeLessThan(0);
    expect(compareEventIds('1714000000000-3', '1714000000000-3')).toBe(0);
    expect(compareEventIds('1714000000001-0', '1714000000000-99')).toBeGreaterThan(0);
  });

  it('sorts a shuffled list the way the feed orders it', () => {
    const ordered = ['0-0', '0-1', '1-0', '9-5', '10-0', '10-2', '10-10', '100-0'];
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort(compareEventIds)).toEqual(ordered);
  });

  it('recognises only <ms>-<seq>', () => {
    expect(isEventId('1714000000000-0')).toBe(true);
    for (const bad of ['', '1714', '-1', 'a-b', '1-2-3', '1714000000000-0 ', ' 1-0', 12]) expect(isEventId(bad)).toBe(false);
  });

  it('accepts only the canonical form within 64 bits: no leading zeros, each part at most 2^64-1', () => {
    for (const good of ['0-0', '0-1', '18446744073709551615-18446744073709551615', '18446744073709551614-0', '9999999999999999999-0']) expect(isEventId(good)).toBe(true);
    for (const bad of ['00-0', '01-0', '1-01', '0-00', '18446744073709551616-0', '0-18446744073709551616', '99999999999999999999-0', '1-99999999999999999999', '100000000000000000000-0', '+1-0', '1-+0', '1e3-0', '１-0', '1_000-0']) {
      expect({ bad, ok: isEventId(bad) }).toEqual({ bad, ok: false });
    }
  });

  it('reads the time an event entered the feed', () => {
    expect(eventTime('1714000000123-7')).toBe(1714000000123);
  });
});
