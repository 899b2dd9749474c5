/**
 * The orchestrator's side of the reader processes: a fleet of them opened
 * against one system under test, asked for progress and results over IPC;
 * and the bounded wait the measuring loops poll with.
 */
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { forkModule, nextMessage, sleep } from './procs';
import type { Collected, Opened, Phase, Progress, ToReaders } from './readers';

/** One system under test, seen by the measuring loop. */
export interface Target {
  name: 'flashwire' | 'floor';
  /** WebSocket URL up to the query; readers append their topics. */
  urlBase: string;
  pid: number;
  /** The system's other processes (Flashwire's API and worker), named by role in the CPU split. */
  namedPids?: Record<number, string>;
  /** Sends alert k of a phase; answers the time it was handed over. */
  send(phase: Phase, k: number, priority: string): Promise<number>;
  /** How long each send took to be answered (the POST's 202), ms. */
  accepted: number[];
  /** When each of the server's processes said it listened (a cluster's replacement workers too). */
  listenedAt: number[];
  stop(): Promise<void>;
}

/** The fleet's progress: every reader process's, summed. */
export type FleetProgress = Omit<Progress, 'ev'>;

export interface OpenOptions {
  topics: number;
  firstReader?: number;
  /** Readers reconnect with `since` when dropped, as the clients do. */
  resume?: boolean;
  /** Node flags for the reader processes, e.g. `--cpu-prof --cpu-prof-dir=DIR`. */
  nodeArgs?: string[];
}

export class ReaderFleet {
  constructor(readonly procs: ChildProcess[], readonly counts: number[]) {}

  static async open(target: Target, n: number, procCount: number, o: OpenOptions): Promise<{ fleet: ReaderFleet; seconds: number; open: number; failed: number; firstError?: string }> {
    const procs: ChildProcess[] = [];
    const counts: number[] = [];
    // A fresh /16 of loopback per fleet: ports left in TIME_WAIT by the last fleet are not in the way.
    const a = 10 + Math.floor(Math.random() * 200);
    const b = Math.floor(Math.random() * 250);
    const t0 = Date.now();
    const opened: Promise<Opened>[] = [];
    let base = o.firstReader ?? 0;
    // Handshakes are slower when many processes open at once; the limit grows with the share of each.
    const perProc = Math.ceil(n / procCount);
    const timeoutMs = Math.max(150_000, perProc * 60);
    for (let i = 0; i < procCount; i++) {
      const count = Math.floor(n / procCount) + (i < n % procCount ? 1 : 0);
      const p = forkModule(path.join(__dirname, 'readers.js'), [], process.env, o.nodeArgs);
      procs.push(p);
      counts.push(count);
      const firstIndex = base;
      base += count;
      opened.push(nextMessage(p, (m: Opened) => (m.ev === 'opened' ? m : undefined), timeoutMs + 30_000, 'readers open'));
      // One source address per process: at most ~28,000 ephemeral ports per address to one server port.
      const cmd: ToReaders = { cmd: 'open', urlBase: target.urlBase, topics: o.topics, firstIndex, count, localAddress: `127.${a}.${b}.${i + 1}`, inFlight: 64, timeoutMs, resume: o.resume ?? false };
      p.send(cmd);
    }
    const results = await Promise.all(opened);
    return {
      fleet: new ReaderFleet(procs, counts),
      seconds: (Date.now() - t0) / 1000,
      open: results.reduce((s, r) => s + r.open, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      firstError: results.find((r) => r.firstError)?.firstError,
    };
  }

  // Reader processes answer between socket events: under a reconnect storm that can take a while.
  private ask<T>(cmd: ToReaders, ev: string, timeoutMs = 60_000): Promise<T[]> {
    return Promise.all(
      this.procs.map((p) => {
        const answer = nextMessage(p, (m: { ev: string }) => (m.ev === ev ? (m as T) : undefined), timeoutMs, `readers ${cmd.cmd}`);
        p.send(cmd);
        return answer;
      }),
    );
  }

  async phase(phase: Phase, alerts: number, flashSeq: number): Promise<void> {
    await this.ask<Progress>({ cmd: 'phase', phase, alerts, flashSeq }, 'progress');
  }

  async progress(): Promise<FleetProgress> {
    const all = await this.ask<Progress>({ cmd: 'progress' }, 'progress');
    const sum = (f: (p: Progress) => number) => all.reduce((s, p) => s + f(p), 0);
    const perSeq = all[0]!.perSeq.map((_, k) => sum((p) => p.perSeq[k] ?? 0));
    return { perSeq, total: sum((p) => p.total), closed: sum((p) => p.closed), down: sum((p) => p.down), drops: sum((p) => p.drops), reopens: sum((p) => p.reopens), resyncs: sum((p) => p.resyncs), gaveUp: sum((p) => p.gaveUp) };
  }

  collect(): Promise<Collected[]> {
    return this.ask<Collected>({ cmd: 'collect' }, 'collected', 120_000);
  }

  async close(): Promise<void> {
    for (const p of this.procs) if (p.connected) p.send({ cmd: 'exit' });
    await Promise.all(this.procs.map((p) => Promise.race([new Promise((r) => p.once('exit', r)), sleep(5000).then(() => p.kill('SIGKILL'))])));
  }
}

/** Polls until the value reaches `target`; false when `limitMs` passed or nothing moved for `stallMs`. */
export async function waitUntil(poll: () => Promise<number>, target: number, limitMs: number, stallMs: number, everyMs = 20): Promise<boolean> {
  const start = Date.now();
  let last = -1;
  let lastMove = Date.now();
  for (let i = 0; i < 1_000_000; i++) {
    const v = await poll();
    if (v >= target) return true;
    if (v !== last) {
      last = v;
      lastMove = Date.now();
    }
    if (Date.now() - start > limitMs || Date.now() - lastMove > stallMs) return false;
    await sleep(everyMs);
  }
  return false;
}
