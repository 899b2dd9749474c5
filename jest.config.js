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
  // Tests are transpiled only (isolatedModules in tsconfig): `npm test`
  // type-checks the whole tree with tsc first, in its pretest build.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};
