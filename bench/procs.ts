/**
 * Process plumbing for the benchmark: child processes that are always
 * killed, IPC with reader processes, and waits with a time limit.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/** Every child the benchmark started; killed on exit, however the run ends. */
const children = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** Stops a child with SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A wall-clock time in ms with sub-millisecond resolution, comparable across processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Forks a Node module with an IPC channel that can carry typed arrays. */
export function forkModule(modulePath: string, args: string[], env: NodeJS.ProcessEnv = process.env, execArgv: string[] = process.execArgv): ChildProcess {
  return track(fork(modulePath, args, { env, execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}

/**
 * The node flags `npm start` runs the service with (package.json's start script), so the bench
 * measures the service as it is deployed, not as a bare `node` would run it.
 */
function startFlags(packageJson: string): string[] {
  const start = (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = start.split(/\s+/);
  if (words[0] !== 'node') throw new Error(`package.json's start script does not run node: ${start}`);
  return words.slice(1).filter((w) => w.startsWith('--'));
}

/**
 * Spawns `node dist/server/main.js`, with `npm start`'s node flags then `nodeArgs`, and resolves once it logs
 * that it listens (once per cluster worker).
 * `onListening` hears every such line with its time, later ones too (a cluster's replacement workers);
 * `logTo` gets every line of its log.
 */
export function spawnService(mainJs: string, env: NodeJS.ProcessEnv, listeners: number, nodeArgs: string[] = [], timeoutMs = 60_000, onListening?: (at: number) => void, logTo?: NodeJS.WritableStream): Promise<ChildProcess> {
  const flags = startFlags(path.resolve(path.dirname(mainJs), '../../package.json'));
  const child = track(spawn(process.execPath, [...flags, ...nodeArgs, mainJs], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
    process.stderr.write(d);
  });
  let seen = 0;
  let heard: (() => void) | undefined;
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    logTo?.write(line + '\n');
    if (!line.includes('"flashwire listening"')) return;
    onListening?.(now());
    if (++seen === listeners) heard?.();
  });
  if (listeners === 0) return Promise.resolve(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not listen within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening: ${stderr}`));
    });
    heard = () => {
      clearTimeout(timer);
      resolve(child);
    };
  });
}

/** Resolves with the first IPC message for which `pick` answers a value. */
export function nextMessage<T>(child: ChildProcess, pick: (m: any) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      const v = pick(m);
      if (v === undefined) return;
      cleanup();
      resolve(v);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what}: process exited (${code})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Polls `url` until it answers 200. */
export async function waitHttpOk(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(100);
  }
}
