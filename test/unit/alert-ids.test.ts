import { decodeTime } from 'ulid';
import { ALERT_ID_PATTERN, newAlertId } from '../../src/alert/ids';

describe('alert ids', () => {
  it('are ULIDs of their creation time, unique, and sort in the order they were made', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => newAlertId(1_700_000_000_000 + Math.floor(i / 100)));
    for (const id of ids) expect(id).toMatch(ALERT_ID_PATTERN);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(decodeTime(ids[0]!)).toBe(1_700_000_000_000);
  });

  it('draw every character of the random part evenly, across refills of the random pool', () => {
    // One id per millisecond, so each has a fresh random part (16 characters);
    // 4,000 ids take 64,000 random bytes, many refills of the 4 KiB pool.
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) for (const c of newAlertId(1_800_000_000_000 + i).slice(10)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(32);
    // 2,000 expected per character; a biased or repeating source falls far outside this.
    for (const n of counts.values()) expect(Math.abs(n - 2000)).toBeLessThan(300);
  });
});
