/**
 * The shape every `facegate <subcommand>` module exports. Each command parses its own options with
 * node:util parseArgs, supports --help, and with --json prints exactly one JSON object as its last stdout line.
 */
import type { ParseArgsConfig } from 'node:util';

export interface CommandIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export interface Command {
  name: string;
  summary: string;
  /** Usage text printed by --help (and on a usage error). */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Whether positionals are accepted. */
  allowPositionals?: boolean;
  /** Returns the process exit code. Throw FacegateError for user-facing failures. */
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CommandIO): Promise<number>;
}

/** Options every command has. */
export const commonOptions = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string' },
} as const;
