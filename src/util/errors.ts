/** Errors a user can act on: they carry a stable code and a sentence, never a stack dump. */
export class FacegateError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FacegateError';
  }
}

export const isFacegateError = (e: unknown): e is FacegateError => e instanceof FacegateError;
