/**
 * Reconnection delays: exponential backoff with jitter, one rule for every
 * Flashwire client (this package's AlertStream, the CLI's `tail` through it,
 * and the browser client, whose bundle includes this module: keep it free of
 * imports). The
 * delay for attempt n lies between half and all of
 * min(maxMs, initialMs * 2^n), so a crowd of readers cut off at once does
 * not come back at once.
 */
export interface BackoffOptions {
  /** The first delay's ceiling (ms). */
  initialDelayMs?: number;
  /** No delay is longer than this (ms). */
  maxDelayMs?: number;
}

export const DEFAULT_INITIAL_DELAY_MS = 500;
export const DEFAULT_MAX_DELAY_MS = 30_000;

export function backoffDelay(attempt: number, o: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = Math.max(1, o.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS);
  const max = Math.max(initial, o.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
  const cap = Math.min(max, initial * 2 ** Math.max(0, attempt));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
