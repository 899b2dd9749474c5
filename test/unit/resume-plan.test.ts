import type { FeedEvent } from '../../src/feed/feed-event';
import { Reader } from '../../src/gateway/reader';
import { RecentEvents } from '../../src/gateway/recent-events';
import { planResume, resume, type ResumePlan, type ResumeSource } from '../../src/gateway/resume';
import type { Transport } from '../../src/gateway/transport';
import type { ServerFrame } from '../../src/protocol/frames';
import { MemoryFeed } from '../helpers/memory-feed';

/** A transport that records events and control frames (with their cursors) in the order written. */
class RecordingTransport implements Transport {
  bufferedAmount = 0;
  written: string[] = [];
  controls: { frame: ServerFrame; cursor?: string }[] = [];
  sendEvent(e: FeedEvent): void {
    this.written.push(e.eventId);
  }
  sendControl(frame: ServerFrame, cursor?: string): void {
    this.controls.push({ frame, cursor });
    this.written.push(frame.type);
  }
  close(): void {}
  async drainedBelow(): Promise<void> {}
}

/**
 * A gateway's view: `feed` holds `total` alerts; the tail has handed on the
 * first `tailed` of them, and the newest `cached` of those are in memory.
 */
function gateway(total: number, tailed = total, cached = 3) {
  const feed = new MemoryFeed();
  const events = Array.from({ length: total }, (_, i) => feed.alert(`A${i}`));
  const startAt = tailed - cached;
  const recent = new RecentEvents(cached, startAt > 0 ? (events[startAt - 1] as FeedEvent).eventId : '0-0');
  for (const e of events.slice(Math.max(startAt, 0), tailed)) recent.push(e);
  const src: ResumeSource & { position: string } = {
    recent,
    feed,
    position: tailed > 0 ? (events[tailed - 1] as FeedEvent).eventId : '0-0',
    tailPosition() {
      return this.position;
    },
  };
  /** What the gateway does when its tail reads a new event: remember it, then dispatch it. */
  const tailNew = (readers: Reader[], e: FeedEvent = feed.alert(`L${src.position}`)) => {
    src.position = e.eventId;
    recent.push(e);
    for (const r of readers) r.deliver(e);
    return e;
  };
  return { feed, events, src, tailNew };
}

const ids = (es: readonly FeedEvent[]) => es.map((e) => e.eventId);
const idOf = (es: FeedEvent[], i: number) => (es[i] as FeedEvent).eventId;

function reader(): { r: Reader; t: RecordingTransport } {
  const t = new RecordingTransport();
  const r = new Reader('r1', t, { maxBufferedBytes: 1 << 20, maxPendingEvents: 1000 });
  r.topics.add('world');
  return { r, t };
}

const options = { pageSize: 2, drainBelowBytes: 1 << 20 };

/** Runs the resume as the gateway does; the welcome is written when the plan is made. */
async function resumeReader(r: Reader, since: string, src: ResumeSource): Promise<ResumePlan> {
  return resume(r, since, src, options, (plan) => r.send({ type: 'welcome', connectionId: r.id, heartbeatMs: 1000, topics: ['world'], resumed: plan.ok }));
}

describe('resume planning', () => {
  it('refuses a since that is not an eventId, without asking the feed', async () => {
    const { feed, src } = gateway(5);
    for (const since of ['', 'abc', '01-0', '1-01', '1-0-0', '-1-0', '1', '18446744073709551616-0', ' 1-0']) {
      expect(await planResume(since, src)).toEqual({ ok: false, reason: 'invalid_since' });
    }
    expect(feed.totalReads).toBe(0);
  });

  it('answers a recent cursor from memory, without asking the feed', async () => {
    const { feed, events, src } = gateway(10, 10, 3);
    const plan = await planResume(idOf(events, 7), src);
    expect(plan.ok && plan.cached && ids(plan.cached)).toEqual(ids(events.slice(8)));
    // At the floor of the window: everything after it is still held.
    const atFloor = await planResume(idOf(events, 6), src);
    expect(atFloor.ok && atFloor.cached && ids(atFloor.cached)).toEqual(ids(events.slice(7)));
    // Up to date: nothing to replay, still from memory.
    expect(await planResume(idOf(events, 9), src)).toEqual({ ok: true, cached: [] });
    expect(feed.totalReads).toBe(0);
  });

  it('sends a cursor older than memory to the feed when nothing after it was removed', async () => {
    const { events, src } = gateway(10, 10, 3);
    expect(await planResume(idOf(events, 2), src)).toEqual({ ok: true, cached: undefined });
    expect(await planResume('0-0', src)).toEqual({ ok: true, cached: undefined });
  });

  it('resyncs as trimmed when events after the cursor were removed by retention', async () => {
    const { feed, events, src } = gateway(10, 10, 3);
    feed.trimTo(6); // events 0..3 are gone
    expect(await planResume(idOf(events, 2), src)).toEqual({ ok: false, reason: 'trimmed' });
    expect(await planResume('0-0', src)).toEqual({ ok: false, reason: 'trimmed' });
    // The newest one removed: nothing after it is lost.
    expect(await planResume(idOf(events, 3), src)).toEqual({ ok: true, cached: undefined });
  });

  it('resyncs as unknown_since for a cursor past the end of the feed', async () => {
    const { events, src } = gateway(10);
    const beyond = `${Number(idOf(events, 9).split('-')[0]) + 1}-0`;
    expect(await planResume(beyond, src)).toEqual({ ok: false, reason: 'unknown_since' });
    expect(await planResume(`${idOf(events, 9).split('-')[0]}-1`, src)).toEqual({ ok: false, reason: 'unknown_since' });
    // From another deployment whose clock ran far ahead.
    expect(await planResume('99999999999999-0', src)).toEqual({ ok: false, reason: 'unknown_since' });
  });

  it('replays from the feed when the cursor is past this gateway\'s tail but in the feed (the tail lags)', async () => {
    const { events, src } = gateway(10, 7, 3);
    expect(await planResume(idOf(events, 8), src)).toEqual({ ok: true, cached: undefined });
  });
});

describe('resuming a reader', () => {
  it('replays what it missed from the feed, page by page, then goes live at the current position', async () => {
    const { feed, events, src, tailNew } = gateway(10, 10, 2);
    const { r, t } = reader();
    const plan = await resumeReader(r, idOf(events, 2), src);
    expect(plan).toEqual({ ok: true, cached: undefined });
    expect(feed.reads.after).toBeGreaterThan(1);
    const live = tailNew([r]);
    expect(t.written).toEqual(['welcome', ...ids(events.slice(3)), live.eventId]);
    expect(t.controls[0]?.frame).toMatchObject({ type: 'welcome', resumed: true });
  });

  it('writes events that arrive live during the replay once, in feed order, after the replayed ones', async () => {
    const { feed, events, src, tailNew } = gateway(10, 10, 2);
    const { r, t } = reader();
    const live: FeedEvent[] = [];
    // The tail hands on new events while the replay is still reading pages.
    feed.onAfter = () => {
      if (live.length < 3) live.push(tailNew([r]));
    };
    await resumeReader(r, idOf(events, 1), src);
    feed.onAfter = undefined;
    const after = tailNew([r]);
    const expected = [...ids(events.slice(2)), ...ids(live), after.eventId];
    expect(t.written).toEqual(['welcome', ...expected]);
    expect(new Set(t.written).size).toBe(t.written.length);
  });

  it('replays a recent cursor from memory', async () => {
    const { feed, events, src, tailNew } = gateway(10, 10, 4);
    const { r, t } = reader();
    const plan = await resumeReader(r, idOf(events, 7), src);
    expect(plan.ok && plan.cached !== undefined).toBe(true);
    const live = tailNew([r]);
    expect(t.written).toEqual(['welcome', idOf(events, 8), idOf(events, 9), live.eventId]);
    expect(feed.reads.after).toBe(0);
  });

  it('replays events already in the feed but not yet tailed once, when the tail hands them on', async () => {
    const { events, src, tailNew } = gateway(10, 7, 3);
    const { r, t } = reader();
    await resumeReader(r, idOf(events, 3), src);
    // The tail now catches up with 7..9, already replayed from the feed.
    for (const e of events.slice(7)) tailNew([r], e);
    expect(t.written).toEqual(['welcome', ...ids(events.slice(4))]);
  });

  for (const [name, setup, reason] of [
    ['trimmed', (g: ReturnType<typeof gateway>) => (g.feed.trimTo(4), idOf(g.events, 1)), 'trimmed'],
    ['unknown_since', () => '99999999999999-0', 'unknown_since'],
    ['invalid_since', () => 'not-a-cursor', 'invalid_since'],
  ] as const) {
    it(`tells a reader whose cursor cannot be honoured to resync (${name}), then carries on live from the tail's position`, async () => {
      const g = gateway(10, 10, 3);
      const { r, t } = reader();
      const since = setup(g);
      const position = g.src.position;
      const plan = await resumeReader(r, since, g.src);
      expect(plan).toEqual({ ok: false, reason });
      expect(t.controls.map((c) => c.frame)).toEqual([
        { type: 'welcome', connectionId: 'r1', heartbeatMs: 1000, topics: ['world'], resumed: false },
        { type: 'resync', reason },
      ]);
      // The resync names the position the reader now carries on from.
      expect(t.controls[1]?.cursor).toBe(position);
      const live = [g.tailNew([r]), g.tailNew([r])];
      // Nothing from before the position is replayed; every later event arrives.
      expect(t.written).toEqual(['welcome', 'resync', ...ids(live)]);
    });
  }

  it('holds live events that arrive while the plan is being made, and writes them after the resync', async () => {
    const g = gateway(10, 10, 3);
    g.feed.trimTo(4);
    const { r, t } = reader();
    // The plan asks the feed whether it was trimmed; an event is tailed meanwhile.
    let live: FeedEvent | undefined;
    const isTrimmedAfter = g.feed.isTrimmedAfter.bind(g.feed);
    g.feed.isTrimmedAfter = async (since) => {
      live ??= g.tailNew([r]);
      return isTrimmedAfter(since);
    };
    await resumeReader(r, idOf(g.events, 1), g.src);
    expect(live).toBeDefined();
    expect(t.written).toEqual(['welcome', 'resync', live?.eventId]);
    expect(t.controls[1]?.cursor).toBe(idOf(g.events, 9));
  });

  it('rejects when the feed cannot be read, leaving the caller to close the reader', async () => {
    const { feed, events, src } = gateway(10, 10, 2);
    feed.after = async () => {
      throw new Error('connection lost');
    };
    const { r } = reader();
    await expect(resumeReader(r, idOf(events, 1), src)).rejects.toThrow('connection lost');
  });
});
