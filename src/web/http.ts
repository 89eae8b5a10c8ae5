/** JSON errors {error, message} and small request helpers shared by the routes. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isFacegateError } from '../util/errors.js';
import { ID_RE } from '../util/ids.js';

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const fail = (status: ContentfulStatusCode, code: string, message: string): never => {
  throw new HttpError(status, code, message);
};

/** HTTP status for a FacegateError thrown by a store or the engine. */
export function statusForCode(code: string): ContentfulStatusCode {
  if (/not[-_]found|no[-_]such/.test(code)) return 404;
  if (/duplicate|exists|conflict|taken/.test(code)) return 409;
  if (/too_large/.test(code)) return 413;
  if (code === 'bad_claim_code') return 403;
  if (code === 'bad_password') return 401;
  if (code === 'weak_password') return 422;
  if (code === 'password_set' || code === 'password_fixed') return 409;
  return 400;
}

export function errorResponse(c: Context, err: unknown): Response | null {
  if (err instanceof HttpError) {
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

