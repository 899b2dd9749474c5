/**
 * One system under test with its readers open, measured phase by phase:
 * idle memory as it opens, then its warm-up and spaced alerts one at a
 * time, its burst, and for Flashwire a gateway killed. One alert at a time
 * is what lets the run take two systems' spaced alerts in turn, so that
 * both see the same moments of a shared, noisy machine.
 */
import { rssSampler, treeOf, treeRss } from '../test/helpers/rss';
import { ReaderFleet, waitUntil, type Target } from './fleet';
import { killPhase } from './kill';
import { CpuSplit, gatewayProcesses } from './proc-stats';
import { now, sleep } from './procs';
import type { PhaseResult } from './report';
import { median, pct, round, sorted } from './stats';

export interface MeasureOptions {
  alerts: number;
  burst: number;
  topics: number;
  spacingMs: number;
  warmupAlerts: number;
  readerNodeArgs: string[];
  killGateway: boolean;
  killSpacingMs: number;
}

export type Measured = PhaseResult & { latencies: Float64Array };

function mib(bytes: number): number {
  return round(bytes / 1024 / 1024, 1);
}

export class TargetRun {
  private readonly t0: number[] = [];
  private readonly warm0: number[] = [];
  private spacedTimeouts = 0;
  private readonly cpu: CpuSplit;
  private result: Measured | undefined;

  private constructor(
    readonly target: Target,
    private readonly fleet: ReaderFleet,
    private readonly o: MeasureOptions,
    private readonly log: (s: string) => void,
    /** Readers open, and what opening them showed. */
    private readonly opened: { open: number; failed: number; seconds: number; idle: PhaseResult['idle']; warmup: number[] },
    /** Polling costs the readers CPU while they receive; at large N a coarser poll only paces the next alert. */
    private readonly pollMs: number,
  ) {
    this.cpu = new CpuSplit(() => treeOf(target.pid), fleet.procs.map((p) => p.pid!), target.namedPids);
  }

  get readers(): number {
    return this.opened.open;
  }

  /** Opens n readers in two halves (the second half's growth is the marginal cost of a connection), then sends the warm-up alerts. */
  static async open(target: Target, n: number, procCount: number, o: MeasureOptions, log: (s: string) => void): Promise<TargetRun> {
    await sleep(1500);
    const rssBefore = treeRss(target.pid);
    log(`${target.name}: opening ${n} readers from ${procCount} processes`);
    const half = Math.floor(n / 2);
    const procHalf = Math.max(1, Math.floor(procCount / 2));
    // Readers resume with `since` when dropped only where a gateway is to be killed: elsewhere a drop is a finding.
    const resume = target.name === 'flashwire' && o.killGateway;
    const a = await ReaderFleet.open(target, half, procHalf, { topics: o.topics, resume, nodeArgs: o.readerNodeArgs });
    await sleep(3000);
    const rssHalf = treeRss(target.pid);
    const b = await ReaderFleet.open(target, n - half, procCount - procHalf, { topics: o.topics, firstReader: half, resume, nodeArgs: o.readerNodeArgs });
    const fleet = new ReaderFleet([...a.fleet.procs, ...b.fleet.procs], [...a.fleet.counts, ...b.fleet.counts]);
    try {
      const open = a.open + b.open;
      const failed = a.failed + b.failed;
      if (failed > 0) log(`${target.name}: ${failed} readers failed to open (${a.firstError ?? b.firstError})`);
      await sleep(3000);
      const rssIdle = treeRss(target.pid);
      const processes = gatewayProcesses(target.pid);
      const seconds = a.seconds + b.seconds;
      log(`${target.name}: ${open} readers open in ${round(seconds)} s; RSS ${mib(rssBefore)} -> ${mib(rssIdle)} MiB (${processes.map((p) => `${p.role} ${p.rssMiB} MiB, ${p.openFiles} files`).join('; ')})`);
      const idle = {
        rssBeforeMiB: mib(rssBefore),
        rssMiB: mib(rssIdle),
        bytesPerConnection: Math.round((rssIdle - rssBefore) / Math.max(1, open)),
        marginalBytesPerConnection: Math.round((rssIdle - rssHalf) / Math.max(1, b.open)),
        processes,
      };
      const pollMs = Math.max(20, Math.round(n / 1000));
      return new TargetRun(target, fleet, o, log, { open, failed, seconds, idle, warmup: [] }, pollMs);
    } catch (err) {
      await fleet.close();
      throw err;
    }
  }

  /**
   * Warm-up alert k (of --warmup-alerts), just before the spaced ones. The
   * first alerts on fresh connections, or after the gateway sat idle while
   * the other system's readers opened, cost more (at 50,000 readers, up to
   * twice the time to the last reader): they are reported apart from the
   * spaced alerts, which are the steady state.
   */
  async warmUpOne(k: number): Promise<void> {
    if (k === 0) {
      await this.fleet.phase('w', this.o.warmupAlerts, -1);
      this.warm0.length = 0;
    }
    this.warm0[k] = await this.target.send('w', k, 'urgent');
    await waitUntil(async () => (await this.fleet.progress()).perSeq[k] ?? 0, this.opened.open, 10_000, 10_000, this.pollMs);
    await sleep(this.o.spacingMs);
    if (k < this.o.warmupAlerts - 1) return;
    const got = await this.fleet.collect();
    const warmup = this.opened.warmup;
    for (let j = 0; j < this.o.warmupAlerts; j++) {
      let max = 0;
      for (const c of got) for (let r = 0; r < c.readers; r++) max = Math.max(max, (c.times[r * this.o.warmupAlerts + j] || Infinity) - this.warm0[j]!);
      warmup.push(round(max, 1));
    }
    this.log(`${this.target.name}: warm-up alerts, time to the last reader: ${warmup.join(', ')} ms`);
  }

  /**
   * Spaced alert k: sent once every reader has the one before (or 10 s
   * passed), then the spacing. Its CPU is charged to this system alone.
   */
  async spacedOne(k: number): Promise<void> {
    if (k === 0) await this.fleet.phase('s', this.o.alerts, -1);
    this.cpu.resume();
    this.t0[k] = await this.target.send('s', k, 'urgent');
    const ok = await waitUntil(async () => (await this.fleet.progress()).perSeq[k] ?? 0, this.opened.open, 10_000, 10_000, this.pollMs);
    if (!ok) this.spacedTimeouts++;
    await sleep(this.o.spacingMs);
    this.cpu.pause();
  }

  /** After every spaced alert: what they showed, then the burst. */
  async finish(): Promise<Measured> {
    const { o, target, fleet, opened } = this;
    const spacedCpu = this.cpu.figures();
    const spaced = await fleet.collect();
    const t0 = this.t0;
    const lat: number[] = [];
    const lastReader: number[] = [];
    /** Per spaced alert, in order; null where no reader had it. */
    const firstReader: (number | null)[] = [];
    const appendToLast: number[] = [];
    let spacedLost = 0;
    let spacedDup = 0;
    for (let k = 0; k < o.alerts; k++) {
      let max = 0;
      let min = Infinity;
      for (const c of spaced) {
        for (let r = 0; r < c.readers; r++) {
          const t = c.times[r * o.alerts + k] as number;
          if (t === 0) {
            spacedLost++;
            continue;
          }
          lat.push(t - t0[k]!);
          if (t - t0[k]! > max) max = t - t0[k]!;
          if (t - t0[k]! < min) min = t - t0[k]!;
        }
      }
      lastReader.push(max);
      firstReader.push(min < Infinity ? min : null);
      const appended = Math.max(...spaced.map((c) => c.appendedAt[k] ?? 0));
      if (target.name === 'flashwire' && appended > 0) appendToLast.push(t0[k]! + max - appended);
    }
    for (const c of spaced) spacedDup += c.duplicates;
    const s = sorted(lat);
    const accepted = target.accepted.splice(0);

    // Burst: every alert at once; the last one posted is a flash.
    const flashSeq = target.name === 'flashwire' ? o.burst - 1 : -1;
    await fleet.phase('b', o.burst, flashSeq);
    const sampler = rssSampler(target.pid);
    const b0 = now();
    let sendEnd = 0;
    const sending = (async () => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < o.burst) {
            const k = next++;
            await target.send('b', k, k === flashSeq ? 'flash' : 'routine');
          }
        }),
      );
      sendEnd = now();
    })();
    const expected = opened.open * o.burst;
    await waitUntil(async () => (await fleet.progress()).total, expected, 180_000, 15_000, Math.max(50, this.pollMs));
    await sending;
    const peakRss = sampler.stop();
    const burst = await fleet.collect();
    const received = burst.reduce((x, c) => x + c.received, 0);
    const firstRx = Math.min(...burst.map((c) => c.first || Infinity));
    const lastRx = Math.max(...burst.map((c) => c.last));
    const ranks = burst.flatMap((c) => c.flashRanks);
    const closed = (await fleet.progress()).closed;
    const result: Measured = {
      readers: opened.open,
      readersFailed: opened.failed,
      connectSeconds: round(opened.seconds, 2),
      idle: opened.idle,
      spaced: {
        alerts: o.alerts,
        p50Ms: round(pct(s, 50), 2),
        p90Ms: round(pct(s, 90), 2),
        p99Ms: round(pct(s, 99), 2),
        maxMs: round(pct(s, 100), 2),
        lastReaderMedianMs: round(median(lastReader), 2),
        lastReaderMaxMs: round(Math.max(...lastReader), 2),
        lastReaderPerAlertMs: lastReader.map((x) => round(x, 1)),
        sentAt: t0.map((t) => Math.round(t)),
        warmupLastReaderMs: opened.warmup,
        heartbeatsAt: [...new Set(spaced.flatMap((c) => c.heartbeats.map((t) => Math.round(t / 1000) * 1000)))].sort((x, y) => x - y),
        appendToLastReaderMedianMs: appendToLast.length ? round(median(appendToLast), 1) : null,
        acceptedMedianMs: accepted.length ? round(median(accepted), 2) : null,
        acceptedPerAlertMs: accepted.map((x) => round(x, 2)),
        firstReaderMedianMs: round(median(firstReader.filter((x): x is number => x !== null)), 2),
        firstReaderPerAlertMs: firstReader.map((x) => (x === null ? null : round(x, 2))),
        lost: spacedLost,
        duplicates: spacedDup,
        timeouts: this.spacedTimeouts,
        cpu: spacedCpu,
      },
      burst: {
        alerts: o.burst,
        expected,
        delivered: received,
        lost: expected - received,
        duplicates: burst.reduce((x, c) => x + c.duplicates, 0),
        seconds: round((lastRx - b0) / 1000, 3),
        deliveriesPerSecond: Math.round(received / ((lastRx - b0) / 1000)),
        fanoutSeconds: round((lastRx - firstRx) / 1000, 3),
        sendSeconds: round((sendEnd - b0) / 1000, 3),
        peakRssMiB: mib(peakRss),
        flashRankMedian: ranks.length ? median(ranks) : null,
        readersClosedByServer: closed,
      },
      latencies: s,
    };
    this.log(`${target.name}: spaced p50 ${result.spaced.p50Ms} p99 ${result.spaced.p99Ms} last-reader ${result.spaced.lastReaderMedianMs} (worst ${result.spaced.lastReaderMaxMs}) ms, lost ${result.spaced.lost}; burst ${result.burst.deliveriesPerSecond}/s lost ${result.burst.lost} peak ${result.burst.peakRssMiB} MiB`);
    this.result = result;
    return result;
  }

  /** Flashwire with --kill-gateway, after finish(): one gateway process killed while alerts flow. */
  async kill(): Promise<void> {
    const result = this.result;
    if (!result || this.target.name !== 'flashwire' || !this.o.killGateway) return;
    // Alerts in the kill phase come at a pace the readers' machine keeps up with when nothing is killed: twice the time one takes to reach every reader.
    const spacingMs = this.o.killSpacingMs || Math.max(1000, Math.ceil((2 * result.spaced.lastReaderMedianMs) / 100) * 100);
    try {
      result.kill = await killPhase(this.target, this.fleet, this.opened.open, { spacingMs, before: 5, after: 5, stormLimitMs: 120_000 }, this.log);
    } catch (err) {
      // What was measured before the kill still counts.
      this.log(`${this.target.name}: kill phase failed: ${(err as Error).message}`);
      result.killError = (err as Error).message;
      return;
    }
    const kill = result.kill;
    this.log(`${this.target.name}: gateway killed: ${kill.readersDropped} readers dropped, back in ${kill.reconnectedMs} ms, caught up in ${kill.caughtUpMs} ms; lost ${kill.lost} duplicated ${kill.duplicates}; storm last reader ${kill.storm.lastReaderMaxMs} ms p99 ${kill.storm.p99Ms} ms (before: ${kill.before.lastReaderMaxMs} / ${kill.before.p99Ms} ms)`);
  }

  close(): Promise<void> {
    return this.fleet.close();
  }
}
