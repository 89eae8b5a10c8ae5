#!/usr/bin/env node
/** The `facegate` command: dispatches to src/cli/<name>.ts. Errors are one clear line and a non-zero exit. */
import { parseArgs } from 'node:util';
import type { Command, CommandIO } from './cli/command.js';
import { holdEarlySignals, takeEarlySignal } from './cli/early-signals.js';

// Before any other module loads (zod, yaml and the commands take most of a second on a small board), so a signal
// meanwhile is held, not an abrupt exit 143: only Node's own start-up comes before this line. Hence the other
// modules are imported below, not at the top (a static import is loaded before this module runs).
holdEarlySignals();
// `ps` shows "facegate run" (and from here on, a signal is held, not fatal).
process.title = ['facegate', process.argv[2]].filter(Boolean).join(' ');
const [{ commands }, { commonOptions }, { isFacegateError }, { envSettings }] = await Promise.all([
  import('./cli/index.js'),
  import('./cli/command.js'),
  import('./util/errors.js'),
  import('./config/load.js'),
]);

const io: CommandIO = {
  stdout: (line) => process.stdout.write(line + '\n'),
  stderr: (line) => process.stderr.write(line + '\n'),
};

function topUsage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: facegate <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `facegate <command> --help` for a command's options. Every command accepts --json.",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topUsage());
    return name ? 0 : 2;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (command?.name !== 'run') {
    // Only `run` handles signals itself; for the rest, one that came while loading ends the process as usual.
    const early = takeEarlySignal();
    if (early) process.kill(process.pid, early);
  }
  if (!command) {
    io.stderr(`facegate: unknown command "${name}"\n\n${topUsage()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...commonOptions, ...command.options }, allowPositionals: command.allowPositionals ?? false, strict: true });
  } catch (e) {
    io.stderr(`facegate ${name}: ${(e as Error).message}\n\n${command.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    return await command.run(parsed as { values: Record<string, unknown>; positionals: string[] }, io);
  } catch (e) {
    const message = isFacegateError(e) ? e.message : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
    if (parsed.values.json) io.stdout(JSON.stringify({ error: isFacegateError(e) ? e.code : 'internal', message }));
    io.stderr(`facegate ${name}: ${message}`);
    if (!isFacegateError(e) && envSettings().debug) io.stderr(String((e as Error)?.stack));
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`facegate: ${(e as Error)?.message ?? e}\n`);
    process.exitCode = 1;
  },
);
