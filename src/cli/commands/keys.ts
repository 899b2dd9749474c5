/**
 * `flashwire keys create|list|revoke`: API keys, managed in Redis directly
 * (REDIS_URL, Sentinel, Cluster, or the private server's socket under FLASHWIRE_DATA_DIR), so
 * no key is needed to make the first one. Secrets are stored hashed and
 * printed once, at creation.
 */
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { loadSettings, SettingsError } from '../../../config/settings';
import { ApiKeyStore, parseScopes } from '../../auth/api-keys';
import { connect, describeTarget, waitReady, type RedisTarget } from '../../redis/connection';
import { Keys } from '../../redis/keys';
import { redisChoice } from '../../redis/target';
import { TopologyError } from '../../redis/topology';
import { CliError } from '../cli-error';

async function withStore<T>(fn: (store: ApiKeyStore) => Promise<T>): Promise<T> {
  let settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof SettingsError) throw new CliError(err.message);
    throw err;
  }
  let target: RedisTarget;
  try {
    target = redisChoice(settings).target;
  } catch (err) {
    if (err instanceof TopologyError) throw new CliError(err.message);
    throw err;
  }
  const where = describeTarget(target);
  const redis: Redis = connect(target, 'command', 'flashwire:cli');
  try {
    await waitReady(redis, 3000);
  } catch (err) {
    redis.disconnect();
    throw new CliError(`cannot reach Redis at ${where} (${(err as Error).message}); set REDIS_URL, or start flashwire so its private redis-server runs`);
  }
  try {
    return await fn(new ApiKeyStore(redis, new Keys(settings.FLASHWIRE_PREFIX)));
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('create, list and revoke API keys (talks to Redis: REDIS_URL, or the private server under FLASHWIRE_DATA_DIR)');

  keys
    .command('create')
    .description('create a key and print its secret (shown only this once)')
    .requiredOption('--name <name>', 'a name for the key, e.g. newsdesk or mobile-backend')
    .option('--scopes <scopes>', 'comma list of publish, subscribe, admin, approve', 'publish')
    .option('--json', 'print {"name","scopes","secret"} as JSON')
    .option('-q, --quiet', 'print only the secret, e.g. export FLASHWIRE_KEY=$(npx flashwire keys create --name newsdesk -q)')
    .action((opts: { name: string; scopes: string; json?: boolean; quiet?: boolean }) =>
      withStore(async (store) => {
        // Bad names, scopes or a duplicate name are plain errors: main prints the message.
        const { secret, key } = await store.create(opts.name, parseScopes(opts.scopes));
        if (opts.json) process.stdout.write(JSON.stringify({ name: key.name, scopes: key.scopes, secret }) + '\n');
        else if (opts.quiet) process.stdout.write(secret + '\n');
        else process.stdout.write(`Created key "${key.name}" (scopes: ${key.scopes.join(', ')}). Its secret is shown only this once:\n\n  ${secret}\n\n`);
      }),
    );

  keys
    .command('list')
    .description('list keys by name with their scopes (never their secrets)')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) =>
      withStore(async (store) => {
        const list = await store.list();
        if (opts.json) return void process.stdout.write(JSON.stringify(list) + '\n');
        if (list.length === 0) return void process.stdout.write('no keys\n');
        const w = Math.max(4, ...list.map((k) => k.name.length));
        process.stdout.write(`${'NAME'.padEnd(w)}  ${'SCOPES'.padEnd(24)}  CREATED\n`);
        for (const k of list) process.stdout.write(`${k.name.padEnd(w)}  ${k.scopes.join(',').padEnd(24)}  ${k.createdAt}\n`);
      }),
    );

  keys
    .command('revoke')
    .description('revoke a key at once, in every API and gateway process')
    .argument('<name>', 'the key to revoke')
    .action((name: string) =>
      withStore(async (store) => {
        if (!(await store.revoke(name))) throw new CliError(`no key named "${name}"`);
        process.stdout.write(`Revoked key "${name}"; its readers are being disconnected.\n`);
      }),
    );
}
