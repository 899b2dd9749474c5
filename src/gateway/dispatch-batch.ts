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
 *
 * With a write thread (parallel-writes.ts), the last event's writes are
 * shared with it, and all of them are on their sockets when this returns.
 */
import type { ParallelWrites } from './parallel-writes';

let dispatchingLast = false;
let shared: ParallelWrites | undefined;
let sharedDispatch = 0;

/** Runs a dispatch of the batch's last event: transports write through. */
export function dispatchLastOfBatch<T>(dispatch: () => T, writes?: ParallelWrites): T {
  dispatchingLast = true;
  if (writes) {
    shared = writes;
    sharedDispatch = writes.begin();
  }
  try {
    return dispatch();
  } finally {
    dispatchingLast = false;
    if (shared) {
      shared = undefined;
      writes!.finish();
    }
  }
}

/** True while the last event of a tail batch is being dispatched. */
export function writeThrough(): boolean {
  return dispatchingLast;
}

/** The writes being shared with a write thread in this dispatch, if any, and the dispatch's number. */
export function sharedWrites(): ParallelWrites | undefined {
  return shared;
}

export function sharedDispatchNumber(): number {
  return sharedDispatch;
}

/**
 * Makes sure nothing offered in dispatch `n` is still being written by the
 * thread, before the caller writes something else to the same socket.
 */
export function settleShared(n: number): void {
  if (n !== 0 && shared && n === sharedDispatch) shared.finish();
}
