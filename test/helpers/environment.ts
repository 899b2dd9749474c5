/**
 * Jest's node environment, which also ends the process-wide performance
 * observers a test file's modules started.
 *
 * Jest loads every file's modules afresh, so an observer a module starts on
 * import for the life of its process (prom-client's GC histogram, which
 * src/metrics starts) is started again for each file, and each one keeps
 * its file's whole module graph reachable. A worker's heap then grew by a
 * file's modules per file, and on a busy machine it could no longer exit in
 * the half second jest gives it at the end of a run. The service loads its
 * modules once per process and needs none of this.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { TestEnvironment } from 'jest-environment-node';

/**
 * A full collection at each file's start and end. V8 collects lazily, so a
 * worker otherwise ended the run holding the garbage of its last files
 * (several hundred MB), and a process's exit takes time in proportion to
 * its heap: on a busy machine longer than the half second jest waits for a
 * worker to exit before it force-exits it and warns of a leak.
 */
const collect: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

// Node's built-in modules are shared by every file's sandbox: patch once per process.
const OBSERVING = Symbol.for('flashwire.test.observing');
type Patched = typeof PerformanceObserver.prototype & { [OBSERVING]?: Set<PerformanceObserver> };
const proto = PerformanceObserver.prototype as Patched;
const observing: Set<PerformanceObserver> = (proto[OBSERVING] ??= (() => {
  const set = new Set<PerformanceObserver>();
  const observe = proto.observe;
  proto.observe = function (this: PerformanceObserver, ...args: Parameters<PerformanceObserver['observe']>) {
    set.add(this);
    return observe.apply(this, args);
  };
  return set;
})());

export default class FlashwireTestEnvironment extends TestEnvironment {
  override async setup(): Promise<void> {
    collect();
    await super.setup();
  }

  override async teardown(): Promise<void> {
    for (const o of observing) o.disconnect();
    observing.clear();
    await super.teardown();
    collect();
  }
}
