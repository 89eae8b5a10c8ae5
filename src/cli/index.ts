/** The registry of subcommands, in the order `facegate --help` lists them. */
import type { Command } from './command.js';

export const commands: Command[] = [];
