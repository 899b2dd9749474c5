/**
 * A background tail (web push, webhooks) hands on its events after the I/O
 * that arrived with them or just behind them: in a process that also runs
 * the API, the accept whose append woke the tail answers first. The
 * gateway's tail does not wait.
 *
 * Both replies are made to be waiting in their sockets, the tail's first,
 * before the event loop next polls (the thread is held while Redis
 * answers), so both are read in the same poll: the order is then the
 * code's, not the scheduler's.
 */
import IORedis from 'ioredis';
import { Feed } from '../../src/feed/feed';
import { Keys } from '../../src/redis/keys';
import { eventually } from '../helpers/clients';
import { redisForFile } from '../helpers/redis-for-file';

const r = redisForFile();

/** Holds this thread without spinning, so replies pile up in the sockets meanwhile. */
function holdThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A feed entry's fields, as the accept script appends them. */
function entry(alertId: string): string[] {
  return ['type', 'alert', 'alert', alertId, 'topics', 'world', 'exp', '', 'body', `"alert":{"id":"${alertId}"}`];
}

async function blockedClients(client: IORedis): Promise<number> {
  const info = await client.info('clients');
  return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? 0);
}

interface BlockedTail {
  keys: Keys;
  tailConnection: IORedis;
  appender: IORedis;
  accepter: IORedis;
  /** What settled, in order: `tail:<events>` and whatever the body adds. */
  order: string[];
}

/**
 * Opens a tail blocked in its XREAD (its own connection), an appender and
 * an accepter, runs `body` and returns the order in which things settled
 * once the tail's read has.
 */
async function withBlockedTail(behindIo: boolean, prefix: string, body: (t: BlockedTail) => Promise<void>): Promise<string[]> {
  const keys = new Keys(prefix);
  const tailConnection = new IORedis(r.redis.url);
  const appender = new IORedis(r.redis.url);
  // Not r.client: the connection whose reply was read last (the polling
  // below) is looked at first in the next poll, which would put the
  // accept's reply ahead of the tail's whatever the code does.
  const accepter = new IORedis(r.redis.url);
  try {
    await Promise.all([appender.ping(), accepter.ping()]);
    const feed = new Feed(tailConnection, keys, { behindIo });
    const after = await feed.lastId();
    const order: string[] = [];
    const reading = feed.read(after, 10_000, 10).then((events) => {
      order.push(`tail:${events.length}`);
    });
    // The tail's XREAD is blocked in Redis before anything is appended.
    expect(await eventually(() => blockedClients(r.client))).toBe(1);
    await body({ keys, tailConnection, appender, accepter, order });
    await reading;
    return order;
  } finally {
    tailConnection.disconnect();
    appender.disconnect();
    accepter.disconnect();
  }
}

/**
 * A blocking read's reply is made to be read first, the accept's right
 * after it in the same poll: the append comes from a third connection and
 * its reply reaches the tail while this thread is held; only then is the
 * accept's command sent (ioredis writes it to the socket at once), and the
 * thread held again while Redis answers it. Returns which settled first.
 */
function tailReadFirst(behindIo: boolean, prefix: string): Promise<string[]> {
  return withBlockedTail(behindIo, prefix, async ({ keys, appender, accepter, order }) => {
    const appended = appender.xadd(keys.feed, '*', ...entry('01ALERT'));
    holdThread(300);
    const accepted = accepter.ping().then(() => {
      order.push('accept');
    });
    holdThread(300);
    await Promise.all([accepted, appended]);
  });
}

/**
 * The tail's reply is read alone, and the accept's arrives before the next
 * poll: Redis writes its replies one socket at a time, so the process often
 * wakes for the tail's alone. The accept's command is sent from a check-phase
 * callback queued when the tail's reply was read (before the tail's own
 * wait began), and the thread held while Redis answers it.
 */
function acceptAnsweredAfterTailRead(prefix: string): Promise<string[]> {
  return withBlockedTail(true, prefix, async ({ keys, tailConnection, appender, accepter, order }) => {
    const accepted = new Promise<void>((resolve) => {
      tailConnection.stream.once('data', () => {
        setImmediate(() => {
          void accepter.ping().then(() => {
            order.push('accept');
            resolve();
          });
          holdThread(300);
        });
      });
    });
    await appender.xadd(keys.feed, '*', ...entry('01ALERT'));
    await accepted;
  });
}

describe('a background feed tail', () => {
  it('hands on its events after the accept whose append woke it has answered', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await tailReadFirst(true, `behind-io-${i}`)).toEqual(['accept', 'tail:1']);
    }
  });

  it('waits for the next poll too: an accept answered just after the tail\'s reply was read still answers first', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await acceptAnsweredAfterTailRead(`behind-io-next-${i}`)).toEqual(['accept', 'tail:1']);
    }
  });

  it('is what makes the difference: a tail that does not wait goes first', async () => {
    // The gateway's tail, and the control for the test above: same setup, no waiting.
    expect(await tailReadFirst(false, 'behind-io-plain')).toEqual(['tail:1', 'accept']);
  });

  it('reads and parses the same events as a tail that does not wait', async () => {
    const keys = new Keys('behind-io-same');
    await r.client.xadd(keys.feed, '*', ...entry('01FIRST'));
    await r.client.xadd(keys.feed, '*', ...entry('01SECOND'));
    const waiting = await new Feed(r.client, keys, { behindIo: true }).read('0-0', 100, 10);
    const plain = await new Feed(r.client, keys).read('0-0', 100, 10);
    expect(waiting).toEqual(plain);
    expect(waiting).toHaveLength(2);
  });
});
