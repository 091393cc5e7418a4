import { systemClock, type Clock } from '../shared/clock.js';
import { silentLogger, type Logger } from '../shared/logger.js';

/** Options of CoordinatorClient (and the watches and member sessions it creates). */
export interface CoordinatorClientOptions {
  /** Coordinator base URLs (`http://127.0.0.1:8081`) or `host:port`; tried in order, the last one that answered first. At least one. */
  coordinators: readonly string[];
  /** Per-request time budget (one HTTP call to one coordinator). Short: a heartbeat that waits longer is useless anyway. */
  requestTimeoutMs: number;
  /** Attempts per call across coordinators for retryable failures (network error, timeout, 5xx). 1 = no retry. */
  maxAttempts: number;
  /** Backoff between attempts and between watch reconnects: doubles from min to max, with ±50% jitter. */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** A watch stream silent for this long is considered dead and reconnected (the coordinator sends a keep-alive every 15 s). 0 = never. */
  watchIdleTimeoutMs: number;
  clock: Clock;
  /** Randomness for backoff jitter, in [0, 1). */
  random: () => number;
  /** The fetch implementation (global fetch by default; tests may wrap it to inject faults). */
  fetch: typeof fetch;
  logger: Logger;
  /** Bearer token presented to the coordinators (`Authorization: Bearer …`) on every request and watch; null = none. */
  token: string | null;
}

export const DEFAULT_COORDINATOR_CLIENT_OPTIONS: Readonly<Omit<CoordinatorClientOptions, 'coordinators' | 'clock' | 'random' | 'fetch' | 'logger'>> = Object.freeze({
  token: null,
  requestTimeoutMs: 2000,
  maxAttempts: 3,
  backoffMinMs: 50,
  backoffMaxMs: 2000,
  watchIdleTimeoutMs: 45_000,
});

export type CoordinatorClientInput = Partial<CoordinatorClientOptions> & Pick<CoordinatorClientOptions, 'coordinators'>;

/** Merges defaults and validates; throws TypeError naming the bad option. */
export function resolveCoordinatorClientOptions(input: CoordinatorClientInput): CoordinatorClientOptions {
  const o: CoordinatorClientOptions = {
    ...DEFAULT_COORDINATOR_CLIENT_OPTIONS,
    clock: systemClock,
    random: Math.random,
    fetch: globalThis.fetch.bind(globalThis),
    logger: silentLogger(),
    ...input,
  };
  if (!Array.isArray(o.coordinators) || o.coordinators.length === 0) throw new TypeError('coordinators must be a non-empty array of URLs');
  o.coordinators = o.coordinators.map((c) => normalizeBaseUrl(c));
  for (const k of ['requestTimeoutMs', 'backoffMinMs', 'backoffMaxMs'] as const) {
    if (!Number.isFinite(o[k]) || o[k] <= 0) throw new TypeError(`${k} must be a positive number, got ${o[k]}`);
  }
  if (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 1) throw new TypeError(`maxAttempts must be an integer >= 1, got ${o.maxAttempts}`);
  if (o.backoffMaxMs < o.backoffMinMs) throw new TypeError(`backoffMaxMs (${o.backoffMaxMs}) must be >= backoffMinMs (${o.backoffMinMs})`);
  if (!Number.isFinite(o.watchIdleTimeoutMs) || o.watchIdleTimeoutMs < 0) throw new TypeError(`watchIdleTimeoutMs must be >= 0, got ${o.watchIdleTimeoutMs}`);
  if (o.token !== null && (typeof o.token !== 'string' || !/^[\x21-\x7e]{1,4096}$/.test(o.token))) throw new TypeError('token must be 1..4096 printable ASCII characters without spaces');
  return o;
}

/** `host:port` or `http://host:port/` -> `http://host:port` (no trailing slash). Throws TypeError on anything else. */
export function normalizeBaseUrl(input: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(input) ? input : `http://${input}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`coordinators: not a URL or host:port: ${JSON.stringify(input)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`coordinators: only http(s) URLs, got ${JSON.stringify(input)}`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** Exponential backoff with ±50% jitter for attempt n (0-based). */
export function backoffMs(o: Pick<CoordinatorClientOptions, 'backoffMinMs' | 'backoffMaxMs' | 'random'>, attempt: number): number {
  const base = Math.min(o.backoffMaxMs, o.backoffMinMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + o.random()));
}

/** Request headers for the coordinator API: accept, content type for bodies, and the bearer token when configured. */
export function requestHeaders(o: Pick<CoordinatorClientOptions, 'token'>, accept: string, withBody = false): Record<string, string> {
  const h: Record<string, string> = { accept };
  if (withBody) h['content-type'] = 'application/json';
  if (o.token !== null) h['authorization'] = `Bearer ${o.token}`;
  return h;
}
