import { RingleaderError } from '../shared/errors.js';
import { allErrors, COORDINATOR_ERRORS, errorFrom } from '../protocol/errors/index.js';

/**
 * Turns a control-API error body ({error:{code,message}}) into a RingleaderError, taking `retryable` from the
 * catalog (never from the message). An unknown code (a newer coordinator) is retryable only for 5xx statuses.
 */
export function errorFromBody(status: number, body: unknown): RingleaderError {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof e?.code === 'string' ? e.code : status >= 500 ? COORDINATOR_ERRORS.COORDINATOR_UNAVAILABLE.code : 'HTTP_' + status;
  const message = typeof e?.message === 'string' ? e.message : `coordinator answered HTTP ${status}`;
  const spec = allErrors().find((s) => s.code === code);
  return new RingleaderError(code, message, { retryable: spec ? spec.retryable : status >= 500, details: { status } });
}

export function unavailable(message: string, cause?: unknown): RingleaderError {
  return errorFrom(COORDINATOR_ERRORS.COORDINATOR_UNAVAILABLE, message, undefined, cause);
}
