/**
 * How long a Flashwire client waits for a connection to be served (the
 * WebSocket upgrade answered, the event stream's headers received) before it
 * gives up on it and reconnects with its backoff. One rule for every client;
 * the browser client's bundle includes this module, so it imports nothing.
 *
 * Without a limit, a connection the server never answers waits forever: its
 * TCP link is up, so the system's connect timeout does not apply. That
 * happens when a gateway process is killed: node:cluster's primary may
 * already have handed it a connection it will never serve (about one
 * reconnect in 10,000 in a kill under 50,000 readers). The limit is long
 * enough to let a reconnect storm's queued handshakes be served: when a
 * gateway process holding 15,000 of 100,000 readers on two cores was
 * killed, 99 % of its readers were back within 16 s. A slower storm repeats
 * some handshakes, which costs time, never an alert (readers resume with
 * `since`).
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

/** The limit to use: the option if it is a positive number, else the default. */
export function handshakeTimeout(ms: number | undefined): number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_HANDSHAKE_TIMEOUT_MS;
}
