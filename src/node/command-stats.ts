/**
 * Per-command call counts and latency, kept as plain bucket counters on the command path (a few comparisons per
 * command, no allocation; the server reads the clock once per run of one command in a read) and turned into a
 * Prometheus histogram only at scrape time.
 */

/** Upper bounds (seconds) of the latency buckets; +Inf is implicit. */
export const COMMAND_LATENCY_BUCKETS: readonly number[] = Object.freeze([0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1]);
const BOUNDS_MS = COMMAND_LATENCY_BUCKETS.map((s) => s * 1000);

export interface CommandLatency {
  /** Per bucket (not cumulative), then one more for +Inf. */
  readonly counts: Float64Array;
  count: number;
  /** Seconds. */
  sum: number;
}

export class CommandStats {
  private readonly byName = new Map<string, CommandLatency>();

  /** Records `calls` calls of `name` that took `ms` milliseconds each. */
  record(name: string, ms: number, calls = 1): void {
    let e = this.byName.get(name);
    if (e === undefined) {
      e = { counts: new Float64Array(BOUNDS_MS.length + 1), count: 0, sum: 0 };
      this.byName.set(name, e);
    }
    let i = 0;
    while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]!) i++;
    e.counts[i]! += calls;
    e.count += calls;
    e.sum += (ms * calls) / 1000;
  }

  entries(): IterableIterator<[string, CommandLatency]> {
    return this.byName.entries();
  }
}
