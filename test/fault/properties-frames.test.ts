/**
 * Bad input at volume on /v1/stream: random JSON, random text, binary
 * frames, invalid UTF-8, frames over the limit and floods. Each gets its
 * documented answer — an `error` frame with a stable code while the
 * connection stays open, 1009 for a frame over FLASHWIRE_MAX_FRAME_BYTES,
 * 1008 for a flood — while a bystander reader keeps getting every alert once,
 * and the gateway's memory comes back to where it was.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { startFaultRig, whileServingBystanders, type ChildService, type FaultRig } from './fault-kit';
import { describeMemory, MB, memoryOf } from './memory';

const ERROR_CODES = ['invalid_frame', 'invalid_topic', 'forbidden_topic', 'too_many_topics'];
const ANSWERS = ['error', 'subscribed', 'unsubscribed', 'pong'];
const LIVE = ['alert', 'update', 'retract'];
const MAX_FRAME = 16 * 1024;

interface Probe {
  ws: WebSocket;
  frames: { type: string; code?: string }[];
  closed: Promise<number>;
}

function connect(wsUrl: string): Promise<Probe> {
  const ws = new WebSocket(`${wsUrl}/v1/stream?topics=probe`);
  const frames: Probe['frames'] = [];
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('error', () => undefined);
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Probe['frames'][number]));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no welcome'));
    }, 10_000);
    ws.on('message', () => {
      clearTimeout(timer);
      resolve({ ws, frames, closed });
    });
    void closed.then((c) => reject(new Error(`closed ${c} before welcome`)));
  });
}

/** Closes a probe and waits until it is closed. */
async function close(p: Probe): Promise<void> {
  p.ws.terminate();
  await p.closed;
}

/** Sends `data` then a ping; resolves with the frames that answered `data` (those before the pong). */
async function exchange(p: Probe, data: string | Buffer, binary = false): Promise<Probe['frames']> {
  const from = p.frames.length;
  p.ws.send(data, { binary });
  p.ws.send('{"type":"ping"}');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const i = p.frames.findIndex((f, k) => k >= from && f.type === 'pong');
    // Live alerts for topics a random subscribe added are traffic, not an answer.
    if (i >= 0) return p.frames.slice(from, i).filter((f) => !LIVE.includes(f.type));
    if (p.ws.readyState !== WebSocket.OPEN) throw new Error(`connection closed after ${String(data).slice(0, 80)}`);
    if (Date.now() > deadline) throw new Error(`no pong after ${String(data).slice(0, 80)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('properties: client frames on /v1/stream', () => {
  let rig: FaultRig;
  let svc: ChildService;

  beforeAll(async () => {
    rig = await startFaultRig();
    // Only the abuse limits under test are the ones being hit; the 10 bad
    // frames a second limit is lifted for the per-frame properties below.
    svc = await rig.spawn({ FLASHWIRE_MAX_BAD_FRAMES_PER_SECOND: '10000', FLASHWIRE_MAX_MESSAGES_PER_SECOND: '10000' });
  });
  afterAll(() => rig.close());

  function expectDocumented(answer: Probe['frames']): void {
    for (const f of answer) {
      expect(ANSWERS).toContain(f.type);
      if (f.type === 'error') expect(ERROR_CODES).toContain(f.code);
    }
  }

  async function everyFrameProperty(p: Probe): Promise<void> {
    // Any JSON value as a frame: an answer of a documented kind, the connection stays open.
    await fc.assert(fc.asyncProperty(fc.jsonValue({ maxDepth: 5 }), async (v) => expectDocumented(await exchange(p, JSON.stringify(v)))), { numRuns: 200 });
    // Frames shaped like the real ones with random members.
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('subscribe', 'unsubscribe', 'ping', 'ack', 'SUBSCRIBE', ''), fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }), fc.array(fc.string({ maxLength: 40 }), { maxLength: 8 }), async (type, extra, topics) => {
        const answer = await exchange(p, JSON.stringify({ type, topics, ...extra }));
        expectDocumented(answer);
        expect(answer.length).toBeLessThanOrEqual(3 + topics.length);
      }),
      { numRuns: 200 },
    );
    // Random text, not JSON: invalid_frame.
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 500 }), async (text) => {
        let isJson = true;
        try {
          JSON.parse(text);
        } catch {
          isJson = false;
        }
        const answer = await exchange(p, text);
        expectDocumented(answer);
        if (!isJson) expect(answer).toEqual([expect.objectContaining({ type: 'error', code: 'invalid_frame' })]);
      }),
      { numRuns: 200 },
    );
    // Binary frames: invalid_frame, connection open.
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4000 }), async (bytes) => {
        expect(await exchange(p, Buffer.from(bytes), true)).toEqual([expect.objectContaining({ type: 'error', code: 'invalid_frame' })]);
      }),
      { numRuns: 150 },
    );
  }

  it('answers random, malformed and binary frames with documented error frames and keeps the connection, serving everyone else throughout', () =>
    whileServingBystanders(rig, svc, async () => {
      const p = await connect(svc.wsUrl);
      try {
        await everyFrameProperty(p);
        const before = await memoryOf(svc.child.pid!, svc.url);
        await everyFrameProperty(p);
        const after = await memoryOf(svc.child.pid!, svc.url);
        expect(p.ws.readyState).toBe(WebSocket.OPEN);
        console.log(describeMemory('gateway, second round of bad frames', before, after));
        expect(after.rss - before.rss).toBeLessThan(64 * MB);
        if (after.heapUsed !== undefined && before.heapUsed !== undefined) expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * MB);
      } finally {
        await close(p);
      }
    }), 120_000);

  it('closes with 1009 on any frame over the limit, text or binary, serving everyone else throughout', () =>
    whileServingBystanders(rig, svc, async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: MAX_FRAME + 1, max: 1024 * 1024 }), fc.boolean(), async (n, binary) => {
          const p = await connect(svc.wsUrl);
          p.ws.send(binary ? Buffer.alloc(n, 7) : JSON.stringify({ type: 'subscribe', topics: ['x'.repeat(n)] }), { binary });
          expect(await p.closed).toBe(1009);
        }),
        { numRuns: 25 },
      );
    }));

  it('closes a text frame of invalid UTF-8 with 1007, the protocol code for it, serving everyone else throughout', () =>
    whileServingBystanders(rig, svc, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 100 }), async (bytes) => {
          const p = await connect(svc.wsUrl);
          // 0xff never occurs in UTF-8; sent as a text frame it is invalid by definition.
          p.ws.send(Buffer.concat([Buffer.from(bytes), Buffer.from([0xff])]), { binary: false });
          expect(await p.closed).toBe(1007);
        }),
        { numRuns: 20 },
      );
    }));

  it('closes floods with 1008 at the shipped limits', async () => {
    const limited = await rig.spawn({ FLASHWIRE_ROLES: 'gateway' });
    try {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 12, max: 200 }), fc.boolean(), async (n, bad) => {
          const p = await connect(limited.wsUrl);
          // Bad frames: over 10 a second. Good ones: over 100 a second.
          const count = bad ? n : 100 + n;
          for (let i = 0; i < count; i++) p.ws.send(bad ? 'nope' : '{"type":"ping"}');
          expect(await p.closed).toBe(1008);
          if (bad) expect(p.frames.filter((f) => f.type === 'error').every((f) => f.code === 'invalid_frame')).toBe(true);
        }),
        { numRuns: 20 },
      );
    } finally {
      await limited.kill('SIGKILL');
    }
  });
});
