/** The benchmark's result shape and its markdown table, with Flashwire's ratios to the floor and the targets. */
import type { KillResult } from './kill';
import type { CpuFigures, ProcessFigures } from './proc-stats';
import { round } from './stats';

export interface PhaseResult {
  readers: number;
  readersFailed: number;
  connectSeconds: number;
  idle: {
    rssBeforeMiB: number;
    rssMiB: number;
    /** RSS growth from no readers to N, divided by N. */
    bytesPerConnection: number;
    /** RSS growth over the second half of the readers, divided by their number: no fixed costs. */
    marginalBytesPerConnection: number;
    /** Each server process with every reader connected: RSS and open files (absent from older runs). */
    processes?: ProcessFigures[];
  };
  spaced: {
    alerts: number;
    p50Ms: number;
    p90Ms: number;
    p99Ms: number;
    maxMs: number;
    /** Time until the last reader had an alert: median and max over the spaced alerts. */
    lastReaderMedianMs: number;
    lastReaderMaxMs: number;
    /** Each alert's time to its last reader, and when it was sent (ms since the epoch), in order (absent from older runs). */
    lastReaderPerAlertMs?: number[];
    sentAt?: number[];
    /** When the readers saw the server's heartbeats begin (ms since the epoch, to the second), which cost a fan-out's worth of pings. */
    heartbeatsAt?: number[];
    /** Warm-up alerts, sent first on the fresh connections: time to the last reader of each (absent from older runs). */
    warmupLastReaderMs?: number[];
    /** Flashwire: from the feed append (the eventId's ms) to the last reader, median over alerts. */
    appendToLastReaderMedianMs: number | null;
    /** Flashwire: how long POST /v1/alerts took to answer 202, median. */
    acceptedMedianMs: number | null;
    /** Flashwire: each spaced alert's POST → 202, in order, to tell a slow alert from a slow run (absent from older runs). */
    acceptedPerAlertMs?: number[];
    /** Time until the first reader had an alert, median over the spaced alerts. */
    firstReaderMedianMs: number;
    /** Each spaced alert's time to its first reader, in order; null where no reader had it (absent from older runs). */
    firstReaderPerAlertMs?: (number | null)[];
    lost: number;
    duplicates: number;
    timeouts: number;
    /** CPU seconds over the spaced alerts: the server's processes, the readers', the rest of the machine (absent from older runs). */
    cpu?: Omit<CpuFigures, 'otherByProcess'> & Partial<Pick<CpuFigures, 'otherByProcess'>>;
  };
  burst: {
    alerts: number;
    expected: number;
    delivered: number;
    lost: number;
    duplicates: number;
    /** From the first send to the last delivery. */
    seconds: number;
    deliveriesPerSecond: number;
    /** From the first delivery to the last. */
    fanoutSeconds: number;
    sendSeconds: number;
    peakRssMiB: number;
    /** How many burst alerts a reader had before the flash, which was posted last (null for the floor). */
    flashRankMedian: number | null;
    readersClosedByServer: number;
  };
  /** A gateway process killed under load (--kill-gateway; Flashwire only). */
  kill?: KillResult;
  /** Why the kill phase gave no result. */
  killError?: string;
}

/** POSTs from autocannon for a fixed time: what was accepted and how fast it was answered. */
export interface IngestLoad {
  connections: number;
  seconds: number;
  acceptedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
}

/** The accept floor (a bare node:http server, one XADD, 202; a bare XREAD tailer) on the same Redis. */
export interface AcceptFloorResult {
  spaced: {
    alerts: number;
    /** POST → 202, median over the spaced alerts. */
    acceptedMedianMs: number;
    /** POST → the tailer's XREAD had it, median over the spaced alerts. */
    tailerMedianMs: number;
    /** Each spaced alert's POST → 202 and POST → tailer, in order; null where the tailer did not have it (absent from older runs). */
    acceptedPerAlertMs?: number[];
    tailerPerAlertMs?: (number | null)[];
    /** Alerts the tailer did not have within 10 s. */
    timeouts: number;
  };
  ingest: IngestLoad | null;
}

export interface NResult {
  readers: number;
  topicsPerReader: number;
  gatewayProcesses: number;
  clientProcesses: number;
  frameBytes: number;
  flashwire: PhaseResult;
  floor: PhaseResult | null;
  ingest: (IngestLoad & { sentPerSecond: number; notInFeed: number }) | null;
  /** The accept floor, measured in the same run: absent from runs made before it existed. */
  acceptFloor?: AcceptFloorResult | null;
  /** Why the floor was left out of this run although asked for. */
  floorSkipped?: string;
  /** Latency at percentiles 0..100, ms. */
  latencyCdf: { flashwire: number[]; floor: number[] | null };
}

export interface RunResult {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; loadAverage: number[] };
  options: Record<string, unknown>;
  results: NResult[];
}

type Row = [metric: string, fw: number | string | null, floor: number | string | null, ratio: string, target: string];

function ratio(a: number | null | undefined, b: number | null | undefined): string {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '';
  return `${round(a / b, 2)}×`;
}

function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}

export function rows(r: NResult): Row[] {
  const f = r.flashwire;
  const b = r.floor;
  const out: Row[] = [];
  const lrRatio = b ? f.spaced.lastReaderMedianMs / b.spaced.lastReaderMedianMs : NaN;
  const p99Ratio = b ? f.spaced.p99Ms / b.spaced.p99Ms : NaN;
  const burstRatio = b ? f.burst.deliveriesPerSecond / b.burst.deliveriesPerSecond : NaN;
  out.push(['time to last reader, median of alerts (ms)', f.spaced.lastReaderMedianMs, b?.spaced.lastReaderMedianMs ?? null, ratio(f.spaced.lastReaderMedianMs, b?.spaced.lastReaderMedianMs), b && atFloorShape(r) ? `≤ 1.0× floor: ${verdict(lrRatio <= 1)}` : lastReaderTarget(r)]);
  out.push(['time to last reader, worst alert (ms)', f.spaced.lastReaderMaxMs, b?.spaced.lastReaderMaxMs ?? null, ratio(f.spaced.lastReaderMaxMs, b?.spaced.lastReaderMaxMs), worstAlertTarget(r)]);
  if (f.spaced.warmupLastReaderMs?.length) out.push(['  warm-up alerts before them, first on fresh connections: time to last reader (ms)', f.spaced.warmupLastReaderMs.join(', '), b?.spaced.warmupLastReaderMs?.join(', ') ?? null, '', '']);
  out.push(['  of which: POST answered 202 (ms, median)', f.spaced.acceptedMedianMs ?? '', '', '', '']);
  out.push(['  of which: feed append → last reader (ms, median; floor: PUBLISH → last)', f.spaced.appendToLastReaderMedianMs ?? '', b?.spaced.lastReaderMedianMs ?? null, ratio(f.spaced.appendToLastReaderMedianMs, b?.spaced.lastReaderMedianMs), '']);
  out.push(['latency p50 (ms)', f.spaced.p50Ms, b?.spaced.p50Ms ?? null, ratio(f.spaced.p50Ms, b?.spaced.p50Ms), '']);
  out.push(['latency p99 (ms)', f.spaced.p99Ms, b?.spaced.p99Ms ?? null, ratio(f.spaced.p99Ms, b?.spaced.p99Ms), b && atFloorShape(r) ? `≤ 1.0× floor: ${verdict(p99Ratio <= 1)}` : '']);
  out.push(['latency max (ms)', f.spaced.maxMs, b?.spaced.maxMs ?? null, ratio(f.spaced.maxMs, b?.spaced.maxMs), '']);
  out.push(['spaced: CPU per delivery, server / readers / rest of the machine (µs)', cpuPerDelivery(f), b ? cpuPerDelivery(b) : null, '', '']);
  out.push(['spaced alerts lost / duplicated', `${f.spaced.lost} / ${f.spaced.duplicates}`, b ? `${b.spaced.lost} / ${b.spaced.duplicates}` : null, '', `0: ${verdict(f.spaced.lost === 0 && f.spaced.duplicates === 0)}`]);
  out.push([`burst of ${f.burst.alerts}: deliveries/s (first send → last delivery)`, f.burst.deliveriesPerSecond, b?.burst.deliveriesPerSecond ?? null, ratio(f.burst.deliveriesPerSecond, b?.burst.deliveriesPerSecond), b ? `≥ 1.5× floor: ${verdict(burstRatio >= 1.5)}` : '']);
  out.push(['burst: seconds to last delivery', f.burst.seconds, b?.burst.seconds ?? null, ratio(f.burst.seconds, b?.burst.seconds), '']);
  out.push(['burst: deliveries lost / duplicated', `${f.burst.lost} / ${f.burst.duplicates}`, b ? `${b.burst.lost} / ${b.burst.duplicates}` : null, '', `0: ${verdict(f.burst.lost === 0 && f.burst.duplicates === 0)}`]);
  out.push(['burst: peak server RSS (MiB)', f.burst.peakRssMiB, b?.burst.peakRssMiB ?? null, ratio(f.burst.peakRssMiB, b?.burst.peakRssMiB), r.gatewayProcesses === 1 ? `< 400 MiB (one process): ${verdict(f.burst.peakRssMiB < 400)}` : '']);
  out.push(['burst: flash posted last, median burst alerts before it', f.burst.flashRankMedian ?? '', '', '', `< ${f.burst.alerts - 1} when a backlog forms`]);
  out.push(['idle: server RSS with readers (MiB)', f.idle.rssMiB, b?.idle.rssMiB ?? null, ratio(f.idle.rssMiB, b?.idle.rssMiB), '']);
  out.push(['idle: RSS per server process (MiB)', processRss(f.idle.processes), b ? processRss(b.idle.processes) : null, '', '']);
  out.push(['idle: open files per server process (≈ readers held)', processFiles(f.idle.processes), b ? processFiles(b.idle.processes) : null, '', '']);
  out.push(['idle: bytes per connection', f.idle.bytesPerConnection, b?.idle.bytesPerConnection ?? null, ratio(f.idle.bytesPerConnection, b?.idle.bytesPerConnection), atFloorShape(r) ? `≤ 6144: ${verdict(f.idle.bytesPerConnection <= 6144)}` : '']);
  out.push(['idle: bytes per connection, second half only (marginal)', f.idle.marginalBytesPerConnection, b?.idle.marginalBytesPerConnection ?? null, ratio(f.idle.marginalBytesPerConnection, b?.idle.marginalBytesPerConnection), '']);
  out.push(['readers connected (failed) / connect seconds', `${f.readers} (${f.readersFailed}) / ${f.connectSeconds}`, b ? `${b.readers} (${b.readersFailed}) / ${b.connectSeconds}` : null, '', '']);
  if (r.ingest) {
    const i = r.ingest;
    out.push([`ingest: POST /v1/alerts accepted/s (${i.connections} conns)`, i.acceptedPerSecond, '', '', '']);
    out.push(['ingest: p50 / p99 / max (ms)', `${i.p50Ms} / ${i.p99Ms} / ${i.maxMs}`, '', '', '']);
    out.push(['ingest: appended to the feed/s; non-2xx; errors', `${i.sentPerSecond}; ${i.non2xx}; ${i.errors}`, '', '', '']);
  }
  if (f.kill) out.push(...killRows(f.kill));
  if (f.killError) out.push(['gateway killed: no result', f.killError, '', '', '']);
  const a = r.acceptFloor;
  if (a) {
    const acceptRatio = (f.spaced.acceptedMedianMs ?? NaN) / a.spaced.acceptedMedianMs;
    const firstRatio = f.spaced.firstReaderMedianMs / a.spaced.tailerMedianMs;
    out.push(['accept: POST → 202, median (ms) (floor: accept floor, bare http + one XADD)', f.spaced.acceptedMedianMs ?? '', a.spaced.acceptedMedianMs, ratio(f.spaced.acceptedMedianMs, a.spaced.acceptedMedianMs), `≤ 2.0× floor: ${verdict(acceptRatio <= 2)}`]);
    out.push(['accept: POST → first reader, median (ms) (floor: POST → tailer in XREAD)', f.spaced.firstReaderMedianMs, a.spaced.tailerMedianMs, ratio(f.spaced.firstReaderMedianMs, a.spaced.tailerMedianMs), `≤ 2.5× floor: ${verdict(firstRatio <= 2.5)}`]);
    if (r.ingest && a.ingest) {
      const i = r.ingest;
      out.push([`ingest (${i.connections} conns): accepted/s (floor: accept floor)`, i.acceptedPerSecond, a.ingest.acceptedPerSecond, ratio(i.acceptedPerSecond, a.ingest.acceptedPerSecond), '']);
      out.push([`ingest (${i.connections} conns): p99 (ms) (floor: accept floor)`, i.p99Ms, a.ingest.p99Ms, ratio(i.p99Ms, a.ingest.p99Ms), '']);
      out.push(['ingest: accept floor non-2xx; errors', '', `${a.ingest.non2xx}; ${a.ingest.errors}`, '', '']);
    }
  }
  return out;
}

/**
 * The shape the targets against the floor are set for: 10,000 readers on one gateway process. At
 * fewer readers the fan-out is so short that Flashwire's accept (HTTP, the key and rate checks, the
 * durable append), which the floor's PUBLISH skips, is a large part of it; those runs are reported,
 * not judged.
 */
function atFloorShape(r: NResult): boolean {
  return r.readers === 10_000 && r.gatewayProcesses === 1;
}

/** Single-alert time targets for many readers over several gateway processes, where no floor can take part (its processes would pass the open-file limit). */
const LAST_READER_MS_AT_100K = 2000;
const WORST_ALERT_MS_AT_50K = 1000;

function lastReaderTarget(r: NResult): string {
  if (r.readers < 100_000) return '';
  return `≤ ${LAST_READER_MS_AT_100K} ms at 100,000 readers: ${verdict(r.flashwire.spaced.lastReaderMedianMs <= LAST_READER_MS_AT_100K)}`;
}

function worstAlertTarget(r: NResult): string {
  if (r.readers !== 50_000) return '';
  return `≤ ${WORST_ALERT_MS_AT_50K} ms at 50,000 readers: ${verdict(r.flashwire.spaced.lastReaderMaxMs <= WORST_ALERT_MS_AT_50K)}`;
}

function cpuPerDelivery(p: PhaseResult): string {
  const c = p.spaced.cpu;
  if (!c) return '';
  const n = p.readers * p.spaced.alerts - p.spaced.lost;
  const us = (s: number) => Math.round((s * 1e6) / Math.max(1, n));
  return `${us(c.serverSeconds)} / ${us(c.readerSeconds)} / ${us(c.otherSeconds)}`;
}

function processRss(ps: ProcessFigures[] | undefined): string {
  if (!ps) return '';
  const total = round(ps.reduce((s, p) => s + p.rssMiB, 0), 1);
  const primary = ps.find((p) => p.role === 'primary');
  const workers = ps.filter((p) => p.role !== 'primary').map((p) => p.rssMiB);
  if (!primary) return `${workers.join(', ')}`;
  return `primary ${primary.rssMiB}; workers ${workers.join(', ')}; total ${total}`;
}

function processFiles(ps: ProcessFigures[] | undefined): string {
  return ps ? ps.filter((p) => p.role !== 'primary').map((p) => p.openFiles).join(', ') : '';
}

function ms(x: number | null): string {
  return x === null ? '–' : String(x);
}

function killRows(k: KillResult): Row[] {
  const lat = (l: KillResult['before']) => `${ms(l.lastReaderMaxMs)} / ${ms(l.p99Ms)} (${l.alerts} alerts)`;
  const replacement = k.replacementListeningMs === null ? 'none' : `listening ${round(k.replacementListeningMs / 1000, 2)} s after the kill, ${processFiles(k.processesAfter.filter((p) => p.pid === k.replacementPid)) || '?'} open files at the end`;
  const none = k.lost === 0 && k.duplicates === 0 && k.resyncs === 0 && k.gaveUp === 0;
  return [
    ['gateway killed: readers dropped (of all readers); alerts every (s)', `${k.readersDropped} (of ${k.readers}); ${round(k.spacingMs / 1000, 1)}`, '', '', ''],
    ['  kill → last drop seen by a reader (ms); per reader, drop → welcomed back p50 / p99 / max (ms)', `${ms(k.lastDropMs)}; ${k.outageMs ? `${k.outageMs.p50} / ${k.outageMs.p99} / ${k.outageMs.max}` : '–'}`, '', '', ''],
    ['  kill → every dropped reader back, welcomed with its since (s)', k.reconnectedMs === null ? 'not all' : round(k.reconnectedMs / 1000, 2), '', '', ''],
    ['  kill → every dropped reader caught up (s)', k.caughtUpMs === null ? 'not all' : round(k.caughtUpMs / 1000, 2), '', '', ''],
    ['  reconnect attempts; resyncs; gave up', `${k.reconnectAttempts}; ${k.resyncs}; ${k.gaveUp}`, '', '', ''],
    ['  drops seen by readers, per second after the kill', k.dropsPerSecond.join(', '), '', '', ''],
    ['  replacement process started by the cluster primary', replacement, '', '', ''],
    ['  open files per worker after the storm', processFiles(k.processesAfter), '', '', ''],
    ['  alerts lost / duplicated, every reader × every alert (before, during, after)', `${k.lost} / ${k.duplicates} of ${k.deliveries + k.lost}`, '', '', `0: ${verdict(none)}`],
    ['  before the kill: last reader, worst alert / p99 (ms)', lat(k.before), '', '', ''],
    ['  storm (kill → all caught up): last reader, worst alert / p99 (ms)', lat(k.storm), '', '', ''],
    ['  storm, readers never dropped: last reader, worst alert / p99 (ms)', lat(k.stormUndropped), '', '', ''],
    ['  after the storm: last reader, worst alert / p99 (ms)', lat(k.after), '', '', ''],
  ];
}

export function renderTable(run: RunResult): string {
  const parts: string[] = [];
  for (const r of run.results) {
    parts.push(
      `### ${r.readers.toLocaleString('en')} readers, ${r.topicsPerReader} topic(s) each, ${r.gatewayProcesses} gateway process(es), ${r.clientProcesses} client processes, ${r.frameBytes}-byte frames`,
      '',
      '| metric | Flashwire | floor (bare ws; accept rows: accept floor) | Flashwire / floor | target |',
      '| --- | ---: | ---: | ---: | --- |',
      ...rows(r).map((row) => `| ${row.map((c) => (c === null ? '' : String(c))).join(' | ')} |`),
      '',
      ...(r.floorSkipped ? [`The floor was ${r.floorSkipped}.`, ''] : []),
    );
  }
  parts.push(`Machine: ${run.machine.cpus} × ${run.machine.cpuModel}, ${run.machine.memoryGiB} GiB, Node ${run.machine.node}; load average at start ${run.machine.loadAverage.join(' ')}.`);
  return parts.join('\n');
}
