/** `facegate config check|print|schema`: validate a config file, show the effective config, list every option. */
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import type { Command } from './command.js';
import { FacegateError } from '../util/errors.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { maskConfig } from '../config/mask.js';
import { configJsonSchema, describeOptions, formatOptions, formatOptionsMarkdown } from '../config/describe.js';

const usage = `Usage:
  facegate config check <file> [--json]   Validate a config file: prints "ok" or every problem (exit 1)
  facegate config print [file] [--json]   The effective config (defaults, file, environment) with secrets masked
  facegate config schema [--json|--markdown]  Every option with type, default and description
                                          (--json: JSON Schema; --markdown: a table for the docs)

Environment overrides: FACEGATE_MQTT_URL, FACEGATE_MQTT_USERNAME, FACEGATE_MQTT_PASSWORD,
FACEGATE_ADMIN_PASSWORD_HASH, FACEGATE_DATA_DIR, FACEGATE_LOG_LEVEL.`;

export const configCommand: Command = {
  name: 'config',
  summary: 'Check a config file, print the effective config, or list every option',
  usage,
  options: { markdown: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const [sub, file, ...extra] = positionals;
    const json = Boolean(values.json);
    const path = file ?? (values.config as string | undefined);
    if (extra.length > 0) throw new FacegateError('usage', `unexpected arguments: ${extra.join(' ')}\n\n${usage}`);
    switch (sub) {
      case 'check': {
        if (!path) throw new FacegateError('usage', `config check needs a file\n\n${usage}`);
        try {
          loadConfig(path);
        } catch (e) {
          if (!(e instanceof FacegateError)) throw e;
          const problems = e instanceof ConfigError ? e.problems : e.message.split('\n');
          io.stdout(json ? JSON.stringify({ ok: false, file: path, problems }) : e.message);
          return 1;
        }
        io.stdout(json ? JSON.stringify({ ok: true, file: path }) : 'ok');
        return 0;
      }
      case 'print': {
        const config = loadConfig(path);
        if (values['data-dir']) config.dataDir = resolve(values['data-dir'] as string);
        const masked = maskConfig(config);
        io.stdout(json ? JSON.stringify(masked) : stringify(masked).trimEnd());
        return 0;
      }
      case 'schema':
        io.stdout(json ? JSON.stringify(configJsonSchema()) : values.markdown ? formatOptionsMarkdown(describeOptions()) : formatOptions(describeOptions()));
        return 0;
      default:
        throw new FacegateError('usage', `${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'}\n\n${usage}`);
    }
  },
};
