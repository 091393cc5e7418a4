import type { Clock } from '../shared/clock.js';

/**
 * A member's lease (contract C5): the member may serve its partitions (reads included) until the monotonic *send*
 * time of the last heartbeat the coordinator answered + the `leaseMs` carried in that answer.
 *
 * Why the send time: the coordinator declares a member dead `deadAfterMs` after it *received* its last heartbeat,
 * which is later than the send time, and `leaseMs < deadAfterMs`; so the lease of a member that goes silent (paused,
 * cut off) ends before the coordinator can promote another copy. A reply delayed in the network, or read after a
 * pause, extends nothing it should not: it counts from when its request left.
 *
 * Pure bookkeeping over an injected clock; MemberSession feeds it, the node's ownership guard asks `valid()`.
 */
export class Lease {
  private untilMs = Number.NEGATIVE_INFINITY;
  /** Grants for heartbeats sent before this (monotonic) are ignored: a revocation is not undone by an old answer. */
  private revokedAtMs = Number.NEGATIVE_INFINITY;
  private grants = 0;

  constructor(private readonly clock: Clock) {}

  /**
   * Records an answered heartbeat sent at `sentAtMs` (monotonic) that grants `leaseMs`. Never shortens the lease (a
   * slower answer to an older heartbeat cannot take back what a newer one granted); `leaseMs` 0 grants nothing.
   */
  grant(sentAtMs: number, leaseMs: number): void {
    if (!(leaseMs > 0) || sentAtMs < this.revokedAtMs) return;
    const until = sentAtMs + leaseMs;
    if (until > this.untilMs) this.untilMs = until;
    this.grants++;
  }

  /** Ends the lease now (the coordinator said this member is dead, unknown, or of another cluster). */
  revoke(): void {
    this.untilMs = Number.NEGATIVE_INFINITY;
    this.revokedAtMs = this.clock.monotonic();
  }

  /** True while the lease runs. Reads the clock: call it when the answer is about to be sent. */
  valid(): boolean {
    return this.clock.monotonic() < this.untilMs;
  }

  /** Monotonic time the lease ends (-Infinity before the first grant and after a revocation). */
  get until(): number {
    return this.untilMs;
  }

  /** Milliseconds left (0 when lapsed). */
  remainingMs(): number {
    return Math.max(0, this.untilMs - this.clock.monotonic());
  }

  /** Heartbeat answers that granted a lease so far (for INFO and tests). */
  get grantCount(): number {
    return this.grants;
  }
}
