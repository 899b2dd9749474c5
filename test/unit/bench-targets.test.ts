/**
 * The benchmark's table is where a run is judged, so each target row holds
 * the figure to the target that applies to that run's shape: the floor's
 * ratios where a floor ran, the time targets at 50,000 and 100,000 readers
 * where none can, the burst's memory bound for one process only.
 */
import { rows, type NResult, type PhaseResult } from '../../bench/report';

function phase(o: { lastReaderMedianMs: number; lastReaderMaxMs: number; p99Ms: number; peakRssMiB: number; bytesPerConnection: number; deliveriesPerSecond: number }): PhaseResult {
  return {
    readers: 0,
    readersFailed: 0,
    connectSeconds: 1,
    idle: { rssBeforeMiB: 50, rssMiB: 100, bytesPerConnection: o.bytesPerConnection, marginalBytesPerConnection: o.bytesPerConnection },
    spaced: { alerts: 10, p50Ms: 1, p90Ms: 1, p99Ms: o.p99Ms, maxMs: o.lastReaderMaxMs, lastReaderMedianMs: o.lastReaderMedianMs, lastReaderMaxMs: o.lastReaderMaxMs, appendToLastReaderMedianMs: null, acceptedMedianMs: null, firstReaderMedianMs: 1, lost: 0, duplicates: 0, timeouts: 0 },
    burst: { alerts: 50, expected: 1, delivered: 1, lost: 0, duplicates: 0, seconds: 1, deliveriesPerSecond: o.deliveriesPerSecond, fanoutSeconds: 1, sendSeconds: 1, peakRssMiB: o.peakRssMiB, flashRankMedian: null, readersClosedByServer: 0 },
  };
}

const ok = { lastReaderMedianMs: 200, lastReaderMaxMs: 250, p99Ms: 220, peakRssMiB: 150, bytesPerConnection: 4000, deliveriesPerSecond: 300_000 };

function run(readers: number, gatewayProcesses: number, flashwire: PhaseResult, floor: PhaseResult | null): NResult {
  return { readers, topicsPerReader: 1, gatewayProcesses, clientProcesses: 2, frameBytes: 500, flashwire: { ...flashwire, readers }, floor: floor && { ...floor, readers }, ingest: null, latencyCdf: { flashwire: [], floor: null } };
}

function target(r: NResult, metric: string): string {
  const row = rows(r).find((x) => x[0].startsWith(metric));
  expect(row).toBeDefined();
  return row![4];
}

describe('benchmark targets', () => {
  it('one gateway process against the floor: last reader and p99 at most 1.0× the floor, idle at most 6,144 B', () => {
    const floor = phase({ ...ok, deliveriesPerSecond: 100_000 });
    const even = run(10_000, 1, phase(ok), floor);
    expect(target(even, 'time to last reader, median')).toBe('≤ 1.0× floor: met');
    expect(target(even, 'latency p99')).toBe('≤ 1.0× floor: met');
    expect(target(even, 'idle: bytes per connection')).toBe('≤ 6144: met');
    expect(target(even, 'burst: peak server RSS')).toBe('< 400 MiB (one process): met');

    const slower = run(10_000, 1, phase({ ...ok, lastReaderMedianMs: 210, p99Ms: 231, bytesPerConnection: 6145, peakRssMiB: 400 }), floor);
    expect(target(slower, 'time to last reader, median')).toBe('≤ 1.0× floor: MISSED');
    expect(target(slower, 'latency p99')).toBe('≤ 1.0× floor: MISSED');
    expect(target(slower, 'idle: bytes per connection')).toBe('≤ 6144: MISSED');
    expect(target(slower, 'burst: peak server RSS')).toBe('< 400 MiB (one process): MISSED');
  });

  it('other shapes against the floor are reported, not judged: the targets are set for 10,000 readers on one process', () => {
    const floor = phase(ok);
    const small = run(2_000, 1, phase({ ...ok, lastReaderMedianMs: 300, p99Ms: 300, bytesPerConnection: 7000 }), floor);
    expect(target(small, 'time to last reader, median')).toBe('');
    expect(target(small, 'latency p99')).toBe('');
    expect(target(small, 'idle: bytes per connection')).toBe('');
    expect(target(run(10_000, 2, phase({ ...ok, lastReaderMedianMs: 300 }), floor), 'time to last reader, median')).toBe('');
  });

  it('100,000 readers: the last reader of a single alert within 2 s; the one-process memory bound does not apply', () => {
    expect(target(run(100_000, 7, phase({ ...ok, lastReaderMedianMs: 2000, peakRssMiB: 1100 }), null), 'time to last reader, median')).toBe('≤ 2000 ms at 100,000 readers: met');
    expect(target(run(100_000, 7, phase({ ...ok, lastReaderMedianMs: 2001 }), null), 'time to last reader, median')).toBe('≤ 2000 ms at 100,000 readers: MISSED');
    expect(target(run(100_000, 7, phase({ ...ok, peakRssMiB: 1100 }), null), 'burst: peak server RSS')).toBe('');
  });

  it("50,000 readers: the worst alert's last reader within 1 s", () => {
    expect(target(run(50_000, 7, phase({ ...ok, lastReaderMaxMs: 1000 }), null), 'time to last reader, worst')).toBe('≤ 1000 ms at 50,000 readers: met');
    expect(target(run(50_000, 7, phase({ ...ok, lastReaderMaxMs: 1001 }), null), 'time to last reader, worst')).toBe('≤ 1000 ms at 50,000 readers: MISSED');
    expect(target(run(10_000, 1, phase({ ...ok, lastReaderMaxMs: 5000 }), null), 'time to last reader, worst')).toBe('');
  });
});
