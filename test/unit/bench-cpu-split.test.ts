/**
 * The bench takes Flashwire's and the floor's spaced alerts in turn, so each
 * system's CPU must be counted over its own alerts' windows only: what a
 * process spends between the windows is the other system's time.
 */
import { CpuSplit } from '../../bench/proc-stats';

/** Spends `ms` of this process's CPU time (not wall time: a busy machine only makes it take longer). */
function burn(ms: number): void {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(i);
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) break;
  }
  if (x < 0) throw new Error('unreachable');
}

describe('CpuSplit', () => {
  it('counts the server process only inside its windows', () => {
    const split = new CpuSplit(() => [process.pid], [], { [process.pid]: 'never used: the server is not the rest' });
    burn(300); // before any window
    split.resume();
    burn(200);
    split.pause();
    burn(400); // between windows: another system's turn
    split.resume();
    burn(200);
    const f = split.figures();
    // 400 ms in the two windows, counted in 10 ms ticks; the 700 ms outside them must not appear.
    expect(f.serverSeconds).toBeGreaterThanOrEqual(0.35);
    expect(f.serverSeconds).toBeLessThanOrEqual(0.55);
    expect(f.readerSeconds).toBe(0);
    expect(Object.keys(f.otherByProcess)).not.toContain('never used: the server is not the rest');
  });

  it('reports nothing for a window never opened', () => {
    const split = new CpuSplit(() => [process.pid], []);
    burn(100);
    expect(split.figures()).toMatchObject({ serverSeconds: 0, readerSeconds: 0, otherSeconds: 0, wallSeconds: 0 });
  });
});
