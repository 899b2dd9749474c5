/**
 * Failpoints: named places where a test can make this process fail, to
 * prove that a crash or error between two steps loses and duplicates
 * nothing. Inert unless FLASHWIRE_FAILPOINTS names the point, which only the
 * fault tests set. Each comma-separated entry is `name[=action][@n]`:
 * `kill` (the default) SIGKILLs the process there, `throw` throws, and `@n`
 * lets the first n-1 passes through so a kill lands in the middle of a burst
 * rather than on its first alert. Read on each call so a test can arm and
 * disarm it in-process.
 */
export type FailpointName =
  /** Worker: the send is in the feed, the job not yet completed. */
  | 'worker-after-append'
  /** Worker: the job is active (locked), nothing appended yet. */
  | 'worker-before-append'
  /** API: the request is checked and its record built; nothing written yet. */
  | 'api-before-accept'
  /** API, finishing an unfinished Idempotency-Key's alert: the record is in Redis, its job not yet queued. */
  | 'api-after-record'
  /** API, accepting behind a backlog: the record is in Redis, its job not yet queued. */
  | 'api-before-queue'
  /** API: record and job are durable, the 202 not yet written. */
  | 'api-before-answer';

export class FailpointError extends Error {
  constructor(name: string) {
    super(`failpoint ${name}`);
    this.name = 'FailpointError';
  }
}

const passes = new Map<string, number>();

export function failpoint(name: FailpointName): void {
  const spec = process.env.FLASHWIRE_FAILPOINTS;
  if (!spec) return;
  for (const entry of spec.split(',')) {
    const m = /^\s*([a-z-]+)(?:=(kill|throw))?(?:@(\d+))?\s*$/.exec(entry);
    if (!m || m[1] !== name) continue;
    const nth = m[3] ? Number(m[3]) : 1;
    const seen = (passes.get(name) ?? 0) + 1;
    passes.set(name, seen);
    if (seen < nth) continue;
    if (m[2] === 'throw') throw new FailpointError(name);
    process.kill(process.pid, 'SIGKILL');
  }
}
