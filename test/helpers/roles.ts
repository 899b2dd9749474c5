/**
 * Flashwire roles as real OS processes (`node dist/server/main.js`) on fixed
 * ports, so a killed gateway can be restarted where its readers expect it.
 * Shared by the fault tests, the chaos run and the soak run; free of jest,
 * as the runs use it outside a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/** The repository root, found from here whether run from source (jest) or dist/. */
export const ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();
export const MAIN = path.join(ROOT, 'dist/server/main.js');

export type LogLine = Record<string, unknown>;

/**
 * One role process; `start()` again after a kill brings it back on the same
 * port. Port 0 lets the first start take any free port, kept for restarts.
 */
export class RoleProcess {
  child: ChildProcess | undefined;
  readonly logs: LogLine[] = [];
  /** Restarts so far (for reports). */
  starts = 0;
  /** Listening and not since killed. */
  ready = false;
  private exitedP: Promise<number | null> = Promise.resolve(null);
  private stderr = '';

  constructor(
    readonly name: string,
    public port: number,
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

  /** Resolves with the exit code (null after a signal) once the current process is gone. */
  get exited(): Promise<number | null> {
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
      child.once('exit', (code) => {
        this.ready = false;
        resolve(code);
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
          if (this.port === 0) this.port = Number(rec.port);
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
