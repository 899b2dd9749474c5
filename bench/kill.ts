/**
 * A gateway process killed under load: with every reader connected and
 * alerts posted at a steady pace, one gateway process (a cluster worker) is
 * sent SIGKILL. Its readers reconnect as the clients do (backoff with
 * jitter, `since=<the last eventId they had>`) and land on the processes
 * left, or on the replacement the cluster primary starts. Measured: the
 * time from the kill until every dropped reader is back and caught up, and
 * the alerts' latency before, during and after that storm; checked: every
 * reader got every alert exactly once.
 */
import type { Collected } from './readers';
import { type ReaderFleet, type Target } from './fleet';
import { gatewayProcesses, workerPids, type ProcessFigures } from './proc-stats';
import { now, sleep } from './procs';
import { median, pct, round, sorted } from './stats';

export interface KillOptions {
  /** Between alert posts, ms. */
  spacingMs: number;
  /** Alerts posted before the kill, and after every dropped reader is back. */
  before: number;
  after: number;
  /** The storm is given up on after this long (ms). */
  stormLimitMs: number;
}

/** Latency of a set of alerts: the slowest reader per alert (worst and median over alerts), and over every delivery. */
export interface AlertLatency {
  alerts: number;
  lastReaderMaxMs: number | null;
  lastReaderMedianMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface KillResult {
  /** Between alert posts, ms. */
  spacingMs: number;
  killedPid: number;
  /** Drops seen by readers (one reader may drop more than once), per second after the kill. */
  dropsPerSecond: number[];
  /** Closes seen by readers over the whole run, by close code. */
  closeCodes: Record<string, number>;
  /** Readers whose connection dropped: those of the killed process. */
  readersDropped: number;
  readers: number;
  /** Kill → the last reader saw its connection drop. */
  lastDropMs: number | null;
  /** Per dropped reader, from its drop to its welcome back: median, p99, max. */
  outageMs: { p50: number; p99: number; max: number } | null;
  /** Kill → the last dropped reader welcomed back (its resume planned). */
  reconnectedMs: number | null;
  /** Kill → the last dropped reader had every alert posted before it was back. */
  caughtUpMs: number | null;
  /** The cluster primary started a replacement: when it listened (after the kill), and its pid. */
  replacementListeningMs: number | null;
  replacementPid: number | null;
  reconnectAttempts: number;
  resyncs: number;
  gaveUp: number;
  /** Over every alert of the phase (before, during and after the storm) and every reader. */
  deliveries: number;
  lost: number;
  duplicates: number;
  before: AlertLatency;
  storm: AlertLatency;
  /** Storm alerts, readers that were never dropped only. */
  stormUndropped: AlertLatency;
  after: AlertLatency;
  processesBefore: ProcessFigures[];
  processesAfter: ProcessFigures[];
}

export async function killPhase(target: Target, fleet: ReaderFleet, readers: number, o: KillOptions, log: (s: string) => void): Promise<KillResult> {
  const capacity = o.before + Math.ceil(o.stormLimitMs / o.spacingMs) + o.after;
  await fleet.phase('k', capacity, -1);
  const processesBefore = gatewayProcesses(target.pid);
  const workers = workerPids(target.pid);
  if (workers.length < 2 || workers[0] === target.pid) throw new Error('--kill-gateway needs --gateways 2 or more: the readers need a process to land on');
  // The busiest worker: the one whose loss drops the most readers.
  const victim = processesBefore.filter((p) => p.role === 'worker').sort((a, b) => b.openFiles - a.openFiles)[0]!.pid;
  const t0: number[] = [];
  const start = now();
  let killAt = 0;
  let backAt = 0;
  let afterPosted = 0;
  const stormDeadline = () => killAt + o.stormLimitMs;
  const sleepUntil = (t: number) => sleep(Math.max(0, t - now()));
  for (let k = 0; k < capacity; k++) {
    if (k === o.before) {
      await sleepUntil(start + (k - 0.5) * o.spacingMs);
      killAt = now();
      process.kill(victim, 'SIGKILL');
      log(`flashwire: SIGKILL to gateway process ${victim} (${processesBefore.find((p) => p.pid === victim)!.openFiles} open files)`);
    }
    await sleepUntil(start + k * o.spacingMs);
    t0[k] = await target.send('k', k, 'urgent');
    if (!killAt) continue;
    if (backAt) {
      if (++afterPosted >= o.after) break;
      continue;
    }
    const p = await fleet.progress();
    // Everyone dropped is back (or gave up): the storm is over once the drops have surely all been seen.
    if (p.drops > 0 && p.down - p.gaveUp <= 0 && now() - killAt > 2000) {
      backAt = now();
      log(`flashwire: ${p.drops} readers dropped, ${p.reopens} back, ${p.gaveUp} gave up, ${round((backAt - killAt) / 1000, 2)} s after the kill`);
    } else if (now() > stormDeadline()) {
      log(`flashwire: storm not over ${o.stormLimitMs} ms after the kill (${p.down} readers down); carrying on`);
      backAt = now();
    }
  }
  const posted = t0.length;
  // Every reader should now get every alert posted; bounded, and given up when nothing moves.
  const allHave = async () => Math.min(...(await fleet.progress()).perSeq.slice(0, posted));
  const deadline = Date.now() + 60_000;
  let lastMin = -1;
  let lastMove = Date.now();
  for (let i = 0; i < 10_000 && Date.now() < deadline && Date.now() - lastMove < 20_000; i++) {
    const m = await allHave();
    if (m >= readers) break;
    if (m !== lastMin) {
      lastMin = m;
      lastMove = Date.now();
    }
    await sleep(200);
  }
  const collected = await fleet.collect();
  const processesAfter = gatewayProcesses(target.pid);
  const fresh = workerPids(target.pid).filter((pid) => !workers.includes(pid));
  const listened = target.listenedAt.find((t) => t > killAt);
  const dropsPerSecond: number[] = [];
  for (const c of collected) {
    for (const t of c.dropTimes) {
      const sec = Math.max(0, Math.floor((t - killAt) / 1000));
      while (dropsPerSecond.length <= sec) dropsPerSecond.push(0);
      dropsPerSecond[sec]!++;
    }
  }
  const closeCodes: Record<string, number> = {};
  for (const c of collected) for (const [code, n] of Object.entries(c.closeCodes)) closeCodes[code] = (closeCodes[code] ?? 0) + n;
  return {
    spacingMs: o.spacingMs,
    killedPid: victim,
    dropsPerSecond,
    closeCodes,
    readers,
    ...analyse(collected, t0.slice(0, posted), capacity, killAt),
    replacementListeningMs: listened === undefined ? null : round(listened - killAt, 0),
    replacementPid: fresh[0] ?? null,
    reconnectAttempts: sum(collected, (c) => c.reconnectAttempts),
    resyncs: sum(collected, (c) => c.resyncs),
    gaveUp: sum(collected, (c) => c.gaveUp),
    processesBefore,
    processesAfter,
  };
}

function sum(cs: Collected[], f: (c: Collected) => number): number {
  return cs.reduce((s, c) => s + f(c), 0);
}

type Analysis = Pick<KillResult, 'readersDropped' | 'lastDropMs' | 'outageMs' | 'reconnectedMs' | 'caughtUpMs' | 'deliveries' | 'lost' | 'duplicates' | 'before' | 'storm' | 'stormUndropped' | 'after'>;

/** Receipt times against post times: who dropped, when each was back and caught up, and the latency of each class of alert. */
function analyse(cs: Collected[], t0: number[], capacity: number, killAt: number): Analysis {
  const posted = t0.length;
  let dropped = 0;
  let lastBack = 0;
  let lastCaughtUp = 0;
  let lost = 0;
  let deliveries = 0;
  let neverBack = 0;
  let lastDrop = 0;
  const outages: number[] = [];
  for (const c of cs) {
    for (let r = 0; r < c.readers; r++) {
      for (let k = 0; k < posted; k++) {
        if (c.times[r * capacity + k]) deliveries++;
        else lost++;
      }
      if (!c.droppedAt[r]) continue;
      dropped++;
      lastDrop = Math.max(lastDrop, c.droppedAt[r]!);
      const back = c.reopenedAt[r]!;
      if (!back) {
        neverBack++;
        continue;
      }
      outages.push(back - c.droppedAt[r]!);
      lastBack = Math.max(lastBack, back);
      // Caught up: back, and holding every alert posted before it was back.
      let caughtUp = back;
      for (let k = 0; k < posted && t0[k]! < back; k++) caughtUp = Math.max(caughtUp, c.times[r * capacity + k] || Infinity);
      lastCaughtUp = Math.max(lastCaughtUp, caughtUp);
    }
  }
  const stormEnd = neverBack || !Number.isFinite(lastCaughtUp) ? Infinity : lastCaughtUp;
  const classOf = (k: number) => (t0[k]! < killAt ? 'before' : t0[k]! <= stormEnd ? 'storm' : 'after');
  const latency = (cls: string, undroppedOnly = false): AlertLatency => {
    const all: number[] = [];
    const lastReader: number[] = [];
    for (let k = 0; k < posted; k++) {
      if (classOf(k) !== cls) continue;
      let max = 0;
      for (const c of cs) {
        for (let r = 0; r < c.readers; r++) {
          if (undroppedOnly && c.droppedAt[r]) continue;
          const t = c.times[r * capacity + k]!;
          if (!t) continue;
          all.push(t - t0[k]!);
          max = Math.max(max, t - t0[k]!);
        }
      }
      lastReader.push(max);
    }
    const s = sorted(all);
    const ms = (x: number) => (Number.isFinite(x) ? round(x, 1) : null);
    return { alerts: lastReader.length, lastReaderMaxMs: lastReader.length ? ms(Math.max(...lastReader)) : null, lastReaderMedianMs: lastReader.length ? ms(median(lastReader)) : null, p50Ms: ms(pct(s, 50)), p99Ms: ms(pct(s, 99)) };
  };
  return {
    readersDropped: dropped,
    lastDropMs: dropped ? round(lastDrop - killAt, 0) : null,
    outageMs: outages.length ? (({ s }) => ({ p50: round(pct(s, 50), 0), p99: round(pct(s, 99), 0), max: round(pct(s, 100), 0) }))({ s: sorted(outages) }) : null,
    reconnectedMs: dropped && !neverBack ? round(lastBack - killAt, 0) : null,
    caughtUpMs: dropped && Number.isFinite(stormEnd) ? round(stormEnd - killAt, 0) : null,
    deliveries,
    lost,
    duplicates: sum(cs, (c) => c.duplicates),
    before: latency('before'),
    storm: latency('storm'),
    stormUndropped: latency('storm', true),
    after: latency('after'),
  };
}
