/** Shared by the stream-*.test.ts files: a steady publisher and a Redis command log. */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import Redis from 'ioredis';
import { eventually, postAlert, sleep } from '../helpers/clients';

/** Env for stream tests: publishing is not what is under test, so no publish rate limit. */
export const STREAM_ENV = { FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '1000000' };

export interface Publisher {
  /** Alert ids accepted (202), in the order posted. */
  ids: string[];
  stop(): Promise<void>;
}

/** Posts alerts one after another, with a short pause, until stopped. */
export function publishContinuously(baseUrl: string, topics: string[], everyMs = 5, body: Record<string, unknown> = {}): Publisher {
  const ids: string[] = [];
  let running = true;
  const loop = (async () => {
    let n = 0;
    while (running) {
      const r = await postAlert(baseUrl, { headline: `steady ${n++}`, topics, ...body });
      if (r.status !== 202) throw new Error(`publish failed: ${r.status} ${JSON.stringify(r.body)}`);
      ids.push(r.body.id);
      await sleep(everyMs);
    }
  })();
  return {
    ids,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/**
 * Every command Redis executes from now on (via MONITOR), as argument lists.
 * A plain socket, not ioredis: ioredis enters its monitoring state a tick
 * after MONITOR's `+OK`, so lines that arrive in the same read as the `+OK`
 * (likely on a busy machine) throw "Command queue state error".
 */
export async function monitorRedis(url: string): Promise<{ commands: string[][]; mark(): Promise<void>; stop(): Promise<void> }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const commands: string[][] = [];
  let buffered = '';
  let monitoring!: () => void;
  const started = new Promise<void>((resolve, reject) => {
    monitoring = resolve;
    socket.once('error', reject);
  });
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 2);
      if (line === '+OK') monitoring();
      else if (line.startsWith('+')) commands.push(monitorArgs(line));
    }
  });
  socket.on('error', () => undefined);
  socket.write('MONITOR\r\n');
  await started;
  return {
    commands,
    // Redis runs one command at a time and MONITOR reports them in that
    // order: once a later ECHO is seen, every command before it is too.
    mark: async () => {
      const token = `mark-${randomBytes(6).toString('hex')}`;
      const other = new Redis(url);
      try {
        await other.echo(token);
      } finally {
        other.disconnect();
      }
      await eventually(() => commands.some((c) => /^echo$/i.test(c[0] ?? '') && c[1] === token), 20_000);
    },
    stop: async () => {
      socket.destroy();
    },
  };
}

/** `+1700000000.123 [0 127.0.0.1:5000] "xrange" "k" "-" "+"` as ['xrange', 'k', '-', '+']. */
function monitorArgs(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] as string).replace(/\\(.)/g, '$1'));
}
