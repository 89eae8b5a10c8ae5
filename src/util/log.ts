/**
 * Structured JSON logs (pino). Secrets and embeddings are removed from every log object, at any depth,
 * before it is written: values under secret-looking keys, passwords inside URLs, and float vectors.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED = '[redacted]';

/** Keys (compared lower-case, without - and _) whose values are never logged. */
const SECRET_KEYS = new Set([
  'password',
  'passwd',
  'pass',
  'passwordhash',
  'secret',
  'clientsecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'apikey',
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'session',
  'sessionid',
  'csrf',
  'csrftoken',
  'privatekey',
  'embedding',
  'embeddings',
  'descriptor',
  'vector',
]);

/** Kept for compatibility: the top-level paths pino itself also redacts. */
export const REDACT_PATHS = ['password', 'passwordHash', 'token', 'authorization', 'cookie', 'embedding'];

const isSecretKey = (key: string) => SECRET_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));

/** `mqtt://user:pw@host` → `mqtt://user:[redacted]@host`; `?token=x` query values likewise. */
export function redactString(s: string): string {
  return s
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):[^@/\s]*@/gi, `$1:${REDACTED}@`)
    .replace(/([?&](?:token|access_token|password|key|secret)=)[^&\s#]*/gi, `$1${REDACTED}`);
}

/** A copy of `value` with secrets and embeddings replaced; Errors keep their shape for pino's serializer. */
export function redact(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value))
    return value instanceof Float32Array || value instanceof Float64Array
      ? `[redacted ${value.length} floats]`
      : `[${value.constructor.name} ${value.byteLength} bytes]`;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) {
    // A long run of non-integer numbers is an embedding (or similar): never logged.
    if (value.length >= 16 && value.every((v) => typeof v === 'number') && value.some((v) => !Number.isInteger(v))) return `[redacted ${value.length} floats]`;
    return value.map((v) => redact(v, seen));
  }
  if (value instanceof Error) {
    const e = new Error(redactString(value.message));
    e.name = value.name;
    e.stack = value.stack === undefined ? undefined : redactString(value.stack);
    for (const [k, v] of Object.entries(value)) (e as unknown as Record<string, unknown>)[k] = isSecretKey(k) ? REDACTED : redact(v, seen);
    return e;
  }
  if (value instanceof Map || value instanceof Set) return value;
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return redact(toJSON.call(value), seen); // Date, URL, ...

  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redact(v, seen);
  return out;
}

/** `level`: the config's log.level (FACEGATE_LOG_LEVEL is applied to it by src/config/load.ts). */
export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'facegate' },
      formatters: {
        log: (obj) => redact(obj) as Record<string, unknown>,
      },
      hooks: {
        // Messages and interpolated arguments (log.info('url %s', url)) are scrubbed too.
        logMethod(args, method) {
          method.apply(this, args.map((a) => redact(a)) as Parameters<typeof method>);
        },
      },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (destination ?? pino.destination(2)) as pino.DestinationStream,
  );
  // pino gives child bindings no formatter; children inherit this override through the prototype chain.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the child's own `this`
  const child = logger.child;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, options?: object) {
    return child.call(this, redact(bindings) as Record<string, unknown>, options);
  } as typeof logger.child;
  return logger;
}

/** A logger that drops everything (tests, one-shot CLI commands with --json). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
