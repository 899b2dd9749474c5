/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  // The node environment, ending what each file's modules started for the whole process.
  testEnvironment: '<rootDir>/test/helpers/environment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 60_000,
  // Two cores: integration tests start their own redis-server and sockets.
  maxWorkers: 2,
  // How long a worker may take to exit once the run is over before jest
  // force-exits it and warns of a leak (default 500 ms). Measured here: a
  // worker's event loop is empty within 1-30 ms of being told to end (no
  // handle is left), but tearing down a few hundred MB of heap on a busy
  // two-core machine can take longer than half a second. A worker that is
  // really held open still gets force-exited and reported, after 5 s.
  workerGracefulExitTimeout: 5_000,
  // Tests are transpiled only (isolatedModules in tsconfig): `npm test`
  // type-checks the whole tree with tsc first, in its pretest build.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};
