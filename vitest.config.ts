import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // A worker imports the SDK clients, the sandbox and ferry once and runs file after file on
    // them (isolated, every file paid ~0.5 s of CPU for a fresh process and those imports again).
    // Files therefore leave no global behind: a mocked client is restored in afterAll, spies and
    // fake timers in the test that made them, and each test builds its own world and runtime.
    isolate: false,
    // At least two: the longest files (the README's CLI block, the demo, the sandbox CLI) mostly
    // wait on child processes, and the other files run beside them instead of after them.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    setupFiles: ['test/setup.ts'],
  },
});
