import { defineConfig } from 'vitest/config';

// Long-running suites (experiments, examples, browser, long memory runs): `npm run test:slow`.
export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts'],
    testTimeout: 600_000,
    passWithNoTests: true,
  },
});
