/** Where the tests find the generated models; a clear failure when `facegate models` has not been run. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/data.js';
import { engineSchema, type EngineConfig } from '../../src/config/schema.js';

export const enginesDir = process.env.FACEGATE_ENGINES_DIR ?? path.join(repoRoot, 'engines');

export function requireEngines(): string {
  if (!existsSync(path.join(enginesDir, 'manifest.json'))) {
    throw new Error(`${enginesDir}/manifest.json not found: run npm run setup (builds the models with \`facegate models\`)`);
  }
  return enginesDir;
}

export const testEngineConfig = (over: Record<string, unknown> = {}): EngineConfig => engineSchema.parse({ enginesDir, threads: 1, ...over });
