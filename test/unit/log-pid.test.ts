/** One `pid` per JSON log line: this process's, whatever a log call passes. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const LOG = path.resolve(__dirname, '../../dist/src/log.js');

describe('log lines', () => {
  it('carry one pid, this process’s, even when a call logs another pid', () => {
    const script = `const { createLogger } = require(${JSON.stringify(LOG)});
const log = createLogger('info');
log.info({ pid: 4242 }, 'started a child');
log.child({ alertId: 'x' }).info({ pid: 99 }, 'from a child logger');
log.info({ redisPid: 7 }, 'plain');`;
    const out = execFileSync(process.execPath, ['-e', script]).toString().trim().split('\n');
    expect(out).toHaveLength(3);
    for (const line of out) expect(line.match(/"pid":/g)).toHaveLength(1);
    const [first, , third] = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({ otherPid: 4242, msg: 'started a child' });
    expect(first!.pid).not.toBe(4242);
    expect(third).toMatchObject({ redisPid: 7 });
  });
});
