/** The registry of subcommands, in the order `facegate --help` lists them. */
import type { Command } from './command.js';
import { detectCommand } from './detect.js';
import { embedCommand } from './embed.js';
import { compareCommand } from './compare.js';
import { evalCommand } from './eval.js';
import { modelsCommand } from './models.js';
import { configCommand } from './config.js';
import { backupCommand, restoreCommand } from './backup.js';
import { installServiceCommand } from './install-service.js';
import { runCommand } from './run.js';
import { scanCommand } from './scan.js';
import { enrollCommand } from './enroll.js';
import { peopleCommand } from './people.js';
import { passwdCommand } from './passwd.js';
import { statusCommand } from './status.js';

export const commands: Command[] = [
  runCommand,
  statusCommand,
  scanCommand,
  enrollCommand,
  peopleCommand,
  modelsCommand,
  detectCommand,
  embedCommand,
  compareCommand,
  evalCommand,
  configCommand,
  backupCommand,
  restoreCommand,
  installServiceCommand,
  passwdCommand,
];
