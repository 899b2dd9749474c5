import { reachPercentile, reachSummary } from '../../src/store/report';

describe('reach percentiles', () => {
  it('spreads one gateway\'s writes evenly over its dispatch', () => {
    const spans = [{ n: 10, first: 0, last: 100 }];
    expect(reachPercentile(spans, 50)).toBe(50);
    expect(reachPercentile(spans, 90)).toBe(90);
    expect(reachPercentile(spans, 99)).toBe(100);
  });

  it('combines gateways: a fast small one and a slow big one', () => {
    const spans = [
      { n: 1, first: 5, last: 5 },
      { n: 9, first: 10, last: 19 },
    ];
    expect(reachPercentile(spans, 10)).toBe(5);
    expect(reachPercentile(spans, 50)).toBe(14);
    expect(reachPercentile(spans, 100)).toBe(19);
    expect(reachPercentile([], 50)).toBeNull();
  });

  it('reads report.reach from the report hash', () => {
    expect(reachSummary({ deliveries: '4' })).toBeNull();
    expect(reachSummary({ 'reach:a': '0 3 3', 'reach:b': '4 10 20' })).toEqual({ readersAtSend: 4, p50Ms: 15, p90Ms: 20, p99Ms: 20 });
    expect(reachSummary({ 'reach:a': '0 3 3' })).toEqual({ readersAtSend: 0, p50Ms: null, p90Ms: null, p99Ms: null });
  });
});
