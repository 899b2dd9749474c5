/**
 * The chaos run (npm run chaos) in a bounded form for `npm test`: random
 * SIGKILLs and restarts of workers and gateways under steady alerts, then
 * the count. Lost and duplicated must be 0.
 */
import { runChaos } from '../helpers/chaos';

describe('chaos (bounded)', () => {
  it('loses and duplicates nothing through 35 s of random worker and gateway kills', async () => {
    const lines: string[] = [];
    const res = await runChaos({ seconds: 35, readers: 24, postEveryMs: 60, log: (l) => lines.push(l) });
    console.log(lines.join('\n'));
    expect(res.faults.length).toBeGreaterThanOrEqual(3);
    expect(res.readerReconnects).toBeGreaterThan(0);
    expect(res.tally.accepted).toBeGreaterThan(100);
    expect({ lost: res.tally.lost, duplicated: res.tally.duplicated, disorder: res.tally.disorder, problems: res.tally.problems }).toEqual({ lost: 0, duplicated: 0, disorder: 0, problems: [] });
    expect(res.tally.delivered).toBe(res.tally.owed);
    expect(res.postCounts).toEqual({ '202': res.tally.accepted });
  }, 150_000);
});
