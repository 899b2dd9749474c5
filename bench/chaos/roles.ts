/**
 * Flashwire roles as real OS processes (`node dist/server/main.js`) on fixed
 * ports, so a killed gateway can be restarted where its readers expect it.
 * Shared by the fault tests, the chaos run and the soak run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { RedisServer } from '../../src/redis/redis-server';

/** The repository root, found from here whether run from source (jest) or dist/. */
export const ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();
export const MAIN = path.join(ROOT, 'dist/server/main.js');

export type LogLine = Record<string, unknown>;

/** One role process; `start()` again after a kill brings it back on the same port. */
export class RoleProcess {
  child: ChildProcess | undefined;
  readonly logs: LogLine[] = [];
  /** Restarts so far (for reports). */
  starts = 0;
  /** Listening and not since killed. */
  ready = false;
  private exitedP: Promise<void> = Promise.resolve();
  private stderr = '';

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get exited(): Promise<void> {
    return this.exitedP;
  }

  /** Spawns the process and resolves once it listens. */
  start(timeoutMs = 20_000): Promise<void> {
    if (this.running) return Promise.resolve();
    this.starts++;
    this.stderr = '';
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, FLASHWIRE_LOG_LEVEL: 'info', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exitedP = new Promise((resolve) =>
      child.once('exit', () => {
        this.ready = false;
        resolve();
      }),
    );
    child.stderr!.on('data', (d) => (this.stderr += String(d)));
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        child.kill('SIGKILL');
        reject(new Error(`${this.name} did not start in ${timeoutMs} ms: ${this.stderr}`));
      }, timeoutMs);
      void this.exitedP.then(() => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(new Error(`${this.name} exited before listening: ${this.stderr}`));
      });
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        let rec: LogLine;
        try {
          rec = JSON.parse(line) as LogLine;
        } catch {
          return;
        }
        rec.at = Date.now();
        this.logs.push(rec);
        if (this.logs.length > 20_000) this.logs.splice(0, 10_000);
        if (rec.msg === 'flashwire listening' && !done) {
          done = true;
          this.ready = true;
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Sends `signal` and resolves once the process is gone; returns when it died (ms). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
    if (this.running) this.child!.kill(signal);
    await this.exitedP;
    return Date.now();
  }

  /** SIGTERM, then SIGKILL after `graceMs`; idempotent. */
  async stop(graceMs = 8000): Promise<void> {
    if (!this.running) return;
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    this.child!.kill('SIGTERM');
    await this.exitedP;
    clearTimeout(timer);
  }
}

/** VmRSS of a process in bytes, 0 once it is gone. */
export function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private AOF redis-server (fsync always) in a temporary directory. */
export async function privateRedis(): Promise<{ server: RedisServer; url: string; dir: string; cleanup(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-chaos-redis-'));
  const port = await freePort();
  const server = new RedisServer({ dir, port, appendfsync: 'always' });
  await server.start();
  return {
    server,
    dir,
    url: `redis://127.0.0.1:${port}`,
    cleanup: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Environment shared by every role of one run. */
export function roleEnv(redisUrl: string, prefix: string, publishKey: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    HOST: '127.0.0.1',
    FLASHWIRE_PREFIX: prefix,
    FLASHWIRE_PUBLISH_KEY: publishKey,
    // The runs post far faster than a newsroom; the limit is not under test.
    FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '1000000',
    FLASHWIRE_SHUTDOWN_GRACE_MS: '1000',
    ...extra,
  };
}

/** A deterministic PRNG, so a failing chaos run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
