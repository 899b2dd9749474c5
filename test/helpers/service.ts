/**
 * Flashwire under test: in this process (fast, inspectable) or as a real
 * child process running the built `dist/server/main.js` (for kills and
 * several gateways).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { createLogger } from '../../src/log';
import { Service } from '../../server/service';
import { testEnv, testSettings, PUBLISH_KEY } from './settings';

export interface Running {
  url: string;
  wsUrl: string;
  port: number;
  prefix: string;
  stop(): Promise<void>;
}

export async function startService(redisUrl: string, env: Record<string, string> = {}): Promise<Running & { service: Service }> {
  const settings = testSettings(redisUrl, env);
  const service = new Service({ settings, log: createLogger(settings.FLASHWIRE_LOG_LEVEL), redis: { url: redisUrl } });
  await service.start();
  const port = service.port;
  return { service, port, url: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, prefix: settings.FLASHWIRE_PREFIX, stop: () => service.stop() };
}

export const MAIN = path.resolve(__dirname, '../../dist/server/main.js');

export interface ChildService extends Running {
  child: ChildProcess;
  /** Every log line the process printed, parsed. */
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node dist/server/main.js` and resolves once it listens. */
export function spawnService(env: Record<string, string>, timeoutMs = 20_000): Promise<ChildService> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, FLASHWIRE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening: ${stderr}`));
    });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(rec);
      if (rec.msg === 'flashwire listening') {
        clearTimeout(timer);
        const port = Number(rec.port);
        resolve({
          child,
          logs,
          exited,
          port,
          prefix: env.FLASHWIRE_PREFIX ?? '',
          url: `http://127.0.0.1:${port}`,
          wsUrl: `ws://127.0.0.1:${port}`,
          kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}

/** Environment for child processes sharing one Redis and prefix. */
export function childEnv(redisUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return testEnv(redisUrl, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_LOG_LEVEL: 'info', ...extra });
}

export { PUBLISH_KEY };
