#!/usr/bin/env node
/**
 * `npm start`: read settings, find (or start) Redis, run the roles, and shut
 * down cleanly on SIGTERM/SIGINT within the configured grace period.
 */
import { loadSettings, SettingsError, type Settings } from '../config/settings';
import { createLogger } from '../src/log';
import { ClusterSettingsError, startClusterPrimary } from './cluster';
import { RedisServer, RedisServerMissingError } from '../src/redis/redis-server';
import { RedisTooOldError } from '../src/redis/server-check';
import { redisChoice, type RedisChoice } from '../src/redis/target';
import { TopologyError } from '../src/redis/topology';
import type { RedisTarget } from '../src/redis/connection';
import { Service } from './service';

function fail(line: string): never {
  process.stderr.write(`flashwire: ${line}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof SettingsError) fail(err.message);
    throw err;
  }
  const log = createLogger(settings.FLASHWIRE_LOG_LEVEL);
  let choice: RedisChoice;
  try {
    choice = redisChoice(settings);
  } catch (err) {
    if (err instanceof TopologyError) fail(err.message);
    throw err;
  }
  try {
    if (startClusterPrimary(settings, choice, log)) return;
  } catch (err) {
    if (err instanceof ClusterSettingsError) fail(err.message);
    throw err;
  }

  let embedded: RedisServer | undefined;
  let target: RedisTarget = choice.target;
  if (choice.kind === 'private') {
    embedded = new RedisServer({ dir: choice.dir });
    try {
      await embedded.start();
    } catch (err) {
      if (err instanceof RedisServerMissingError) fail(err.message);
      fail(`could not start the private redis-server: ${(err as Error).message}`);
    }
    target = embedded.target;
    log.info({ dir: embedded.options.dir, redisPid: embedded.pid }, 'started a private redis-server (AOF persistence on)');
  }

  const service = new Service({
    settings,
    log,
    redis: target,
    privateRedis: embedded !== undefined,
    onFirstRunKey: (secret) =>
      process.stdout.write(
        `\n  Flashwire created a publish key named "first-run". It is shown only this once:\n\n    ${secret}\n\n  Post an alert with:  curl -H "Authorization: Bearer ${secret}" ...  (see README)\n\n`,
      ),
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took longer than FLASHWIRE_SHUTDOWN_GRACE_MS; exiting');
      process.exit(1);
    }, settings.FLASHWIRE_SHUTDOWN_GRACE_MS + 2000);
    force.unref();
    await service.stop();
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await service.start();
  } catch (err) {
    if (!(err instanceof RedisTooOldError)) log.error({ err }, 'failed to start');
    await service.stop().catch(() => undefined);
    await embedded?.stop();
    if (err instanceof RedisTooOldError) fail(err.message);
    fail(`failed to start: ${(err as Error).message}`);
  }
}

void main();
