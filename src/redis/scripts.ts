/**
 * The Lua scripts, loaded once per connection. Each file's name carries its
 * number of KEYS (as in BullMQ), and its header lists KEYS, ARGV and returns.
 * A line `--- @include "name"` is replaced by lua/includes/name.lua (as in
 * BullMQ): scripts cannot call each other, so what two of them do alike is
 * written once there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChainableCommander, Redis } from 'ioredis';

const LUA_DIR = path.join(__dirname, 'lua');

interface ScriptDef {
  file: string;
  keys: number;
}

const SCRIPTS = {
  acceptAlert: { file: 'accept-alert-13.lua', keys: 13 },
  acceptSettle: { file: 'accept-settle-3.lua', keys: 3 },
  appendSend: { file: 'append-send-2.lua', keys: 2 },
  appendChange: { file: 'append-change-3.lua', keys: 3 },
  createAlert: { file: 'create-alert-2.lua', keys: 2 },
  markFailed: { file: 'mark-failed-1.lua', keys: 1 },
  sweepOrphan: { file: 'sweep-orphan-3.lua', keys: 3 },
  reportAdd: { file: 'report-add-2.lua', keys: 2 },
  createApiKey: { file: 'create-api-key-2.lua', keys: 2 },
  idempotencyReserve: { file: 'idempotency-reserve-1.lua', keys: 1 },
  idempotencyComplete: { file: 'idempotency-complete-1.lua', keys: 1 },
  rateLimit: { file: 'rate-limit-1.lua', keys: 1 },
  pushLease: { file: 'push-lease-1.lua', keys: 1 },
  pushCursor: { file: 'push-cursor-2.lua', keys: 2 },
  workerClaim: { file: 'worker-claim-1.lua', keys: 1 },
} as const satisfies Record<string, ScriptDef>;

export type ScriptName = keyof typeof SCRIPTS;

const INCLUDE = /^--- @include "([a-z0-9-]+)"$/gm;

/**
 * Splices each included file in place of its line, once per script however
 * many includes name it (a second copy of a `local function` would shadow
 * the first), following includes inside includes.
 */
function withIncludes(lua: string, seen = new Set<string>()): string {
  return lua.replace(INCLUDE, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    return withIncludes(fs.readFileSync(path.join(LUA_DIR, 'includes', `${name}.lua`), 'utf8'), seen);
  });
}

const sources = new Map<string, string>();
function source(file: string): string {
  let s = sources.get(file);
  if (s === undefined) {
    s = withIncludes(fs.readFileSync(path.join(LUA_DIR, file), 'utf8'));
    sources.set(file, s);
  }
  return s;
}

const defined = new WeakSet<Redis>();

/** Defines every script on the connection (once), so pipelines made after this can run them too. */
export function defineScripts(redis: Redis): void {
  if (defined.has(redis)) return;
  for (const [n, def] of Object.entries(SCRIPTS)) {
    redis.defineCommand(`fw_${n}`, { numberOfKeys: def.keys, lua: source(def.file) });
  }
  defined.add(redis);
}

/** Queues a script by name on a pipeline of a connection that defineScripts() has seen. */
export function pipeScript(pipe: ChainableCommander, name: ScriptName, keys: string[], args: (string | number)[]): void {
  const fn = (pipe as unknown as Record<string, (...a: (string | number)[]) => unknown>)[`fw_${name}`];
  if (!fn) throw new Error(`script ${name} is not defined on this connection`);
  fn.call(pipe, ...keys, ...args);
}

/** Runs a script by name; EVALSHA with a fallback to EVAL, via ioredis. */
export async function runScript(redis: Redis, name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
  defineScripts(redis);
  const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[`fw_${name}`];
  if (!fn) throw new Error(`unknown script ${name}`);
  return fn.call(redis, ...keys, ...args);
}
