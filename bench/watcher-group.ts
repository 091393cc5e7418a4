// W watch streams spread over R reader processes (bench/coordinator-watchers.ts each, W/R streams apiece), as real
// watchers are spread over many client processes: one process reading 1000 streams measures that process's event
// loop more than the coordinator. Each reader reports, per epoch, when its first and its last stream held the
// complete event, in absolute times (performance.timeOrigin + performance.now(), comparable across processes on one
// machine); an epoch is complete once every reader reported it: first = the earliest, last = the latest.
import { fork, type ChildProcess } from 'node:child_process';

export interface EpochArrival {
  epoch: number;
  /** Absolute ms (performance.timeOrigin + performance.now()) when the first / the last of all W streams held it. */
  first: number;
  last: number;
}

export interface WatcherGroup {
  /** Resolves once every stream holds epoch >= `epoch` (the initial snapshot, or a later change). */
  until(epoch: number, timeoutMs: number): Promise<EpochArrival>;
  /** Arrivals of epochs > `after` complete so far (every reader reported them). */
  arrivalsAfter(after: number): EpochArrival[];
  close(): void;
  /** The reader processes' pids (CPU accounting). */
  pids: Array<number | undefined>;
}

export function watcherGroup(url: string, watchers: number, readers: number, track: (c: ChildProcess) => void, raw = false): WatcherGroup {
  const n = Math.max(1, Math.min(readers, watchers));
  const byEpoch = new Map<number, { reports: number; first: number; last: number }>();
  const complete = new Map<number, EpochArrival>();
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const count = Math.floor(watchers / n) + (i < watchers % n ? 1 : 0);
    const child = fork(new URL('./coordinator-watchers.ts', import.meta.url), { execArgv: ['--import', 'tsx'], env: { ...process.env, WATCH_URL: url, WATCH_COUNT: String(count), WATCH_RAW: raw ? '1' : '0' } });
    track(child);
    children.push(child);
    child.on('message', (m: { epoch: number; first: number; last: number }) => {
      let e = byEpoch.get(m.epoch);
      if (!e) byEpoch.set(m.epoch, (e = { reports: 0, first: m.first, last: m.last }));
      e.reports++;
      e.first = Math.min(e.first, m.first);
      e.last = Math.max(e.last, m.last);
      if (e.reports === n) {
        complete.set(m.epoch, { epoch: m.epoch, first: e.first, last: e.last });
        byEpoch.delete(m.epoch);
      }
    });
  }
  const arrivalsAfter = (after: number) => [...complete.values()].filter((a) => a.epoch > after).sort((a, b) => a.epoch - b.epoch);
  return {
    pids: children.map((c) => c.pid),
    arrivalsAfter,
    async until(epoch, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = arrivalsAfter(epoch - 1);
        if (got.length > 0) return got[0]!;
        if (children.some((c) => c.exitCode !== null)) throw new Error('a watcher process exited');
        if (Date.now() > deadline) throw new Error(`the watchers did not all reach epoch ${epoch} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    close() {
      for (const c of children) c.kill('SIGKILL');
    },
  };
}
