/**
 * A reader client process: holds many WebSocket readers and records, for
 * each, when each benchmark alert arrived. Several of these run at once
 * (one process may hold at most ~20,000 open files) and the orchestrator
 * drives them over IPC.
 *
 * The hot path is lean on purpose: the client shares the CPU with the
 * server, so a message is recognised by a byte search for the marker in
 * its headline, never parsed.
 */
import WebSocket from 'ws';
import { readerTopics } from './topics';

export const MARK = '"headline":"fwb:';
const MARK_BYTES = Buffer.from(MARK);
const EVENT_ID_BYTES = Buffer.from('"eventId":"');

export type ToReaders =
  | { cmd: 'open'; urlBase: string; topics: number; firstIndex: number; count: number; localAddress: string; inFlight: number; timeoutMs: number }
  | { cmd: 'phase'; phase: 's' | 'b'; alerts: number; flashSeq: number }
  | { cmd: 'progress' }
  | { cmd: 'collect' }
  | { cmd: 'exit' };

export interface Opened { ev: 'opened'; open: number; failed: number; firstError: string | undefined }
export interface Progress { ev: 'progress'; perSeq: number[]; total: number; closed: number }
export interface Collected {
  ev: 'collected';
  phase: 's' | 'b';
  /** Spaced phase: receipt time of alert k at reader r at [r * alerts + k]; 0 when it never came. */
  times: Float64Array;
  /** Spaced phase: the feed append time of alert k (the ms in its eventId), 0 when unknown. */
  appendedAt: number[];
  readers: number;
  received: number;
  duplicates: number;
  first: number;
  last: number;
  /** Burst phase: for each reader that got the flash, how many burst alerts it had before it. */
  flashRanks: number[];
  closed: number;
}

interface Slot {
  ws: WebSocket;
  index: number;
  got: number;
}

const slots: Slot[] = [];
let phase: 's' | 'b' = 's';
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

/** The milliseconds part of the frame's eventId: when Redis appended it to the feed. */
function eventMsOf(data: Buffer): number {
  const i = data.indexOf(EVENT_ID_BYTES);
  if (i < 0) return 0;
  let n = 0;
  for (let j = i + EVENT_ID_BYTES.length; j < data.length; j++) {
    const c = data[j] as number;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

function onMessage(slot: Slot, data: Buffer): void {
  const t = clock();
  const k = seqOf(data);
  if (k < 0 || k >= alerts) return;
  const at = slot.index * alerts + k;
  if (seen[at]) {
    duplicates++;
    return;
  }
  seen[at] = 1;
  if (phase === 's') {
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

function openOne(url: string, localAddress: string, index: number, timeoutMs: number): Promise<Slot> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: timeoutMs });
    const slot: Slot = { ws, index, got: 0 };
    ws.once('open', () => resolve(slot));
    ws.once('error', reject);
    ws.on('message', (data) => onMessage(slot, data as Buffer));
    ws.once('close', () => {
      closed++;
      reject(new Error('closed before open'));
    });
  });
}

async function open(m: Extract<ToReaders, { cmd: 'open' }>): Promise<void> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const deadline = Date.now() + m.timeoutMs;
  const worker = async () => {
    while (next < m.count && Date.now() < deadline) {
      const index = next++;
      // A refused connect under a burst of handshakes is retried, a few times.
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          slots[index] = await openOne(`${m.urlBase}topics=${readerTopics(m.firstIndex + index, m.topics)}`, m.localAddress, index, 20_000);
          break;
        } catch (err) {
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
      times = new Float64Array(m.phase === 's' ? slots.length * alerts : 0);
      perSeq = new Array<number>(alerts).fill(0);
      appendedAt = new Array<number>(alerts).fill(0);
      for (const s of slots) if (s) s.got = 0;
      received = duplicates = first = last = 0;
      flashRanks = [];
      send({ ev: 'progress', perSeq, total: received, closed });
      return;
    case 'progress':
      send({ ev: 'progress', perSeq, total: received, closed });
      return;
    case 'collect':
      send({ ev: 'collected', phase, times, appendedAt, readers: slots.length, received, duplicates, first, last, flashRanks, closed });
      return;
    case 'exit':
      for (const s of slots) s?.ws.terminate();
      setTimeout(() => process.exit(0), 100);
      return;
  }
});
process.on('disconnect', () => process.exit(0));
