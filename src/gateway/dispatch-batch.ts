/**
 * Which feed event of a tail batch is being dispatched. A WebSocket transport
 * holds an event's frames until the tick ends while more of the same batch
 * follow, so that a burst goes to each socket in one write; the batch's last
 * event is written at once, behind whatever the socket held. Without that, a
 * single alert's first reader waited for the whole dispatch loop (every
 * reader's bookkeeping) before the first byte went out, and the readers'
 * side of the machine sat idle meanwhile.
 *
 * Writes outside a live dispatch (replay, a resume's catch-up) stay held
 * until the tick ends: they come in runs, and a run is one write.
 */
let dispatchingLast = false;

/** Runs a dispatch of the batch's last event: transports write through. */
export function dispatchLastOfBatch<T>(dispatch: () => T): T {
  dispatchingLast = true;
  try {
    return dispatch();
  } finally {
    dispatchingLast = false;
  }
}

/** True while the last event of a tail batch is being dispatched. */
export function writeThrough(): boolean {
  return dispatchingLast;
}
