/**
 * The base of every error Ringleader raises on purpose. `code` is stable (listed in docs/ERRORS.md and in
 * src/protocol/errors), `retryable` says whether the same request may succeed later without changes.
 */
export class RingleaderError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, options: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RingleaderError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

export function isRingleaderError(e: unknown): e is RingleaderError {
  return e instanceof RingleaderError;
}
