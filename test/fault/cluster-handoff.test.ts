/**
 * Fault: a gateway process SIGKILLed while the cluster primary is handing it
 * connections. Every connection made across the kill must end one way or
 * the other (answered, or closed so the client tries again); none may be
 * left open and unanswered. node:cluster alone leaves one such connection
 * per kill (the one it was handing over), which a client would wait on
 * until its own handshake limit.
 */
import net from 'node:net';
import { eventually } from '../helpers/clients';
import { redisForFile } from '../helpers/redis-for-file';
import { childEnv, spawnService } from '../helpers/service';
import { uniquePrefix } from '../helpers/settings';

const shared = redisForFile();

interface Attempt {
  socket: net.Socket;
  answered: boolean;
  closed: boolean;
}

/** Connections, one after another on each of `lanes`, each asking for /healthz once and closing. */
class ConnectionStream {
  readonly attempts: Attempt[] = [];
  private running = true;

  constructor(
    private readonly port: number,
    lanes: number,
  ) {
    for (let i = 0; i < lanes; i++) void this.lane();
  }

  get answered(): number {
    return this.attempts.filter((a) => a.answered).length;
  }

  /** Open and unanswered: what a client would be left waiting on. */
  get waiting(): Attempt[] {
    return this.attempts.filter((a) => !a.closed && !a.answered);
  }

  /** No new connections; those made go on to their end. */
  stop(): void {
    this.running = false;
  }

  destroyAll(): void {
    for (const a of this.attempts) a.socket.destroy();
  }

  private async lane(): Promise<void> {
    while (this.running) await this.once();
  }

  private once(): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1');
      const a: Attempt = { socket, answered: false, closed: false };
      this.attempts.push(a);
      socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: flashwire\r\nConnection: close\r\n\r\n'));
      socket.on('data', () => {
        a.answered = true;
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        a.closed = true;
        resolve();
      });
      // A lane whose connection hangs stays with it: the others keep the stream going.
    });
  }
}

describe('fault: SIGKILL one process of a gateway cluster while it is being handed connections', () => {
  it('leaves no connection open and unanswered: those the dead process never took are closed, so their clients come back at once', async () => {
    const gw = await spawnService(childEnv(shared.redis.url, uniquePrefix(), { FLASHWIRE_ROLES: 'gateway', FLASHWIRE_GATEWAY_PROCESSES: '2' }), 60_000);
    let stream: ConnectionStream | undefined;
    try {
      const listening = await eventually(() => {
        const lines = gw.logs.filter((l) => l.msg === 'flashwire listening');
        return lines.length === 2 ? lines : undefined;
      }, 30_000);
      const victim = listening[0]!.pid as number;
      expect(typeof victim).toBe('number');
      expect(victim).not.toBe(gw.child.pid);

      stream = new ConnectionStream(gw.port, 32);
      await eventually(() => stream!.answered >= 300, 30_000);
      process.kill(victim, 'SIGKILL');
      await eventually(() => gw.logs.some((l) => l.msg === 'gateway process died; starting another' && l.workerPid === victim), 20_000);
      // The survivor keeps answering: the stream went on through the kill.
      const atKill = stream.answered;
      await eventually(() => stream!.answered >= atKill + 300, 30_000);
      stream.stop();
      // Each ends within milliseconds when nothing is lost; the limit only bounds how long a failure takes to show.
      await eventually(() => stream!.waiting.length === 0, 20_000).catch(() => undefined);
      expect({ openAndUnanswered: stream.waiting.length, of: stream.attempts.length }).toEqual({ openAndUnanswered: 0, of: stream.attempts.length });
    } finally {
      stream?.destroyAll();
      await gw.stop();
    }
    // Starting a cluster and a storm of connections on a loaded 2-core machine can pass the 60 s default.
  }, 120_000);
});
