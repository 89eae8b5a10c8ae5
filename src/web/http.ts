/** JSON errors {error, message} (codes and statuses from src/errors/codes.ts) and small request helpers shared by the routes. */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { statusOf, type ErrorCode, type StatusOf } from '../errors/codes.js';
import { FacegateError, isFacegateError } from '../util/errors.js';
import { ID_RE } from '../util/ids.js';

/** An answer the route chooses itself; its status is one the code's table entry allows (src/errors/codes.ts). */
export class HttpError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly status: StatusOf<C>,
    readonly code: C,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const fail = <C extends ErrorCode>(status: StatusOf<C>, code: C, message: string): never => {
  throw new HttpError(status, code, message);
};

/** HTTP status for a FacegateError thrown by a store or the engine: the table's. */
export const statusForCode = (code: ErrorCode): ContentfulStatusCode => statusOf(code);

const isHttpError = (e: unknown): e is HttpError => e instanceof HttpError;

export function errorResponse(c: Context, err: unknown): Response | null {
  if (isHttpError(err)) {
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    return c.json({ error: err.code, message: err.message }, err.status);
  }
  if (isFacegateError(err)) return c.json({ error: err.code, message: err.message }, statusForCode(err.code));
  return null;
}

/** Parses a JSON object body or answers 400/415. */
export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) fail(415, 'unsupported_media_type', 'Send the body as application/json.');
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    fail(400, 'bad_json', 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail(400, 'bad_request', 'The request body must be a JSON object.');
  return body as Record<string, unknown>;
}

export function validId(id: string | undefined, what: string): string {
  if (!id || !ID_RE.test(id)) fail(400, 'bad_id', `That is not a valid ${what} id.`);
  return id!;
}

/** Per top-level field: the error code and sentence a route answers when that field is wrong (else bad_request). */
export type FieldErrors = Partial<Record<string, [ErrorCode, string]>>;

function refuse(error: z.ZodError, fields: FieldErrors, where: string): never {
  const issue = error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const coded = fields[field];
  if (coded) throw new FacegateError(coded[0], coded[1]);
  throw new FacegateError('bad_request', `${where}${issue.path.length ? ` ${issue.path.join('.')}` : ''}: ${issue.message}.`);
}

/** The JSON body parsed by `schema` (src/web/api-schemas.ts, the one the OpenAPI document shows), or 400/415. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, fields: FieldErrors = {}): Promise<z.output<S>> {
  const r = schema.safeParse(await jsonBody(c));
  return r.success ? r.data : refuse(r.error, fields, 'body');
}

/** The query string parsed by `schema` (numbers are coerced where the schema says so), or 400. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S, fields: FieldErrors = {}): z.output<S> {
  // An empty value (`?face=`) is no value.
  const r = schema.safeParse(Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== '')));
  return r.success ? r.data : refuse(r.error, fields, 'query');
}
