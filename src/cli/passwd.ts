/** `facegate passwd`: hashes an admin password read from stdin (for web.passwordHash); `--reset` for a forgotten one. */
import { hashPassword, MIN_PASSWORD_LENGTH } from '../store/auth.js';
import { FacegateError } from '../util/errors.js';
import type { Command } from './command.js';
import { configWithDataDir } from './context.js';
import { readStdin, resetAdmin } from './admin-access.js';

const usage = `Usage: printf '%s' 'my admin password' | facegate passwd [--json]
       facegate passwd --reset [--config <file>] [--data-dir <dir>] [--json]

Reads the admin password from standard input (never from the command line, where other users could see
it) and prints its scrypt hash. Put the hash in the config as web.passwordHash or in the environment as
FACEGATE_ADMIN_PASSWORD_HASH. Without either, set-up on the admin page asks for the claim code printed in
the service log.

--reset   forgot the password: forget it (and every session and API token) and print a new claim code.
          While the service runs, the running appliance does it (it takes effect at once: every browser
          is signed out, tokens stop working, the page asks for the new claim code); otherwise this
          command changes auth.json in the data directory itself. Run it as root or as the service user.`;

export const passwdCommand: Command = {
  name: 'passwd',
  summary: 'Hash an admin password for the config (reads stdin), or --reset a forgotten one',
  usage,
  options: { reset: { type: 'boolean' } },
  async run({ values }, io) {
    if (values.reset) {
      const config = configWithDataDir(values);
      const { claimCode, via } = await resetAdmin(config.dataDir, config.web.passwordHash || undefined);
      if (values.json) io.stdout(JSON.stringify({ reset: true, claimCode, via }));
      else {
        io.stdout(
          via === 'appliance'
            ? 'The running appliance forgot the admin password: every session is signed out and every API token stopped working.'
            : 'The admin password, its sessions and API tokens are forgotten.',
        );
        io.stdout(`Claim code: ${claimCode}`);
        io.stdout(
          via === 'appliance'
            ? 'Open the admin page and enter the claim code to choose a new password.'
            : 'Start the service (or let it start), open the admin page and enter the claim code to choose a new password.',
        );
      }
      return 0;
    }
    const password = await readStdin();
    if (password.length < MIN_PASSWORD_LENGTH) throw new FacegateError('usage', `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
    const hash = await hashPassword(password);
    io.stdout(values.json ? JSON.stringify({ passwordHash: hash }) : hash);
    return 0;
  },
};
