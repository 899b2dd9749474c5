import type { FeedEvent } from '../../src/feed/feed-event';
import { ACKABLE_EVENTS, Reader } from '../../src/gateway/reader';
import type { Transport } from '../../src/gateway/transport';
import type { ServerFrame } from '../../src/protocol/frames';

const ev = (ms: number, topics = ['world'], expiresAt = 0): FeedEvent => ({ eventId: `${ms}-0`, type: 'alert', alertId: `a${ms}`, topics, expiresAt, frame: `{"n":${ms}}` });

/** A transport that records what was written, with a settable backlog. */
class RecordingTransport implements Transport {
  bufferedAmount = 0;
  events: string[] = [];
  controls: ServerFrame[] = [];
  closedWith: number | undefined;
  sendEvent(e: FeedEvent): void {
    this.events.push(e.eventId);
  }
  sendControl(f: ServerFrame): void {
    this.controls.push(f);
  }
  close(code: number): void {
    this.closedWith = code;
  }
  async drainedBelow(): Promise<void> {}
}

const limits = { maxBufferedBytes: 1000, maxPendingEvents: 5 };

function reader(topics = ['world']): { r: Reader; t: RecordingTransport; slow: Reader[] } {
  const t = new RecordingTransport();
  const slow: Reader[] = [];
  const r = new Reader('r1', t, limits, (x) => slow.push(x));
  for (const x of topics) r.topics.add(x);
  return { r, t, slow };
}

describe('the reader', () => {
  it('holds live events during a replay and writes each once, in order, at the seam', () => {
    const { r, t } = reader();
    r.beginReplay('1-0');
    // Live events arrive while the replay is being read; 3 and 4 are also in the replay.
    r.deliver(ev(3));
    r.deliver(ev(4));
    r.deliver(ev(5));
    expect(t.events).toEqual([]);
    expect(r.replay([ev(2), ev(3), ev(4)], Date.now())).toBe(true);
    expect(t.events).toEqual(['2-0', '3-0', '4-0']);
    r.endReplay();
    // 5 came only through the held live events: the drain must write it.
    expect(t.events).toEqual(['2-0', '3-0', '4-0', '5-0']);
    r.deliver(ev(5)); // a duplicate from an overlapping path is dropped
    r.deliver(ev(6));
    expect(t.events).toEqual(['2-0', '3-0', '4-0', '5-0', '6-0']);
  });

  it('replays nothing at or before since, nothing expired and nothing off its topics', () => {
    const { r, t } = reader(['europe']);
    r.beginReplay('2-0');
    r.replay([ev(1, ['europe']), ev(2, ['europe']), ev(3, ['sports']), ev(4, ['europe/ukraine']), ev(5, ['europe'], 1)], Date.now());
    r.endReplay();
    expect(t.events).toEqual(['4-0']);
  });

  it('is cut off with 4008 once its backlog passes the limit, and writes nothing more', () => {
    const { r, t, slow } = reader();
    r.deliver(ev(1));
    t.bufferedAmount = 1001;
    r.deliver(ev(2));
    expect(t.closedWith).toBe(4008);
    expect(slow).toEqual([r]);
    t.bufferedAmount = 0;
    r.deliver(ev(3));
    expect(t.events).toEqual(['1-0']);
  });

  it('is cut off when too many live events pile up during its replay', () => {
    const { r, t } = reader();
    r.beginReplay('0-0');
    for (let i = 1; i <= limits.maxPendingEvents + 1; i++) r.deliver(ev(i));
    expect(t.closedWith).toBe(4008);
    expect(r.replay([ev(1)], Date.now())).toBe(false);
    r.endReplay();
    expect(t.events).toEqual([]);
  });

  it('sends no control frames once closed', () => {
    const { r, t } = reader();
    r.markClosed(1006);
    r.send({ type: 'pong' });
    expect(t.controls).toEqual([]);
  });

  it('takes an ack only for an alert written to it, once, and remembers a bounded number', () => {
    const { r } = reader(['world']);
    for (let i = 1; i <= ACKABLE_EVENTS + 8; i++) r.deliver(ev(i));
    r.deliver({ ...ev(1001), type: 'update' });
    expect(r.takeAck(`${ACKABLE_EVENTS + 8}-0`)).toBe(`a${ACKABLE_EVENTS + 8}`);
    expect(r.takeAck(`${ACKABLE_EVENTS + 8}-0`)).toBeUndefined();
    // Older than the bound, not an alert, or never written: no receipt.
    expect(r.takeAck('1-0')).toBeUndefined();
    expect(r.takeAck('1001-0')).toBeUndefined();
    expect(r.takeAck('999999-0')).toBeUndefined();
    // An older alert acknowledged after a newer one still counts.
    expect(r.takeAck('9-0')).toBe('a9');
  });

  it('forgets the oldest unacknowledged alert only once more than the bound are unacknowledged', () => {
    const { r } = reader(['world']);
    for (let i = 1; i <= ACKABLE_EVENTS; i++) r.deliver(ev(i));
    expect(r.takeAck(`${ACKABLE_EVENTS}-0`)).toBe(`a${ACKABLE_EVENTS}`);
    // One taken leaves room for one more: the oldest is still held.
    r.deliver(ev(ACKABLE_EVENTS + 1));
    expect(r.takeAck('1-0')).toBe('a1');
    // With +2 it is full again (2 .. ACKABLE_EVENTS-1, +1, +2): +3 pushes out 2, the oldest.
    r.deliver(ev(ACKABLE_EVENTS + 2));
    r.deliver(ev(ACKABLE_EVENTS + 3));
    expect(r.takeAck('2-0')).toBeUndefined();
    expect(r.takeAck('3-0')).toBe('a3');
    expect(r.takeAck(`${ACKABLE_EVENTS + 3}-0`)).toBe(`a${ACKABLE_EVENTS + 3}`);
  });
  it('keeps the same acknowledgeable alerts as a plain list would, over long mixes of alerts and acks', () => {
    // The model: unacknowledged alerts oldest first, the oldest dropped past the bound.
    let x = 7;
    const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let run = 0; run < 20; run++) {
      const { r } = reader(['world']);
      const model: number[] = [];
      let sent = 0;
      for (let step = 0; step < 400; step++) {
        if (next() < 0.6 || sent === 0) {
          sent++;
          r.deliver(ev(sent));
          model.push(sent);
          if (model.length > ACKABLE_EVENTS) model.shift();
        } else {
          // Mostly recent alerts, sometimes an old or forgotten one, sometimes one acked already.
          const back = next() < 0.7 ? Math.floor(next() * 4) : Math.floor(next() * (ACKABLE_EVENTS + 10));
          const k = Math.max(1, sent - back);
          const held = model.indexOf(k);
          const want = held >= 0 ? `a${k}` : undefined;
          if (held >= 0) model.splice(held, 1);
          expect({ run, step, k, got: r.takeAck(`${k}-0`) }).toEqual({ run, step, k, got: want });
        }
      }
      for (const k of [...model].reverse()) expect(r.takeAck(`${k}-0`)).toBe(`a${k}`);
      for (let k = 1; k <= sent; k++) expect(r.takeAck(`${k}-0`)).toBeUndefined();
    }
  });
});
