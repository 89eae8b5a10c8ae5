import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Root of the shared face data: FACEGATE_TEST_DATA, else ../shared/data beside the checkout. */
export const testDataRoot = process.env.FACEGATE_TEST_DATA ?? path.resolve(repoRoot, '../shared/data');

export const hasTestData = existsSync(path.join(testDataRoot, 'README.md'));

if (!hasTestData) {
  // Said once per test file that imports this, so a skipped suite is never silent.
  console.warn(
    `[facegate tests] shared face data not found at ${testDataRoot}: tests that need it are SKIPPED. ` +
      'Set FACEGATE_TEST_DATA to the folder that holds lfw/, detection/, identity/, video/, models/.',
  );
}

export const dataPath = (...parts: string[]) => path.join(testDataRoot, ...parts);
export { repoRoot };
