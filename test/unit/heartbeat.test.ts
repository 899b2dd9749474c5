import { SpreadHeartbeat, SpreadRound, type HeartbeatMember } from '../../src/gateway/heartbeat';

class Conn implements HeartbeatMember {
  pingedAt = 0;
  pings: Buffer[] = [];
  dead = false;
  constructor(readonly name: string) {}
}

/** A heartbeat over `n` connections with `slices` ticks per interval; the clock is jest's. */
function rig(n: number, slices: number) {
  const conns = new Set(Array.from({ length: n }, (_, i) => new Conn(`c${i}`)));
  const hb = new SpreadHeartbeat(
    conns,
    slices * 1000,
    (c, token) => c.pings.push(token),
    (c) => {
      c.dead = true;
      conns.delete(c);
    },
  );
  const tick = () => jest.advanceTimersByTime(1000);
  const pinged = () => [...conns].filter((c) => c.pings.length > 0).length;
  /** Every connection answers its last ping, as a live peer does. */
  const answerAll = () => {
    for (const c of conns) if (c.pingedAt !== 0 && c.pings.length && hb.answers(c.pings[c.pings.length - 1]!)) c.pingedAt = 0;
  };
  return { conns, hb, tick, pinged, answerAll };
}

describe('the spread heartbeat', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('pings a slice of the connections each tick and every connection once per interval', () => {
    const { hb, tick, pinged, conns } = rig(100, 5);
    hb.start();
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      tick();
      seen.push(pinged());
    }
    expect(seen).toEqual([20, 40, 60, 80, 100]);
    expect([...conns].every((c) => c.pings.length === 1)).toBe(true);
    hb.stop();
  });

  it('keeps connections that answer and drops one that has not answered a whole interval after its ping', () => {
    const { hb, tick, answerAll, conns } = rig(10, 5);
    const silent = [...conns][3]!;
    hb.start();
    for (let i = 0; i < 15; i++) {
      tick();
      const pending = silent.pingedAt;
      answerAll();
      silent.pingedAt = pending;
    }
    expect(silent.dead).toBe(true);
    expect(silent.pings.length).toBe(1);
    const others = [...conns];
    expect(others.length).toBe(9);
    expect(others.every((c) => !c.dead && c.pings.length === 3)).toBe(true);
    hb.stop();
  });

  it("counts a pong that echoes this round's token or the last round's, and no older one", () => {
    const { hb, tick, conns } = rig(1, 1);
    const c = [...conns][0]!;
    hb.start();
    tick();
    const first = c.pings[0]!;
    expect(hb.answers(first)).toBe(true);
    c.pingedAt = 0;
    tick();
    expect(hb.answers(first)).toBe(true);
    c.pingedAt = 0;
    tick();
    expect(hb.answers(first)).toBe(false);
    expect(hb.answers(Buffer.from('12345678'))).toBe(false);
    hb.stop();
  });

  it("reaches connections added during a round by the round's last tick", () => {
    const { hb, tick, conns } = rig(10, 5);
    hb.start();
    tick();
    const late = new Conn('late');
    conns.add(late);
    for (let i = 0; i < 4; i++) tick();
    expect(late.pings.length).toBe(1);
    expect([...conns].every((c) => c.pings.length === 1)).toBe(true);
    hb.stop();
  });

  it('spreads connections that arrive during a round over the ticks left in it, not all on its last tick', () => {
    const { hb, tick, conns } = rig(0, 25);
    hb.start();
    // A round begins with nobody connected, then a reconnect storm brings 2,500.
    tick();
    for (let i = 0; i < 2500; i++) conns.add(new Conn(`r${i}`));
    const perTick: number[] = [];
    let before = 0;
    for (let i = 1; i < 25; i++) {
      tick();
      const now = [...conns].filter((c) => c.pings.length > 0).length;
      perTick.push(now - before);
      before = now;
    }
    expect(before).toBe(2500);
    // 24 ticks left for 2,500: about 105 each; never the lot at once.
    expect(Math.max(...perTick)).toBeLessThanOrEqual(Math.ceil(2500 / 24));
    hb.stop();
  });

  it('with an interval of one tick pings everyone every tick, as a single beat did', () => {
    const { hb, tick, pinged, answerAll, conns } = rig(7, 1);
    hb.start();
    tick();
    expect(pinged()).toBe(7);
    answerAll();
    tick();
    expect([...conns].every((c) => c.pings.length === 2)).toBe(true);
    hb.stop();
  });

  it('spreads plain visits (SSE heartbeats) over a Map: a slice each tick, each member once per round, late joiners in the same round', () => {
    const streams = new Map(Array.from({ length: 30 }, (_, i) => [`s${i}`, { name: `s${i}`, beats: 0 }]));
    const round = new SpreadRound(streams, 3000, (s) => s.beats++);
    round.start();
    const beats = () => [...streams.values()].reduce((n, s) => n + s.beats, 0);
    jest.advanceTimersByTime(1000);
    expect(beats()).toBe(10);
    streams.set('late', { name: 'late', beats: 0 });
    streams.delete('s29');
    jest.advanceTimersByTime(2000);
    // The round's last tick takes everyone left: the late joiner too, and not the one that left.
    expect([...streams.values()].every((s) => s.beats === 1)).toBe(true);
    jest.advanceTimersByTime(3000);
    expect([...streams.values()].every((s) => s.beats === 2)).toBe(true);
    round.stop();
  });
});
