/**
 * A dispatch's socket writes shared with a write thread.
 *
 * One alert to 10,000 readers is 10,000 `write`s, and ~90 % of the
 * gateway's time in them is the kernel's (TCP on the sending side, and on
 * loopback the receiving side's too): no JavaScript makes one cheaper, but
 * a second thread can make them two at a time. While the hub walks the
 * readers of the batch's last event, the WebSocket transport offers each
 * socket's bytes here instead of writing them; the main thread publishes
 * them on a shared list, and it and the write thread take chunks off that
 * list and write them, so neither waits for the other and a descheduled
 * thread only leaves more for the other. When the dispatch ends, finish()
 * waits for the thread's last chunk, then writes through the socket
 * whatever the thread could not write whole (a full socket buffer, a
 * connection gone), behind the part that was written.
 *
 * Order per socket holds because a socket is offered only when nothing of
 * it is queued in Node (so the thread's write is next on the wire), at most
 * once per dispatch, and anything else written to it during the dispatch
 * waits for finish() first (WsTransport checks `holds`). The descriptors
 * stay valid throughout: the dispatch is synchronous, so no socket is
 * closed until finish() has returned.
 *
 * The first few writes of a dispatch are made directly, so that a dispatch
 * to a handful of readers never waits on a thread's wake-up.
 */
import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CHUNK, CONTROL_SLOTS, NO_ENTRY, SLOT, writeEntries, writeThreadMain, type WriteThreadData } from './write-thread';

/** Sockets written directly at the start of each dispatch. */
const DIRECT_FIRST = 64;
/** Entries per dispatch that can be shared; the rest are written directly. */
const MAX_ENTRIES = 65_536;
/** Bytes of distinct payloads per dispatch (usually one frame, or one run of a burst's frames). */
const PAYLOAD_BYTES = 1024 * 1024;
/**
 * How many unclaimed entries the main thread lets build up before it writes
 * a chunk itself. Deep enough that the thread finds a whole chunk waiting
 * when it comes back from one: with two chunks, both threads finished their
 * chunks together and the write thread found the list empty, waited, and
 * took the main thread's next entries one at a time.
 */
const BACKLOG = 4 * CHUNK;

interface Handle {
  fd?: number;
}

/** Dispatch numbers, unique across instances: a transport remembers the one its socket was offered in. */
let dispatches = 0;

export interface ParallelWritesOptions {
  /** Write threads beside the main thread (1 by default). */
  threads?: number;
  /** Sockets of each dispatch written directly before any is shared. */
  directFirst?: number;
  /**
   * False leaves every shared write to the threads, the main thread only
   * publishing and waiting: slower, but it makes the threads' path (short
   * writes, refused writes) certain rather than up to the scheduler, which
   * is what tests need.
   */
  mainWrites?: boolean;
  /** Told when a write thread fails; the gateway then writes on its main thread alone. */
  onError?: (err: Error) => void;
}

/** Write threads a gateway process starts: `auto` takes the cores its sibling processes leave free, up to 4. */
export function writeThreadCount(setting: number | 'auto', gatewayProcesses: number, cores = availableParallelism()): number {
  if (setting !== 'auto') return setting;
  return Math.max(0, Math.min(4, cores - gatewayProcesses));
}

export class ParallelWrites {
  private readonly control: Int32Array;
  private readonly entries: Int32Array;
  private readonly payload: Buffer;
  private readonly workers: Worker[] = [];
  private readonly directFirst: number;
  private readonly mainWrites: boolean;
  /** Main-thread side of each published entry: the socket and the bytes offered. */
  private readonly sockets: Socket[] = [];
  private readonly bytes: Buffer[] = [];
  /** Offers made during the current dispatch, shared or not. */
  private offered = 0;
  private count = 0;
  private payloadUsed = 0;
  private lastBytes: Buffer | undefined;
  private lastOffset = 0;
  private inDispatch = false;
  /** No more offers taken: stopped, or a thread is gone. */
  private stopped = false;
  private closed = false;
  /** Writes made by a write thread, whole or in part, since the start (for metrics and tests). */
  threadWrites = 0;
  /** Shared writes made short or refused on a descriptor (by either thread), finished through the socket. */
  shortWrites = 0;
  /** Of this dispatch's shared writes, those the main thread made (whole or in part). */
  private mainMade = 0;
  /** Times the main thread woke a waiting thread (for tests: at most one per chunk, never one per entry). */
  threadWakes = 0;

  constructor(options: ParallelWritesOptions = {}) {
    this.directFirst = options.directFirst ?? DIRECT_FIRST;
    this.mainWrites = options.mainWrites ?? true;
    const data: WriteThreadData = {
      control: new SharedArrayBuffer(CONTROL_SLOTS * 4),
      entries: new SharedArrayBuffer(MAX_ENTRIES * 4 * 4),
      payload: new SharedArrayBuffer(PAYLOAD_BYTES),
    };
    this.control = new Int32Array(data.control);
    this.entries = new Int32Array(data.entries);
    this.payload = Buffer.from(data.payload);
    Atomics.store(this.control, SLOT.cursor, NO_ENTRY);
    Atomics.store(this.control, SLOT.ended, 1);
    Atomics.store(this.control, SLOT.alive, options.threads ?? 1);
    const source = `(${writeThreadMain.toString()})(${writeEntries.toString()})`;
    for (let i = 0; i < (options.threads ?? 1); i++) {
      const worker = new Worker(source, { eval: true, workerData: data, name: `flashwire write thread ${i + 1}` });
      // Blocked in Atomics.wait between dispatches: it must not keep the process alive.
      worker.unref();
      // A thread that is gone takes no more work: later dispatches are written directly.
      worker.once('error', (err) => {
        this.stopped = true;
        options.onError?.(err);
      });
      worker.once('exit', () => {
        this.stopped = true;
      });
      this.workers.push(worker);
    }
  }

  /** Marks the start of a dispatch whose writes may be shared; returns its number. */
  begin(): number {
    this.inDispatch = true;
    this.offered = 0;
    return ++dispatches;
  }

  /**
   * Takes a socket's write for this dispatch, or returns false: the caller
   * then writes it directly. Only a socket with nothing queued is taken.
   */
  offer(socket: Socket, bytes: Buffer): boolean {
    if (!this.inDispatch || this.stopped) return false;
    if (this.offered++ < this.directFirst) return false;
    if (this.count >= MAX_ENTRIES || socket.writableLength !== 0 || socket.writableCorked !== 0) return false;
    // The descriptor of a plain TCP socket; a TLS socket's bytes must go through its cipher, never straight to the fd.
    const s = socket as unknown as { _handle?: Handle | null; encrypted?: boolean };
    const fd = s._handle?.fd;
    if (typeof fd !== 'number' || fd < 0 || s.encrypted === true) return false;
    const at = this.payloadOf(bytes);
    if (at < 0) return false;
    const i = this.count;
    const e = i * 4;
    this.entries[e] = fd;
    this.entries[e + 1] = at;
    this.entries[e + 2] = bytes.length;
    this.sockets[i] = socket;
    this.bytes[i] = bytes;
    this.count = i + 1;
    const c = this.control;
    if (i === 0) {
      // A new list: opened before the cursor moves off NO_ENTRY, so a claim
      // racing with this sees either nothing to take or this list whole.
      Atomics.store(c, SLOT.ended, 0);
      Atomics.store(c, SLOT.published, 1);
      Atomics.store(c, SLOT.cursor, 0);
      Atomics.add(c, SLOT.generation, 1);
      Atomics.notify(c, SLOT.generation);
      return true;
    }
    Atomics.store(c, SLOT.published, i + 1);
    const unclaimed = i + 1 - Atomics.load(c, SLOT.cursor);
    // A waiting thread is woken for a whole chunk, not for each entry, and once (see write-thread.ts).
    if (unclaimed >= CHUNK) this.wake();
    if (this.mainWrites && unclaimed >= BACKLOG) this.writeChunk();
    return true;
  }

  /** Ends the dispatch: every offered write is on its socket, or queued in Node behind the part that is. */
  finish(): void {
    if (!this.inDispatch) return;
    this.inDispatch = false;
    const n = this.count;
    if (n === 0) return;
    const c = this.control;
    Atomics.store(c, SLOT.ended, 1);
    this.wake();
    if (this.mainWrites) while (this.writeChunk());
    // Then the threads' last chunks (or, without mainWrites, all of them).
    for (;;) {
      const active = Atomics.load(c, SLOT.active);
      if (active === 0 && Atomics.load(c, SLOT.cursor) >= n) break;
      // No thread left to take them: what is unclaimed is the main thread's.
      if (active === 0 && Atomics.load(c, SLOT.alive) === 0) while (this.writeChunk());
      else Atomics.wait(c, SLOT.active, active, 5);
    }
    Atomics.store(c, SLOT.cursor, NO_ENTRY);
    Atomics.store(c, SLOT.published, 0);
    const entries = this.entries;
    let made = 0;
    for (let i = 0; i < n; i++) {
      const e = i * 4;
      const written = entries[e + 3]!;
      if (written > 0) made++;
      if (written === entries[e + 2]) continue;
      this.shortWrites++;
      const bytes = this.bytes[i]!;
      this.sockets[i]!.write(written > 0 ? bytes.subarray(written) : bytes);
    }
    this.threadWrites += made - this.mainMade;
    this.mainMade = 0;
    this.sockets.length = 0;
    this.bytes.length = 0;
    this.count = 0;
    this.payloadUsed = 0;
    this.lastBytes = undefined;
  }

  /** Stops the thread; later dispatches write directly. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.finish();
    this.stopped = true;
    Atomics.store(this.control, SLOT.stop, 1);
    Atomics.add(this.control, SLOT.generation, 1);
    Atomics.notify(this.control, SLOT.generation);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Wakes a thread waiting for entries; a thread is woken once per wait. */
  private wake(): void {
    const c = this.control;
    if (Atomics.load(c, SLOT.waiting) === 1 && Atomics.compareExchange(c, SLOT.waiting, 1, 0) === 1) {
      this.threadWakes++;
      Atomics.notify(c, SLOT.waiting);
    }
  }

  /** Claims and writes one chunk on the main thread; false when nothing was left. */
  private writeChunk(): boolean {
    const c = this.control;
    for (;;) {
      const at = Atomics.load(c, SLOT.cursor);
      const published = this.count;
      if (at >= published) return false;
      const end = Math.min(at + CHUNK, published);
      if (Atomics.compareExchange(c, SLOT.cursor, at, end) !== at) continue;
      // As the write thread does, on the descriptor: Node's stream path
      // (a write request object, its callbacks, the bookkeeping) cost more
      // than the write(2) under it, and the results land where finish()
      // reads the thread's, so a short or refused write is finished there.
      this.mainMade += writeEntries(writeSync, this.entries, this.payload, at, end);
      return true;
    }
  }

  /** Where the bytes are in the shared payload, copied once per distinct slice; -1 when full. */
  private payloadOf(bytes: Buffer): number {
    const last = this.lastBytes;
    if (last && last.buffer === bytes.buffer && last.byteOffset === bytes.byteOffset && last.length === bytes.length) return this.lastOffset;
    if (this.payloadUsed + bytes.length > PAYLOAD_BYTES) return -1;
    const at = this.payloadUsed;
    bytes.copy(this.payload, at);
    this.payloadUsed = at + bytes.length;
    this.lastBytes = bytes;
    this.lastOffset = at;
    return at;
  }
}
