/** `facegate passwd`: prints the scrypt hash of an admin password read from stdin (for web.passwordHash). */
import { hashPassword, MIN_PASSWORD_LENGTH } from '../store/auth.js';
import { FacegateError } from '../util/errors.js';
import type { Command } from './command.js';

const usage = `Usage: printf '%s' 'my admin password' | facegate passwd [--json]

Reads the admin password from standard input (never from the command line, where other users could see
it) and prints its scrypt hash. Put the hash in the config as web.passwordHash or in the environment as
FACEGATE_ADMIN_PASSWORD_HASH. Without either, the first visitor of the admin page sets the password.`;

export const passwdCommand: Command = {
  name: 'passwd',
  summary: 'Hash an admin password for the config (reads stdin)',
  usage,
  options: {},
  async run({ values }, io) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (password.length < MIN_PASSWORD_LENGTH) throw new FacegateError('usage', `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
    const hash = await hashPassword(password);
    io.stdout(values.json ? JSON.stringify({ passwordHash: hash }) : hash);
    return 0;
  },
};
