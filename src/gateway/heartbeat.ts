/**
 * Heartbeats spread over their interval. Pinging every connection at once
 * costs, each interval, about what an alert's fan-out costs (a ping out and
 * a pong back per socket), and an alert sent meanwhile waits behind it: at
 * 100,000 readers the alerts that met a heartbeat took twice as long to
 * reach the last reader. So each tick (about a second) pings a slice of the
 * connections, and each connection is still pinged once per interval and
 * dropped when a whole interval passed without its pong.
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

const TICK_MS = 1000;

export class SpreadHeartbeat<C extends HeartbeatMember> {
  private readonly slices: number;
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private round: Iterator<C> | undefined;
  private quota = 0;
  private token: Buffer | undefined;
  private previous: Buffer | undefined;

  constructor(
    private readonly members: Set<C>,
    private readonly intervalMs: number,
    private readonly ping: (member: C, token: Buffer) => void,
    private readonly dead: (member: C) => void,
  ) {
    this.slices = Math.max(1, Math.round(intervalMs / TICK_MS));
  }

  start(): void {
    this.timer = setInterval(() => this.step(), this.intervalMs / this.slices);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True for a pong that answers a ping of this round or the last. */
  answers(data: Buffer): boolean {
    return (this.token !== undefined && data.equals(this.token)) || (this.previous !== undefined && data.equals(this.previous));
  }

  private step(): void {
    const inRound = this.tick % this.slices;
    this.tick++;
    if (inRound === 0 || !this.round) {
      this.previous = this.token;
      this.token = randomBytes(8);
      // A Set's iterator sees members added during the round and skips those removed.
      this.round = this.members.values();
      this.quota = Math.ceil(this.members.size / this.slices);
    }
    // The round's last tick takes everyone left, members added since it began too.
    let n = inRound === this.slices - 1 ? Infinity : this.quota;
    for (; n > 0; n--) {
      const next = this.round.next();
      if (next.done) break;
      this.visit(next.value);
    }
  }

  private visit(m: C): void {
    if (m.pingedAt !== 0) {
      // Not answered. Judged once a whole interval has passed: a member that moved up
      // the order (others left) may come round sooner, and waits for the next round.
      if (this.tick - m.pingedAt >= this.slices) this.dead(m);
      return;
    }
    m.pingedAt = this.tick;
    this.ping(m, this.token!);
  }
}
