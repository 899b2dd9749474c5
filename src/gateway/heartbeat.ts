/**
 * Heartbeats spread over their interval. Pinging every connection at once
 * costs, each interval, about what an alert's fan-out costs (a ping out and
 * a pong back per socket), and an alert sent meanwhile waits behind it: at
 * 100,000 readers the alerts that met a heartbeat took twice as long to
 * reach the last reader. So each tick (about a second) pings a slice of the
 * connections, and each connection is still pinged once per interval and
 * dropped when a whole interval passed without its pong.
 *
 * SSE streams are spread the same way (SpreadRound); they have nothing to
 * answer, so a visit only writes a comment line.
 *
 * One token per round serves every connection (no per-connection buffer);
 * a pong counts when it echoes this round's token or the last one's, since
 * a ping sent late in a round is answered early in the next.
 */
import { randomBytes } from 'node:crypto';

export interface HeartbeatMember {
  /** The tick it was pinged at and has not answered since; 0 when it answered (or was never pinged). */
  pingedAt: number;
}

/** What a round goes over: a Set of members, or a Map's values. */
export interface RoundMembers<C> {
  readonly size: number;
  values(): IterableIterator<C>;
}

const TICK_MS = 1000;

/**
 * Visits every member once per interval, a slice of them each tick (about
 * a second): the spreading, with nothing about what a visit does. SSE
 * streams use it as it is (a comment line per visit); WebSocket liveness is
 * SpreadHeartbeat, below.
 */
export class SpreadRound<C> {
  /** Ticks per interval. */
  readonly slices: number;
  private ticks = 0;
  private timer: NodeJS.Timeout | undefined;
  private round: Iterator<C> | undefined;
  /** Members visited so far in this round. */
  private visited = 0;

  constructor(
    private readonly members: RoundMembers<C>,
    private readonly intervalMs: number,
    private readonly visit: (member: C) => void,
    /** Called as each round begins, before its first visit. */
    private readonly onRound: () => void = () => undefined,
  ) {
    this.slices = Math.max(1, Math.round(intervalMs / TICK_MS));
  }

  /** Ticks since start. */
  get tick(): number {
    return this.ticks;
  }

  start(): void {
    this.timer = setInterval(() => this.step(), this.intervalMs / this.slices);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private step(): void {
    const inRound = this.ticks % this.slices;
    this.ticks++;
    if (inRound === 0 || !this.round) {
      this.onRound();
      // A Set's (or Map's) iterator sees members added during the round and skips those removed.
      this.round = this.members.values();
      this.visited = 0;
    }
    // What is left of the round, shared over the ticks left in it, so that
    // members who join during a round (a reconnect storm after a restart)
    // are spread too, not all visited by its last tick: a round that began
    // with no readers and ended with 7,000 pinged all 7,000 at once, and an
    // alert meeting that took three times as long. The last tick takes
    // everyone left.
    const ticksLeft = this.slices - inRound;
    let n = ticksLeft === 1 ? Infinity : Math.ceil(Math.max(0, this.members.size - this.visited) / ticksLeft);
    for (; n > 0; n--) {
      const next = this.round.next();
      if (next.done) break;
      this.visited++;
      this.visit(next.value);
    }
  }
}

/** Pings each member once per interval, spread as above, and drops one that did not answer within an interval. */
export class SpreadHeartbeat<C extends HeartbeatMember> {
  private readonly round: SpreadRound<C>;
  private token: Buffer | undefined;
  private previous: Buffer | undefined;

  constructor(
    members: RoundMembers<C>,
    intervalMs: number,
    private readonly ping: (member: C, token: Buffer) => void,
    private readonly dead: (member: C) => void,
  ) {
    this.round = new SpreadRound(
      members,
      intervalMs,
      (m) => this.visit(m),
      () => {
        this.previous = this.token;
        this.token = randomBytes(8);
      },
    );
  }

  start(): void {
    this.round.start();
  }

  stop(): void {
    this.round.stop();
  }

  /** True for a pong that answers a ping of this round or the last. */
  answers(data: Buffer): boolean {
    return (this.token !== undefined && data.equals(this.token)) || (this.previous !== undefined && data.equals(this.previous));
  }

  private visit(m: C): void {
    const tick = this.round.tick;
    if (m.pingedAt !== 0) {
      // Not answered. Judged once a whole interval has passed: a member that moved up
      // the order (others left) may come round sooner, and waits for the next round.
      if (tick - m.pingedAt >= this.round.slices) this.dead(m);
      return;
    }
    m.pingedAt = tick;
    this.ping(m, this.token!);
  }
}
