/**
 * The WebSocket transport, built for fan-out.
 *
 * Each feed event is framed once per gateway (WebSocket header + JSON) into
 * a shared arena, so consecutive feed events sit next to each other in one
 * buffer. Deliveries are not written one by one: a socket's pending events
 * are written with the last event of the feed tail's batch (see
 * dispatch-batch.ts), or else when the current tick is over, and
 * when they are adjacent in the arena — the usual case: a burst, and every
 * reader of a topic getting the same events — they go out as ONE slice of
 * it: one write, one syscall, no copy and no allocation per delivery,
 * however many events arrived together. A socket whose events are not
 * adjacent (it missed one in the middle, or replay interleaved) writes each
 * frame under cork(), still one syscall.
 *
 * This is what Socket.IO does to beat a naive loop on bursts (coalesce what
 * is pending for a socket into one write), without its memory cost: what is
 * pending is views of one shared buffer, never a copy per socket.
 *
 * The slow-reader cut-off stays exact: bufferedAmount counts pending bytes
 * too, and a socket's pending bytes are written out as soon as they reach
 * FLUSH_AT, so a reader that keeps up never looks slow because of a batch,
 * and a stalled one is cut off at the limit plus at most one frame.
 *
 * Frames are written to the socket under `ws` directly, which is safe
 * because permessage-deflate is off (so `ws`'s sender never queues: its own
 * writes also go straight to the socket, in call order). When an extension
 * was negotiated, or the socket is not reachable, the transport uses
 * `ws.send` instead.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { FeedEvent } from '../feed/feed-event';
import { controlFrameText } from '../feed/frame-text';
import type { ServerFrame } from '../protocol/frames';
import { settleShared, sharedDispatchNumber, sharedWrites, writeThrough } from './dispatch-batch';
import type { Transport } from './transport';

const OPEN = 1;
/** Pending bytes per socket written out at once; well under the smallest FLASHWIRE_MAX_BUFFERED_BYTES (16 KiB). */
export const FLUSH_AT = 8 * 1024;
/**
 * What one control frame queued behind unwritten data costs beyond its
 * bytes: ws writes it as a header and a payload, each a Buffer and an entry
 * in the socket's queue. Counted toward the cut-off, so that a peer that
 * sends pings and never reads is cut off before a million tiny pongs pile up.
 */
const CONTROL_FRAME_COST = 512;
/** Arena chunk size: a few hundred alerts. */
const ARENA_BYTES = 256 * 1024;

let arena = Buffer.allocUnsafeSlow(0);
let arenaUsed = 0;

/** Length of the WebSocket header for a payload (RFC 6455 §5.2; servers never mask). */
function headerLength(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

function writeHeader(out: Buffer, at: number, n: number): void {
  out[at] = 0x81; // FIN, text
  if (n < 126) {
    out[at + 1] = n;
  } else if (n < 65536) {
    out[at + 1] = 126;
    out.writeUInt16BE(n, at + 2);
  } else {
    out[at + 1] = 127;
    out.writeUInt32BE(Math.floor(n / 2 ** 32), at + 2);
    out.writeUInt32BE(n >>> 0, at + 6);
  }
}

const framed = new WeakMap<FeedEvent, Buffer>();
let lastEvent: FeedEvent | undefined;
let lastFrame: Buffer | undefined;

/** The event's whole WebSocket frame, built once into the arena and cached on the event. */
function frameOf(e: FeedEvent): Buffer {
  // The hub hands one event to many sockets in a row.
  if (e === lastEvent) return lastFrame!;
  let f = framed.get(e);
  if (!f) {
    const n = Buffer.byteLength(e.frame);
    const size = headerLength(n) + n;
    if (arenaUsed + size > arena.length) {
      arena = Buffer.allocUnsafeSlow(Math.max(ARENA_BYTES, size));
      arenaUsed = 0;
    }
    writeHeader(arena, arenaUsed, n);
    arena.write(e.frame, arenaUsed + headerLength(n), n, 'utf8');
    f = arena.subarray(arenaUsed, arenaUsed + size);
    arenaUsed += size;
    framed.set(e, f);
  }
  lastEvent = e;
  lastFrame = f;
  return f;
}

/** Transports with frames pending, written out once the current dispatch is over. */
let pending: WsTransport[] = [];

function schedule(t: WsTransport): void {
  if (pending.length === 0) process.nextTick(flushPending);
  pending.push(t);
}

function flushPending(): void {
  const list = pending;
  pending = [];
  for (const t of list) t.flushNow();
}

export class WsTransport implements Transport {
  private readonly socket: Socket | undefined;
  /**
   * The pending run: adjacent frames in one arena, from the first one's
   * start to runEnd. The first is written as it is when the run holds only
   * it (a single alert, the common case). Kept as these two fields alone:
   * every idle connection carries them.
   */
  private runFirst: Buffer | undefined;
  private runEnd = 0;
  /** Set once the pending frames are not adjacent: all of them, in order. */
  private spill: Buffer[] | undefined;
  private pendingBytes = 0;
  /** CONTROL_FRAME_COST for each control frame queued since the socket last drained. */
  private controlCharge = 0;
  /** The dispatch whose write thread was handed this socket's last write (parallel-writes.ts); 0 for none. */
  private sharedIn = 0;

  constructor(readonly ws: WebSocket) {
    // `_socket` is ws's own name for the connection; every ws 8 release has it.
    const socket = (ws as unknown as { _socket?: Socket })._socket;
    this.socket = socket && ws.extensions === '' ? socket : undefined;
  }

  /** Includes frames not yet written, so the slow-reader cut-off sees them. */
  get bufferedAmount(): number {
    const queued = this.ws.bufferedAmount;
    if (queued === 0) this.controlCharge = 0;
    return queued + this.pendingBytes + this.controlCharge;
  }

  sendEvent(e: FeedEvent): void {
    if (!this.socket) {
      this.ws.send(payloadOf(e), TEXT);
      return;
    }
    const f = frameOf(e);
    if (this.pendingBytes === 0) {
      if (writeThrough()) {
        this.writeNow(f);
        return;
      }
      // Nothing pending means not scheduled either: flushNow() empties both.
      this.runFirst = f;
      this.runEnd = f.byteOffset + f.length;
      schedule(this);
    } else if (this.spill) {
      this.spill.push(f);
    } else if (f.byteOffset === this.runEnd && f.buffer === this.runFirst!.buffer) {
      this.runEnd += f.length;
    } else {
      this.spill = [this.runSlice(), f];
    }
    this.pendingBytes += f.length;
    if (this.pendingBytes >= FLUSH_AT || writeThrough()) this.flushNow();
  }

  sendControl(frame: ServerFrame): void {
    // Events delivered before it must reach the wire before it.
    this.flushNow();
    settleShared(this.sharedIn);
    this.chargeControl();
    this.ws.send(controlFrameText(frame));
  }

  /** Answers a WebSocket ping (the endpoint checks the cut-off first). */
  sendPong(data: Buffer): void {
    this.flushNow();
    settleShared(this.sharedIn);
    this.chargeControl();
    this.ws.pong(data);
  }

  private chargeControl(): void {
    if (this.ws.bufferedAmount > 0) this.controlCharge += CONTROL_FRAME_COST;
  }

  close(code: number, reason: string): void {
    this.flushNow();
    settleShared(this.sharedIn);
    const ws = this.ws;
    if (ws.readyState === ws.CLOSED) return;
    ws.close(code, reason);
    // A peer that never reads will never complete the closing handshake;
    // free its buffers soon rather than after ws's 30 s timeout.
    setTimeout(() => ws.terminate(), 2000).unref();
  }

  async drainedBelow(bytes: number): Promise<void> {
    while (this.ws.readyState === this.ws.OPEN && this.bufferedAmount > bytes) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Writes whatever is pending: one slice when the frames are adjacent. */
  flushNow(): void {
    if (this.pendingBytes === 0) return;
    const spill = this.spill;
    const run = spill ? undefined : this.runSlice();
    this.spill = undefined;
    this.runFirst = undefined;
    this.pendingBytes = 0;
    if (run) {
      this.writeNow(run);
    } else if (this.isWritable()) {
      settleShared(this.sharedIn);
      writeAll(this.socket!, spill!);
    }
  }

  private writeNow(bytes: Buffer): void {
    if (!this.isWritable()) return;
    settleShared(this.sharedIn);
    const shared = sharedWrites();
    if (shared?.offer(this.socket!, bytes)) {
      this.sharedIn = sharedDispatchNumber();
      return;
    }
    this.socket!.write(bytes);
  }

  /** False for a socket that went away meanwhile: the reader resumes with `since`. */
  private isWritable(): boolean {
    return this.ws.readyState === OPEN && this.socket!.writable;
  }

  private runSlice(): Buffer {
    const first = this.runFirst!;
    const length = this.runEnd - first.byteOffset;
    if (length === first.length) return first;
    return Buffer.from(first.buffer, first.byteOffset, length);
  }
}

/** Several frames in one syscall. */
function writeAll(socket: Socket, frames: Buffer[]): void {
  socket.cork();
  for (const f of frames) socket.write(f);
  socket.uncork();
}

const TEXT = { binary: false } as const;
const payloads = new WeakMap<FeedEvent, Buffer>();

/** The bare JSON bytes, for sockets `ws` must frame itself. */
function payloadOf(e: FeedEvent): Buffer {
  let b = payloads.get(e);
  if (!b) {
    b = Buffer.from(e.frame);
    payloads.set(e, b);
  }
  return b;
}
