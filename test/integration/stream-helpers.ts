/** Shared by the stream-*.test.ts files: a steady publisher and a Redis command log. */
import { randomBytes } from 'node:crypto';
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

/** Every command Redis executes from now on (via MONITOR), as argument lists. */
export async function monitorRedis(url: string): Promise<{ commands: string[][]; mark(): Promise<void>; stop(): Promise<void> }> {
  const client = new Redis(url, { lazyConnect: true });
  const monitor = await client.monitor();
  const commands: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => commands.push(args));
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
      monitor.disconnect();
      client.disconnect();
    },
  };
}
