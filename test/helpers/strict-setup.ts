/**
 * vitest global setup: in strict mode (CI=true or FACEGATE_STRICT=1) the run stops before any test when a
 * prerequisite is missing, naming every Debian package to install. Outside strict mode it lists what will be skipped.
 */
import { PREREQS, howToInstall, isStrict, locate } from './prereqs.mjs';

export default function setup(): void {
  const missing = PREREQS.filter((p) => !locate(p.id));
  if (missing.length === 0) return;
  const lines = missing.map((p) => `  - ${howToInstall(p.id)}`).join('\n');
  if (isStrict()) throw new Error(`[facegate tests] strict mode (CI=true or FACEGATE_STRICT=1): missing prerequisites fail the run:\n${lines}`);
  console.warn(`[facegate tests] missing prerequisites; the suites that need them are SKIPPED (set FACEGATE_STRICT=1 to fail instead):\n${lines}`);
}
