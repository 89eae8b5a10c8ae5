/** Errors a user can act on: they carry a stable code (from the one table, src/errors/codes.ts) and a sentence, never a stack dump. */
import type { ErrorCode } from '../errors/codes.js';

export type { ErrorCode } from '../errors/codes.js';

export class FacegateError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FacegateError';
  }
}

export const isFacegateError = (e: unknown): e is FacegateError => e instanceof FacegateError;
