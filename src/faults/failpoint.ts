/**
 * Failpoints: named places where a test can make this process fail, to
 * prove that a crash or error between two steps loses and duplicates
 * nothing. Inert unless FLASHWIRE_FAILPOINTS names the point, which only the
 * fault tests set: `name` (or `name=kill`) SIGKILLs the process there,
 * `name=throw` throws. Read on each call so a test can arm and disarm it.
 */
export type FailpointName = 'worker-after-append';

export class FailpointError extends Error {
  constructor(name: string) {
    super(`failpoint ${name}`);
    this.name = 'FailpointError';
  }
}

export function failpoint(name: FailpointName): void {
  const spec = process.env.FLASHWIRE_FAILPOINTS;
  if (!spec) return;
  for (const entry of spec.split(',')) {
    const [point, action = 'kill'] = entry.trim().split('=');
    if (point !== name) continue;
    if (action === 'throw') throw new FailpointError(name);
    process.kill(process.pid, 'SIGKILL');
  }
}
