import type { Redirect } from './redirect.js';

/** Why an attempt failed, as the retry policy sees it. */
export type AttemptFailure =
  | { readonly kind: 'redirect'; readonly redirect: Redirect }
  /** The connection failed; `sent` says whether the command may have reached the node. */
  | { readonly kind: 'connection'; readonly sent: boolean }
  /** No reply within commandTimeoutMs; `sent` says whether the command went to the socket. */
  | { readonly kind: 'timeout'; readonly sent: boolean }
  | { readonly kind: 'no-owner' };

export interface RetryDecision {
  readonly retry: boolean;
  /**
   * Wait before the next attempt: `none` = at once; `tryagain` = the short, slowly growing backoff of a partition
   * changing hands (retryTryAgainMinMs × 1.5 per TRYAGAIN); `backoff` = the general exponential backoff.
   */
  readonly delay: 'none' | 'tryagain' | 'backoff';
  /** Fetch a fresh table before the next attempt (at most one refresh runs at a time). */
  readonly refresh: boolean;
  /** Send the next attempt to this address (MOVED/ASK target) instead of the table's primary. */
  readonly address: string | null;
  /** The next attempt must be preceded by ASKING. */
  readonly asking: boolean;
  /**
   * The command may have been applied and must not be sent again: the caller gets OUTCOME_UNKNOWN (set only with
   * retry = false).
   */
  readonly outcomeUnknown: boolean;
}

/**
 * The client's retry policy, pure: given the failed attempt number (0-based) and why it failed, decide what to do.
 * Contract: never more than maxAttempts attempts (the caller also stops once retryBudgetMs has passed); a refusal
 * (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, NOREPLICAS, a connection that failed before sending) means the command did not
 * run and it is retried whatever it is; a command that may have reached the node (connection lost or timeout after
 * sending) is retried only when `resendable` (a read), and otherwise ends with `outcomeUnknown`: never a silent resend,
 * never a definite failure.
 */
export function decideRetry(attempt: number, maxAttempts: number, failure: AttemptFailure, resendable: boolean, previous: AttemptFailure | null = null): RetryDecision {
  const stop: RetryDecision = { retry: false, delay: 'none', refresh: false, address: null, asking: false, outcomeUnknown: false };
  const last = attempt + 1 >= maxAttempts;
  switch (failure.kind) {
    case 'redirect': {
      const r = failure.redirect;
      // A MOVED goes to the new address at once (also after TRYAGAINs: the old primary answers MOVED once its successor
      // serves). A second MOVED in a row means the nodes disagree about the owner (a hand-over whose table has not
      // reached every node yet): back off instead of bouncing between them.
      if (r.kind === 'moved') {
        const bounced = previous !== null && previous.kind === 'redirect' && previous.redirect.kind === 'moved';
        return { ...stop, retry: !last, refresh: true, address: r.address, delay: bounced ? 'backoff' : 'none' };
      }
      if (r.kind === 'ask') return { ...stop, retry: !last, address: r.address, asking: true };
      // TRYAGAIN is short (a hand-over in progress: tens of milliseconds) and needs no new table: retry soon, a little
      // later each time; when it persists (a node whose lease lapsed answers TRYAGAIN until it hears from the
      // coordinator, which may have promoted another copy) refresh as well, and the wait grows to the general backoff.
      if (r.kind === 'tryagain') return { ...stop, retry: !last, delay: 'tryagain', refresh: attempt >= 2 };
      if (r.kind === 'noreplicas') return { ...stop, retry: !last, delay: 'backoff', refresh: attempt >= 2 };
      return { ...stop, retry: !last, delay: 'backoff', refresh: true };
    }
    case 'connection':
    case 'timeout':
      if (failure.sent && !resendable) return { ...stop, refresh: true, outcomeUnknown: true };
      return { ...stop, retry: !last, delay: 'backoff', refresh: true };
    case 'no-owner':
      return { ...stop, retry: !last, delay: 'backoff', refresh: true };
  }
}
