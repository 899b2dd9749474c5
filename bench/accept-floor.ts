/**
 * The accept floor: the least a service can do to accept an alert durably
 * and hand it on. Two roles of this module, each its own process:
 *
 * - `server`: a bare `node:http` server that appends each request body to
 *   a Redis stream with one `XADD` and answers `202` when Redis replied.
 *   With `appendfsync always` that reply comes after the fsync, so a `202`
 *   is on disk after one round trip and one fsync: nothing durable can
 *   answer sooner. No parsing, no validation, no queue, no worker.
 * - `tailer`: one connection blocked in `XREAD BLOCK` on that stream, which
 *   timestamps each entry as its reply arrives and reports the benchmark
 *   alerts (by the headline marker) to the parent over IPC.
 *
 * Env: REDIS_URL, FLOOR_STREAM, and PORT for the server.
 */
import http from 'node:http';
import IORedis from 'ioredis';

const MARK = '"headline":"fwb:';

/** What the tailer sends its parent: the alert `phase:seq` and when its entry arrived. */
export interface Tailed {
  ev: 'tailed';
  key: string;
  t: number;
}

const clock = () => performance.timeOrigin + performance.now();
const stream = process.env.FLOOR_STREAM!;

function serve(): void {
  const redis = new IORedis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      redis.xadd(stream, '*', 'body', Buffer.concat(chunks)).then(
        (id) => {
          res.writeHead(202, { 'content-type': 'application/json' });
          res.end(`{"id":"${id}"}`);
        },
        () => {
          res.writeHead(503);
          res.end();
        },
      );
    });
  });
  // The measuring client keeps its connections between spaced alerts.
  server.keepAliveTimeout = 60_000;
  redis.once('ready', () => server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.({ ev: 'accept-floor-ready' })));
}

/** The alert key (`s:3`) after the marker, or undefined for bodies that are not benchmark alerts. */
function keyOf(body: string): string | undefined {
  const i = body.indexOf(MARK);
  if (i < 0) return undefined;
  const j = body.indexOf(' ', i + MARK.length);
  return j < 0 ? undefined : body.slice(i + MARK.length, j);
}

async function tail(): Promise<void> {
  const redis = new IORedis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  await new Promise<void>((r) => redis.once('ready', () => r()));
  // From the start of a stream nobody has written yet: no entry can slip in before the first read blocks.
  let last = '0-0';
  process.send?.({ ev: 'accept-floor-ready' });
  for (;;) {
    const res = (await redis.xread('COUNT', 1000, 'BLOCK', 0, 'STREAMS', stream, last)) as [string, [string, string[]][]][] | null;
    const t = clock();
    if (!res) continue;
    for (const [id, fields] of res[0]![1]) {
      last = id;
      const key = keyOf(fields[1] ?? '');
      // Ingest alerts are counted by the load generator; reporting each would only load the tailer.
      if (key && !key.startsWith('i:')) process.send?.({ ev: 'tailed', key, t } satisfies Tailed);
    }
  }
}

const role = process.argv[2];
if (role === 'server') serve();
else if (role === 'tailer') void tail();
else throw new Error(`accept-floor: role must be server or tailer, not ${role}`);
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));
