/**
 * Failpoints: named places where a test can make this process die, to prove
 * that a crash between two steps loses and duplicates nothing. Inert unless
 * FLASHWIRE_FAILPOINTS names the point (a comma list), which only the fault
 * tests set.
 */
const armed = new Set(
  (process.env.FLASHWIRE_FAILPOINTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

export type FailpointName = 'worker-after-append';

export function failpoint(name: FailpointName): void {
  if (armed.size !== 0 && armed.has(name)) process.kill(process.pid, 'SIGKILL');
}
