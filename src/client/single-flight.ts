/**
 * In-process single-flight: concurrent calls of `run(key, fn)` with the same key share one execution of `fn` and
 * all get its result (or its error). Once it settles the key is forgotten, so the next call runs `fn` again.
 * Why: N concurrent cache misses in one process must become one request to the cluster (and one loader call).
 */
export class SingleFlight<V> {
  private readonly inFlight = new Map<string, Promise<V>>();

  run(key: string, fn: () => Promise<V>): Promise<V> {
    const existing = this.inFlight.get(key);
    if (existing) return existing;
    let p: Promise<V>;
    try {
      p = fn();
    } catch (err) {
      p = Promise.reject(err);
    }
    const tracked = p.finally(() => {
      if (this.inFlight.get(key) === tracked) this.inFlight.delete(key);
    });
    this.inFlight.set(key, tracked);
    return tracked;
  }

  /** Number of keys with an execution in flight. */
  get size(): number {
    return this.inFlight.size;
  }
}
