/**
 * Flashwire under test: in this process (fast, inspectable) or as a real
 * child process running the built `dist/server/main.js` (for kills and
 * several gateways).
 */
import type { ChildProcess } from 'node:child_process';
import { createLogger } from '../../src/log';
import { Service } from '../../server/service';
import { MAIN, RoleProcess } from './roles';
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

export { MAIN };

export interface ChildService extends Running {
  child: ChildProcess;
  /** Every log line the process printed, parsed. */
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `node dist/server/main.js` (on a free port unless `env.PORT` names one) and resolves once it listens. */
export async function spawnService(env: Record<string, string>, timeoutMs = 20_000): Promise<ChildService> {
  const role = new RoleProcess(env.FLASHWIRE_ROLES ?? 'service', Number(env.PORT ?? 0), env);
  await role.start(timeoutMs);
  const exited = role.exited;
  return {
    child: role.child!,
    logs: role.logs,
    exited,
    port: role.port,
    prefix: env.FLASHWIRE_PREFIX ?? '',
    url: role.url,
    wsUrl: role.wsUrl,
    kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
      await role.kill(signal);
      return exited;
    },
    stop: async () => {
      await role.kill('SIGTERM');
    },
  };
}

/** Environment for child processes sharing one Redis and prefix. */
export function childEnv(redisUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return testEnv(redisUrl, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_LOG_LEVEL: 'info', ...extra });
}

export { PUBLISH_KEY };
