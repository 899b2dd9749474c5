/**
 * A newsroom at a steady pace: posts alerts on random topics and keeps the
 * ids of every 202. Anything but 202/503 (or a refused connection while the
 * API is down) is a finding and is counted separately.
 */
import { randomUUID } from 'node:crypto';

export const TOPICS = ['world', 'europe/ukraine', 'europe/france', 'sport/football', 'tech', 'business/markets'];
/** Subscriptions readers choose from: exact, parent, and every public topic. */
export const SUBSCRIPTIONS = [['world'], ['europe'], ['europe/ukraine'], ['sport', 'tech'], ['*'], ['business', 'world']];

export interface PostOutcome {
  status: number | 'network';
  id?: string;
  /** The body of an answer that is neither 202 nor 503, kept for the report. */
  detail?: string;
  at: number;
}

export class Poster {
  readonly accepted: string[] = [];
  readonly outcomes: PostOutcome[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  private n = 0;

  constructor(
    private readonly apiUrl: () => string,
    private readonly publishKey: string,
    private readonly label = 'chaos',
  ) {}

  counts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const o of this.outcomes) c[String(o.status)] = (c[String(o.status)] ?? 0) + 1;
    return c;
  }

  /** Posts one alert; resolves with what the API said. */
  async postOne(topics = [TOPICS[this.n % TOPICS.length]!, ...(this.n % 3 === 0 ? [TOPICS[(this.n + 2) % TOPICS.length]!] : [])]): Promise<PostOutcome> {
    const i = ++this.n;
    let out: PostOutcome;
    try {
      const res = await fetch(`${this.apiUrl()}/v1/alerts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${this.publishKey}`, 'Idempotency-Key': randomUUID() },
        body: JSON.stringify({ headline: `${this.label} alert ${i}`, topics, priority: i % 7 === 0 ? 'flash' : 'urgent' }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      out = { status: res.status, at: Date.now() };
      if (res.status === 202) {
        out.id = (JSON.parse(text) as { id: string }).id;
        this.accepted.push(out.id);
      } else if (res.status !== 503) out.detail = text.slice(0, 500);
    } catch {
      out = { status: 'network', at: Date.now() };
    }
    this.outcomes.push(out);
    return out;
  }

  /** Posts every `everyMs` until stop(). */
  start(everyMs: number): void {
    this.timer = setInterval(() => {
      const p = this.postOne().then(() => undefined);
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }, everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
  }
}
