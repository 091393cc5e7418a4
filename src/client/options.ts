import { systemClock, type Clock } from '../shared/clock.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { LocalStore } from './local-store.js';

/** Options of the smart client (`Ringleader.connect`). Each knob carries its unit; defaults live in DEFAULT_CLIENT_OPTIONS only. */
export interface ClientOptions {
  /** Coordinator base URLs (`http://127.0.0.1:8081`) or `host:port`. At least one. */
  coordinators: readonly string[];
  /** Sent with AUTH on every node connection when set. */
  password: string | undefined;
  /** Bearer token presented to the coordinators (their --token-file / RINGLEADER_TOKEN) when set. */
  coordinatorToken: string | undefined;
  /** Time budget of one attempt of one command (connect + send + reply). Commands never hang: after it, COMMAND_TIMEOUT. */
  commandTimeoutMs: number;
  /** Attempts per command across redirects (MOVED/ASK), TRYAGAIN/CLUSTERDOWN and connection failures. 1 = no retry. */
  maxAttempts: number;
  /**
   * Retries of one command stop once this long has passed since it was issued (whichever of this and maxAttempts
   * comes first). Sized to ride through a partition hand-over or a failover (tables in flux for a second or two)
   * instead of spending every attempt in a few hundred ms.
   */
  retryBudgetMs: number;
  /** Backoff between retries that need one (TRYAGAIN, CLUSTERDOWN, closed connection): doubles from min to max, ±50% jitter. */
  retryBackoffMinMs: number;
  retryBackoffMaxMs: number;
  /**
   * Backoff after a TRYAGAIN (a partition changing hands: the new primary serves within tens of milliseconds): starts
   * here and grows ×1.5 per TRYAGAIN of the same command, up to retryBackoffMaxMs, ±50% jitter.
   */
  retryTryAgainMinMs: number;
  /** How long connect() waits for the first table from the coordinators before failing with NO_TABLE. */
  connectTimeoutMs: number;
  /** TCP connections per node; commands are pipelined on each, so 1 is usually enough. */
  connectionsPerNode: number;
  /** getOrLoad: lease of the cluster-wide load lock (a crashed loader blocks others for at most this long). */
  loadLeaseMs: number;
  /** getOrLoad: first and largest poll interval of a caller waiting for another process's load (doubles in between). */
  loadPollMinMs: number;
  loadPollMaxMs: number;
  clock: Clock;
  /** Randomness in [0, 1) for backoff and TTL jitter. */
  random: () => number;
  logger: Logger;
  /**
   * Where reads (GET, MGET, EXISTS, PTTL... see commands.ts) go. `primary`: the key's primary, always current.
   * `any`: spread at random over the partition's primary and backups (connections send READONLY); a backup whose
   * copy is not complete answers MOVED and the read goes to the primary. A backup may lag its primary in async
   * replication (a read there can miss a write acknowledged just before); writes always go to the primary.
   */
  readFrom: 'primary' | 'any';
  /** Embedded mode: a node in this process that answers for the partitions it owns without a network hop. */
  localStore: LocalStore | undefined;
}

export const DEFAULT_CLIENT_OPTIONS: Readonly<Omit<ClientOptions, 'coordinators' | 'clock' | 'random' | 'logger' | 'password' | 'coordinatorToken' | 'localStore'>> = Object.freeze({
  commandTimeoutMs: 2000,
  maxAttempts: 30,
  retryBudgetMs: 5000,
  retryBackoffMinMs: 10,
  retryBackoffMaxMs: 500,
  retryTryAgainMinMs: 2,
  connectTimeoutMs: 5000,
  connectionsPerNode: 1,
  readFrom: 'primary',
  loadLeaseMs: 10_000,
  loadPollMinMs: 5,
  loadPollMaxMs: 100,
});

export type ClientInput = Partial<ClientOptions> & Pick<ClientOptions, 'coordinators'>;

/** Merges defaults and validates; throws TypeError naming the bad option. */
export function resolveClientOptions(input: ClientInput): ClientOptions {
  const o: ClientOptions = {
    ...DEFAULT_CLIENT_OPTIONS,
    password: undefined,
    coordinatorToken: undefined,
    localStore: undefined,
    clock: systemClock,
    random: Math.random,
    logger: silentLogger(),
    ...input,
  };
  if (!Array.isArray(o.coordinators) || o.coordinators.length === 0) throw new TypeError('coordinators must be a non-empty array of URLs');
  for (const k of ['commandTimeoutMs', 'retryBudgetMs', 'retryBackoffMinMs', 'retryBackoffMaxMs', 'retryTryAgainMinMs', 'connectTimeoutMs', 'loadLeaseMs', 'loadPollMinMs', 'loadPollMaxMs'] as const) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || o[k] <= 0) throw new TypeError(`${k} must be a positive number of milliseconds, got ${String(o[k])}`);
  }
  for (const k of ['maxAttempts', 'connectionsPerNode'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new TypeError(`${k} must be an integer >= 1, got ${String(o[k])}`);
  }
  if (o.retryBackoffMaxMs < o.retryBackoffMinMs) throw new TypeError(`retryBackoffMaxMs (${o.retryBackoffMaxMs}) must be >= retryBackoffMinMs (${o.retryBackoffMinMs})`);
  if (o.retryBackoffMaxMs < o.retryTryAgainMinMs) throw new TypeError(`retryBackoffMaxMs (${o.retryBackoffMaxMs}) must be >= retryTryAgainMinMs (${o.retryTryAgainMinMs})`);
  if (o.loadPollMaxMs < o.loadPollMinMs) throw new TypeError(`loadPollMaxMs (${o.loadPollMaxMs}) must be >= loadPollMinMs (${o.loadPollMinMs})`);
  if (o.readFrom !== 'primary' && o.readFrom !== 'any') throw new TypeError(`readFrom must be 'primary' or 'any', got ${String(o.readFrom)}`);
  if (o.password !== undefined && typeof o.password !== 'string') throw new TypeError('password must be a string');
  if (o.coordinatorToken !== undefined && typeof o.coordinatorToken !== 'string') throw new TypeError('coordinatorToken must be a string');
  return o;
}

/** Backoff after the n-th TRYAGAIN (0-based) of one command: retryTryAgainMinMs × 1.5^n up to retryBackoffMaxMs, ±50% jitter. */
export function tryAgainBackoffMs(o: Pick<ClientOptions, 'retryTryAgainMinMs' | 'retryBackoffMaxMs' | 'random'>, n: number): number {
  const base = Math.min(o.retryBackoffMaxMs, o.retryTryAgainMinMs * 1.5 ** Math.min(n, 60));
  return Math.max(1, Math.round(base * (0.5 + o.random())));
}

/** Exponential backoff with ±50% jitter for retry n (0-based). */
export function retryBackoffMs(o: Pick<ClientOptions, 'retryBackoffMinMs' | 'retryBackoffMaxMs' | 'random'>, retry: number): number {
  const base = Math.min(o.retryBackoffMaxMs, o.retryBackoffMinMs * 2 ** Math.min(retry, 30));
  return Math.round(base * (0.5 + o.random()));
}
