/**
 * Runs a private `redis-server`: the embedded default of `npm start` and the
 * Redis every test talks to. Persistence is AOF, fsynced on every write, so
 * a 202 means the alert is on disk.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import IORedis from 'ioredis';

export interface RedisServerOptions {
  /** Data directory; created if missing. */
  dir: string;
  /** TCP port on 127.0.0.1; omit to listen on a unix socket in `dir` only. */
  port?: number;
  /** AOF persistence (default true). */
  persist?: boolean;
  /** Append-only fsync policy (default `always`). */
  appendfsync?: 'always' | 'everysec' | 'no';
}

export class RedisServerMissingError extends Error {
  constructor() {
    super(
      'no redis-server on the PATH and REDIS_URL is not set: install one (apt-get install redis-server, or brew install redis) or run `docker compose up redis` and set REDIS_URL=redis://localhost:6379',
    );
    this.name = 'RedisServerMissingError';
  }
}

function redisServerAvailable(): boolean {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Where the private server in `dir` listens: tools that only connect to it (the CLI) look here too. */
export function privateSocketPath(dir: string): string {
  return path.resolve(dir, 'redis.sock');
}

export class RedisServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly options: RedisServerOptions) {}

  get target(): { url: string } | { path: string } {
    return this.options.port !== undefined ? { url: `redis://127.0.0.1:${this.options.port}` } : { path: this.socketPath };
  }

  get socketPath(): string {
    return privateSocketPath(this.options.dir);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server and resolves once it answers PING. */
  async start(timeoutMs = 10_000): Promise<void> {
    if (this.running) return;
    if (!redisServerAvailable()) throw new RedisServerMissingError();
    const dir = path.resolve(this.options.dir);
    fs.mkdirSync(dir, { recursive: true });
    await this.adoptOrphan();
    const persist = this.options.persist ?? true;
    const args = [
      '--dir', dir,
      '--port', String(this.options.port ?? 0),
      '--bind', '127.0.0.1',
      '--unixsocket', this.socketPath,
      '--unixsocketperm', '700',
      '--save', '',
      '--appendonly', persist ? 'yes' : 'no',
      '--appendfsync', this.options.appendfsync ?? 'always',
      '--protected-mode', 'no',
      '--logfile', path.join(dir, 'redis.log'),
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await this.waitForPing(timeoutMs);
  }

  /** Stops the server gracefully (SIGTERM flushes the AOF); idempotent. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the server with SIGKILL, as a crash would. */
  async kill(): Promise<void> {
    if (!this.child || !this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private async waitForPing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`redis-server exited at start; see ${path.join(this.options.dir, 'redis.log')}`);
      if (await ping(this.target)) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * A previous run killed with SIGKILL leaves its redis-server behind, still
   * owning the AOF in this directory. Two servers on one AOF would corrupt
   * it, so shut the orphan down cleanly first.
   */
  private async adoptOrphan(): Promise<void> {
    if (!fs.existsSync(this.socketPath)) return;
    const redis = new IORedis({ path: this.socketPath, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.call('SHUTDOWN');
    } catch {
      // Nothing answers: a stale socket file, which redis-server replaces.
    } finally {
      endQuietly(redis);
    }
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await pingPath(this.socketPath))) await new Promise((r) => setTimeout(r, 50));
  }
}

async function ping(target: { url: string } | { path: string }): Promise<boolean> {
  const opts = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 };
  const redis = 'url' in target ? new IORedis(target.url, opts) : new IORedis({ ...opts, path: target.path });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    endQuietly(redis);
  }
}

/**
 * A client that failed to connect has already ended; ioredis's disconnect()
 * would then wait out its disconnectTimeout (2 s) for a socket that is long
 * closed, keeping the process up that long.
 */
function endQuietly(redis: IORedis): void {
  if (redis.status !== 'end') redis.disconnect();
}

function pingPath(p: string): Promise<boolean> {
  return ping({ path: p });
}
