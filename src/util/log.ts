/** Structured JSON logs (pino). Secrets and embeddings are redacted wherever they appear in a log object. */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'passwordHash',
  '*.passwordHash',
  '*.*.passwordHash',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'embedding',
  '*.embedding',
  '*.*.embedding',
];

export function createLogger(level: string = process.env.FACEGATE_LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'facegate' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    (destination ?? pino.destination(2)) as pino.DestinationStream,
  );
}

/** A logger that drops everything (tests, one-shot CLI commands with --json). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
