/**
 * A reader client process: holds many WebSocket readers and records, for
 * each, when each benchmark alert arrived. Several of these run at once
 * (one process may hold at most ~20,000 open files) and the orchestrator
 * drives them over IPC.
 *
 * The hot path is lean on purpose: the client shares the CPU with the
 * server, so a message is recognised by a byte search for the marker in
 * its headline, never parsed.
 *
 * With `resume` on, a reader behaves as Flashwire's clients do when its
 * connection drops: it reconnects after the clients' backoff with jitter,
 * with `since=<the last eventId it had>`, and records when it dropped and
 * when it was welcomed back.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { backoffDelay } from '../clients/node/src/backoff';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../clients/node/src/handshake';
import { readerTopics } from './topics';

export const MARK = '"headline":"fwb:';
const MARK_BYTES = Buffer.from(MARK);
const EVENT_ID_BYTES = Buffer.from('"eventId":"');
const WELCOME_BYTES = Buffer.from('"type":"welcome"');
const RESYNC_BYTES = Buffer.from('"type":"resync"');
/** A reader that cannot get back in this many tries gives up (and is counted). */
const MAX_RECONNECT_ATTEMPTS = 12;

/** Warm-up, spaced, burst, kill. */
export type Phase = 'w' | 's' | 'b' | 'k';

export type ToReaders =
  | { cmd: 'open'; urlBase: string; topics: number; firstIndex: number; count: number; localAddress: string; inFlight: number; timeoutMs: number; resume: boolean }
  | { cmd: 'phase'; phase: Phase; alerts: number; flashSeq: number }
  | { cmd: 'progress' }
  | { cmd: 'collect' }
  | { cmd: 'exit' };

export interface Opened { ev: 'opened'; open: number; failed: number; firstError: string | undefined }
export interface Progress {
  ev: 'progress';
  perSeq: number[];
  total: number;
  closed: number;
  /** Readers whose connection dropped and who are not welcomed back yet. */
  down: number;
  /** Drops and welcomes back since the phase began. */
  drops: number;
  reopens: number;
  resyncs: number;
  /** Readers that gave up reconnecting. */
  gaveUp: number;
}
export interface Collected {
  ev: 'collected';
  phase: Phase;
  /** Spaced and kill phases: receipt time of alert k at reader r at [r * alerts + k]; 0 when it never came. */
  times: Float64Array;
  /** Spaced and kill phases: the feed append time of alert k (the ms in its eventId), 0 when unknown. */
  appendedAt: number[];
  readers: number;
  received: number;
  duplicates: number;
  first: number;
  last: number;
  /** Burst phase: for each reader that got the flash, how many burst alerts it had before it. */
  flashRanks: number[];
  closed: number;
  /** Per reader, since the phase began: when its connection first dropped, and when it was last welcomed back (0: never). */
  droppedAt: Float64Array;
  reopenedAt: Float64Array;
  /** Connection attempts made to get back. */
  reconnectAttempts: number;
  /** Every drop of the phase, in order. */
  dropTimes: number[];
  /** Closes of open connections by close code, since the process started. */
  closeCodes: Record<number, number>;
  /** When this process saw each server heartbeat begin, since it started. */
  heartbeats: number[];
  resyncs: number;
  gaveUp: number;
}

interface Slot {
  ws: WebSocket | undefined;
  index: number;
  got: number;
  /** The last eventId received, kept only when readers resume. */
  lastEventId: string | undefined;
  /** Dropped and not welcomed back yet. */
  down: boolean;
  attempt: number;
}

const slots: Slot[] = [];
let opening: Extract<ToReaders, { cmd: 'open' }> | undefined;
let exiting = false;
let phase: Phase = 's';
let alerts = 0;
let flashSeq = -1;
let times = new Float64Array(0);
let appendedAt: number[] = [];
let seen = new Uint8Array(0);
let perSeq: number[] = [];
let received = 0;
let duplicates = 0;
let first = 0;
let last = 0;
let closed = 0;
let flashRanks: number[] = [];
let droppedAt = new Float64Array(0);
let reopenedAt = new Float64Array(0);
let down = 0;
let drops = 0;
let reopens = 0;
let reconnectAttempts = 0;
let resyncs = 0;
let gaveUp = 0;
/** Closes of open connections by close code, since the process started. */
const closeCodes: Record<number, number> = {};
/** When each drop of the phase happened (a reader may drop more than once). */
let dropTimes: number[] = [];

const clock = () => performance.timeOrigin + performance.now();

function send(m: Opened | Progress | Collected): void {
  process.send!(m);
}

/** The alert sequence number after the marker, or -1 for frames that are not benchmark alerts. */
function seqOf(data: Buffer): number {
  const i = data.indexOf(MARK_BYTES);
  if (i < 0 || data[i + MARK_BYTES.length] !== phase.charCodeAt(0)) return -1;
  let n = 0;
  let j = i + MARK_BYTES.length + 2; // skip the phase letter and ':'
  for (;;) {
    const c = data[j++] as number;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

/** Where the frame's eventId starts, or -1. */
function eventIdAt(data: Buffer): number {
  const i = data.indexOf(EVENT_ID_BYTES);
  return i < 0 ? -1 : i + EVENT_ID_BYTES.length;
}

/** The milliseconds part of the frame's eventId: when Redis appended it to the feed. */
function eventMsOf(data: Buffer): number {
  const i = eventIdAt(data);
  if (i < 0) return 0;
  let n = 0;
  for (let j = i; j < data.length; j++) {
    const c = data[j] as number;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

function onMessage(slot: Slot, data: Buffer): void {
  const t = clock();
  if (opening?.resume) noteCursor(slot, data, t);
  const k = seqOf(data);
  if (k < 0 || k >= alerts) return;
  const at = slot.index * alerts + k;
  if (seen[at]) {
    duplicates++;
    return;
  }
  seen[at] = 1;
  if (phase !== 'b') {
    times[at] = t;
    if (appendedAt[k] === 0) appendedAt[k] = eventMsOf(data);
  }
  if (k === flashSeq) flashRanks.push(slot.got);
  slot.got++;
  perSeq[k]!++;
  received++;
  if (first === 0) first = t;
  last = t;
}

/** What a resuming reader keeps: its cursor, and whether it is back (welcome) or told to resync. */
function noteCursor(slot: Slot, data: Buffer, t: number): void {
  const i = eventIdAt(data);
  if (i >= 0) {
    const end = data.indexOf(34 /* " */, i);
    if (end > i) slot.lastEventId = data.toString('latin1', i, end);
    return;
  }
  if (slot.down && data.indexOf(WELCOME_BYTES) >= 0) {
    slot.down = false;
    slot.attempt = 0;
    down--;
    reopens++;
    reopenedAt[slot.index] = t;
  } else if (data.indexOf(RESYNC_BYTES) >= 0) {
    resyncs++;
  }
}

/** When this process saw each server heartbeat begin (the first ping after a quiet spell). */
const heartbeats: number[] = [];
function onPing(): void {
  const t = clock();
  if (t - (heartbeats[heartbeats.length - 1] ?? 0) > 5000) heartbeats.push(t);
}

function urlOf(slot: Slot): string {
  const o = opening!;
  const base = `${o.urlBase}topics=${readerTopics(o.firstIndex + slot.index, o.topics)}`;
  return slot.lastEventId ? `${base}&since=${slot.lastEventId}` : base;
}

/** Connects the slot; resolves once the socket is open, rejects if it closes or fails first. */
function connect(slot: Slot, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(urlOf(slot), { localAddress: opening!.localAddress, perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: timeoutMs });
    let open = false;
    slot.ws = ws;
    ws.once('open', () => {
      open = true;
      takeTextFrames(ws, slot);
      resolve();
    });
    // ws may report more than one error for a broken socket; 'close' follows either way.
    ws.on('error', (err) => {
      if (!open) reject(err);
    });
    ws.on('message', (data) => onMessage(slot, data as Buffer));
    ws.on('ping', onPing);
    ws.once('close', (code: number) => {
      if (!open) return reject(new Error('closed before open'));
      closed++;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      if (opening?.resume && !exiting) dropTimes.push(clock());
      if (opening?.resume && !exiting && slot.ws === ws) dropped(slot);
    });
  });
}

/** The parts of `ws` 8's socket wiring the fast receive path steps in front of. */
interface WsInternals {
  _socket: Socket;
  _receiver: { _state: number; _bufferedBytes: number; _fragmented: number };
}

/**
 * The readers' fast receive path. At 100,000 readers on two cores the readers took 60 % of the
 * machine's CPU, much of it in `ws`'s receiver (a Writable stream per socket, an event per frame):
 * the server under test waited for its own measuring instrument. Whole unmasked text frames, which
 * is how every server here sends events, are cut out of each chunk and handed to onMessage; the
 * rest of the chunk from the first byte not taken (a ping, a close, a frame split across reads)
 * goes on to `ws`'s own receiver, which is idle between frames, so nothing is parsed twice or
 * out of order. Flashwire and the floor are read through the same path.
 */
function takeTextFrames(ws: WebSocket, slot: Slot): void {
  const { _socket: socket, _receiver: receiver } = ws as unknown as WsInternals;
  const wsOnData = socket.listeners('data')[0] as ((this: Socket, chunk: Buffer) => void) | undefined;
  if (!wsOnData) return;
  socket.removeListener('data', wsOnData);
  socket.on('data', function (this: Socket, chunk: Buffer) {
    let at = 0;
    // Only between frames: once ws holds part of one, it takes everything until it is whole.
    if (receiver._state === 0 && receiver._bufferedBytes === 0 && receiver._fragmented === 0) {
      for (;;) {
        const left = chunk.length - at;
        // FIN + text, unmasked, with a 7- or 16-bit length.
        if (left < 2 || chunk[at] !== 0x81) break;
        let n = chunk[at + 1] as number;
        let header = 2;
        if (n === 126) {
          if (left < 4) break;
          n = chunk.readUInt16BE(at + 2);
          header = 4;
        } else if (n > 126) {
          break;
        }
        if (left < header + n) break;
        onMessage(slot, chunk.subarray(at + header, at + header + n));
        at += header + n;
      }
    }
    if (at < chunk.length) wsOnData.call(this, at === 0 ? chunk : chunk.subarray(at));
  });
}

function dropped(slot: Slot): void {
  slot.ws = undefined;
  if (!slot.down) {
    slot.down = true;
    down++;
    drops++;
    if (droppedAt[slot.index] === 0) droppedAt[slot.index] = clock();
  }
  retryLater(slot);
}

function retryLater(slot: Slot): void {
  if (slot.attempt >= MAX_RECONNECT_ATTEMPTS) {
    gaveUp++;
    return;
  }
  setTimeout(() => void reconnect(slot), backoffDelay(slot.attempt++));
}

async function reconnect(slot: Slot): Promise<void> {
  if (exiting) return;
  reconnectAttempts++;
  try {
    // Back once welcomed (noteCursor): the resume is planned by then. A handshake the server never
    // answers is given up after the clients' own limit, as theirs would be.
    await connect(slot, DEFAULT_HANDSHAKE_TIMEOUT_MS);
  } catch {
    slot.ws?.terminate();
    slot.ws = undefined;
    retryLater(slot);
  }
}

async function open(m: Extract<ToReaders, { cmd: 'open' }>): Promise<void> {
  opening = m;
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const deadline = Date.now() + m.timeoutMs;
  const worker = async () => {
    while (next < m.count && Date.now() < deadline) {
      const index = next++;
      const slot: Slot = { ws: undefined, index, got: 0, lastEventId: undefined, down: false, attempt: 0 };
      // A refused connect under a burst of handshakes is retried, a few times.
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await connect(slot, 20_000);
          slots[index] = slot;
          break;
        } catch (err) {
          slot.ws?.terminate();
          if (attempt === 2) {
            failed++;
            firstError ??= String(err);
          }
        }
      }
    }
  };
  await Promise.all(Array.from({ length: m.inFlight }, worker));
  send({ ev: 'opened', open: slots.filter(Boolean).length, failed: failed + (m.count - Math.min(next, m.count)), firstError });
}

function progress(): Progress {
  return { ev: 'progress', perSeq, total: received, closed, down, drops, reopens, resyncs, gaveUp };
}

process.on('message', (m: ToReaders) => {
  switch (m.cmd) {
    case 'open':
      void open(m);
      return;
    case 'phase':
      phase = m.phase;
      alerts = m.alerts;
      flashSeq = m.flashSeq;
      seen = new Uint8Array(slots.length * alerts);
      times = new Float64Array(m.phase === 'b' ? 0 : slots.length * alerts);
      perSeq = new Array<number>(alerts).fill(0);
      appendedAt = new Array<number>(alerts).fill(0);
      droppedAt = new Float64Array(slots.length);
      reopenedAt = new Float64Array(slots.length);
      for (const s of slots) if (s) s.got = 0;
      received = duplicates = first = last = 0;
      drops = reopens = reconnectAttempts = resyncs = gaveUp = 0;
      dropTimes = [];
      flashRanks = [];
      send(progress());
      return;
    case 'progress':
      send(progress());
      return;
    case 'collect':
      send({ ev: 'collected', phase, times, appendedAt, readers: slots.length, received, duplicates, first, last, flashRanks, closed, droppedAt, reopenedAt, reconnectAttempts, dropTimes, closeCodes, heartbeats, resyncs, gaveUp });
      return;
    case 'exit':
      exiting = true;
      for (const s of slots) s?.ws?.terminate();
      setTimeout(() => process.exit(0), 100);
      return;
  }
});
process.on('disconnect', () => process.exit(0));
