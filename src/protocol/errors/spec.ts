import { RingleaderError } from '../../shared/errors.js';

/** One entry of the error catalog. Codes are never reused or renamed; add new ones at the end of an area file. */
export interface ErrorSpec {
  /** Stable machine-readable code, SCREAMING_SNAKE, unique across the catalog. */
  readonly code: string;
  /** Whether the same request may succeed later without change (after a table refresh, a backoff...). */
  readonly retryable: boolean;
  /** HTTP status on the control plane (coordinator API). */
  readonly http: number;
  /** RESP error prefix on the data plane (`ERR`, `MOVED`, `CLUSTERDOWN`...). */
  readonly resp: string;
  /** One sentence: when it happens and what to do. Shown in docs/ERRORS.md. */
  readonly description: string;
}

export function defineErrors<const T extends Record<string, Omit<ErrorSpec, 'code'>>>(specs: T): { readonly [K in keyof T]: ErrorSpec & { code: K } } {
  const out: Record<string, ErrorSpec> = {};
  for (const [code, spec] of Object.entries(specs)) out[code] = Object.freeze({ code, ...spec });
  return Object.freeze(out) as { readonly [K in keyof T]: ErrorSpec & { code: K } };
}

/** Builds the RingleaderError for a catalog entry. */
export function errorFrom(spec: ErrorSpec, message: string, details?: Record<string, unknown>, cause?: unknown): RingleaderError {
  return new RingleaderError(spec.code, message, { retryable: spec.retryable, details, cause });
}
