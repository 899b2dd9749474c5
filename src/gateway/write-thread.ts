/**
 * The body of a write thread (see parallel-writes.ts): it takes chunks of a
 * dispatch's socket writes off a shared list and writes them with write(2)
 * on the socket's descriptor, beside the gateway's main thread doing the
 * same. A dispatch to 10,000 sockets is 10,000 writes whose cost is almost
 * all the kernel's (TCP on the sender's side, on loopback the receiver's
 * too), so a second thread halves the time to the last reader where a core
 * is free, and nothing in JavaScript can make one write cheaper.
 *
 * It runs as eval'd source (its own text and writeEntries', see
 * parallel-writes.ts), so both must close over nothing, and it reaches its
 * modules through require(): the same code then runs from the compiled
 * build and under the test transpiler.
 */

/** Slots of the shared control array, by name. */
export const SLOT = {
  /** Bumped to wake the thread for a dispatch, or to stop it. */
  generation: 0,
  /** Entries the main thread has published so far. */
  published: 1,
  /** Next entry not yet claimed by either thread. NO_ENTRY between dispatches. */
  cursor: 2,
  /** 1 once the main thread will publish no more entries for this dispatch. */
  ended: 3,
  /** 1 while the thread may still claim or write an entry. */
  active: 4,
  /** 1 while the thread waits for a chunk to be published; the main thread takes it to 0 to wake it. */
  waiting: 5,
  /** 1 once the thread is to exit. */
  stop: 6,
  /** Threads still running: set by the main thread at the start, lowered by each thread as it ends, however it ends. */
  alive: 7,
} as const;
export const CONTROL_SLOTS = 8;
/** The cursor between dispatches: far past any entry, so a late claim takes nothing. */
export const NO_ENTRY = 0x40000000;
/** Entries claimed at once: fewer atomic operations, still fine-grained enough to share the work. */
export const CHUNK = 16;

export interface WriteThreadData {
  control: SharedArrayBuffer;
  /** Per entry: descriptor, payload offset, payload length, result (bytes written). */
  entries: SharedArrayBuffer;
  payload: SharedArrayBuffer;
}

/**
 * Writes entries [from, to) of a shared list on their descriptors, each
 * result in its fourth slot: the bytes written, or -1 when the write was
 * refused (EAGAIN, the socket's buffer full, or a connection already gone),
 * which finish() then writes through the socket, where it queues or is
 * reported. Returns how many were written at all. The main thread calls it
 * for its own chunks, and the write thread gets its text (so it, too, closes
 * over nothing: `write` is fs.writeSync).
 */
export function writeEntries(write: (fd: number, buffer: Uint8Array, offset: number, length: number) => number, entries: Int32Array, payload: Uint8Array, from: number, to: number): number {
  let made = 0;
  for (let i = from; i < to; i++) {
    const e = i * 4;
    let written: number;
    try {
      written = write(entries[e]!, payload, entries[e + 1]!, entries[e + 2]!);
    } catch {
      written = -1;
    }
    entries[e + 3] = written;
    if (written > 0) made++;
  }
  return made;
}

/** Runs in the write thread, given writeEntries. Self-contained: see the file's comment. */
export function writeThreadMain(writeRange: typeof writeEntries): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const { writeSync } = require('node:fs') as typeof import('node:fs');
  const data = workerData as WriteThreadData;
  // Constants are repeated here: this function's text is all the thread gets.
  const GENERATION = 0, PUBLISHED = 1, CURSOR = 2, ENDED = 3, ACTIVE = 4, WAITING = 5, STOP = 6, ALIVE = 7;
  const CLAIM = 16;
  const control = new Int32Array(data.control);
  const entries = new Int32Array(data.entries);
  const payload = new Uint8Array(data.payload);

  /**
   * Takes chunks until the dispatch has ended and nothing is left. Only a
   * whole chunk is taken before the end: waking for each entry the main
   * thread publishes cost a futex call per entry on both sides and left
   * the thread writing one entry per wake-up.
   */
  const share = (): void => {
    for (;;) {
      // ENDED before PUBLISHED: once the end is seen, the count read after it is final.
      const ended = Atomics.load(control, ENDED) === 1;
      const published = Atomics.load(control, PUBLISHED);
      const at = Atomics.load(control, CURSOR);
      if (at < published && (ended || published - at >= CLAIM)) {
        const end = Math.min(at + CLAIM, published);
        if (Atomics.compareExchange(control, CURSOR, at, end) === at) writeRange(writeSync, entries, payload, at, end);
        continue;
      }
      if (ended) return;
      Atomics.store(control, WAITING, 1);
      // Looked at again once WAITING is visible: a chunk published before this
      // point is seen here, and one published after it finds WAITING set. The
      // main thread wakes the thread by taking WAITING back to 0, once, so a
      // wake-up that comes before the wait makes the wait return at once.
      const now = Atomics.load(control, PUBLISHED);
      if (now - Atomics.load(control, CURSOR) < CLAIM && Atomics.load(control, ENDED) === 0) {
        Atomics.wait(control, WAITING, 1, 5);
      }
      Atomics.store(control, WAITING, 0);
    }
  };

  let seen = 0;
  try {
    for (;;) {
      Atomics.wait(control, GENERATION, seen);
      if (Atomics.load(control, STOP) === 1) return;
      seen = Atomics.load(control, GENERATION);
      // Counted before any claim: the main thread waits for this to fall back
      // to zero, and a claim made after it saw zero finds the cursor exhausted.
      Atomics.add(control, ACTIVE, 1);
      try {
        share();
      } finally {
        Atomics.sub(control, ACTIVE, 1);
        Atomics.notify(control, ACTIVE);
      }
    }
  } finally {
    // However the thread ends, the main thread must not wait for it again.
    Atomics.sub(control, ALIVE, 1);
    Atomics.notify(control, ACTIVE);
  }
}
