/**
 * Time as an injected dependency: logic below `cli/` takes a Clock so tests can drive time by hand
 * (see src/testing/manual-clock.ts) instead of sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (for TTLs and timestamps shown to people). */
  now(): number;
  /** Monotonic milliseconds (for durations, deadlines and failure detection). */
  monotonic(): number;
  /** Calls `fn` once after `ms`. Listeners must not throw. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Calls `fn` every `ms` until cancelled. Listeners must not throw. */
  setInterval(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref?.();
    return { cancel: () => clearInterval(t) };
  },
};
