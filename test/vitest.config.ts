import { defineConfig } from 'vitest/config';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default defineConfig({
  root,
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: files run two at a time; model-heavy suites are long, so the per-test limit is generous.
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    // Strict mode (CI=true or FACEGATE_STRICT=1): a missing prerequisite fails the run before any test.
    globalSetup: ['test/helpers/strict-setup.ts'],
  },
});
