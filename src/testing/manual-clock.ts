import type { Clock, TimerHandle } from '../shared/clock.js';

interface Timer {
  at: number;
  every: number | null;
  fn: () => void;
  seq: number;
  live: boolean;
}

/** A Clock that moves only when a test calls advance(): timers fire in time order, ties in creation order. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      if (due.every === null) due.live = false;
      else due.at += due.every;
      due.fn();
    }
    this.t = end;
    this.timers = this.timers.filter((x) => x.live);
  }

  private add(fn: () => void, ms: number, every: number | null): TimerHandle {
    const timer: Timer = { at: this.t + Math.max(0, ms), every, fn, seq: this.seq++, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }
}
