import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isStrict, howToInstall, locate, testDataRoot } from './prereqs.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export { testDataRoot };

export const hasTestData = locate('data') !== null;

if (!hasTestData) {
  // Strict mode (CI=true or FACEGATE_STRICT=1): the test file fails. Otherwise said once per test file that
  // imports this, so a skipped suite is never silent.
  const why = howToInstall('data');
  if (isStrict()) throw new Error(`[facegate tests] ${why}. Strict mode (CI=true or FACEGATE_STRICT=1) fails instead of skipping.`);
  console.warn(`[facegate tests] SKIPPED: tests that need the shared face data: ${why}.`);
}

export const dataPath = (...parts: string[]) => path.join(testDataRoot, ...parts);
export { repoRoot };
