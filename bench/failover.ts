/**
 * Failover benchmark (issue 9): 4 node processes, replicas 2, a writer per partition (raw ioredis connections to the
 * partition's primary per the coordinator's table, retrying every few ms on any error, re-routed as soon as a new
 * table changes the primary). Over N trials it kills a node with kill -9 (then restarts it and waits until the table
 * is settled again), and over N more it stops one with SIGSTOP (then SIGCONT: it is refused as dead, re-joins empty,
 * and the table settles again). Per partition whose primary was on the failed node: the time from the signal to the
 * first successful write *started after the signal* on the new primary. For partitions with no copy on the failed
 * node: the longest gap between two successful writes during the trial (the write stall a healthy partition saw; the
 * writers' own cadence is subtracted). Also the time until the table no longer lists the node (detection + one epoch).
 *
 * The writers run twice over: one set shares one connection per node (as a client with one connection per node: RESP
 * answers in order, so a write held for one partition delays the replies behind it, whatever their partition), the
 * other has a connection per partition (what a partition's own traffic sees). The stall of healthy partitions is
 * reported for both; the JSON's `healthyStallMaxMs` is the own-connection one (the cluster's behaviour, not the
 * client's head-of-line blocking), `healthyStallSharedConnMaxMs` the other. Per trial the surviving primaries' in-sync
 * removals are read from INFO (`rl_isr_removal_ms_*`: request → table without the backup).
 *
 * The failover cluster runs in sync mode (the default: a write is acknowledged once its in-sync backup applied it).
 * Throughput: SET with replicas 2 in sync mode, replicas 2 in async mode and replicas 1 (three clusters side by side
 * in the same run, same closed-loop load of 64 callers, 3 alternating windows each): `syncR2OverR1` and
 * `asyncR2OverR1`.
 *
 * Before each failover the coordinator fences the candidate copies (RL.FENCE, one pipelined round per node) and
 * promotes the freshest; `--no-fencing` runs the coordinator with `--fence-timeout-ms 0` (promotion in target order
 * without asking), to measure what the fence round costs.
 *
 * `npm run bench -- failover [--trials N] [--partitions P] [--throughput-ms MS] [--rounds R] [--concurrency C] [--no-fencing] [--throughput-only]`. Prints a table, then one JSON line.
 */
import { Redis } from 'ioredis';
import { keySlot } from '../src/hashing/index.js';
import { partitionOfSlot, type PartitionTable } from '../src/partitioning/index.js';
import { CoordinatorClient, type TableWatch } from '../src/control/index.js';
import { flag } from './flags.js';
import { LocalCluster } from '../src/testing/local-cluster.js';


const TRIALS = flag('trials', 20);
const PARTITIONS = flag('partitions', 32);
const THROUGHPUT_MS = flag('throughput-ms', 2000);
const FENCING = !process.argv.slice(3).includes('--no-fencing');
/** `--throughput-only`: the three clusters' SET throughput, no fault trials (for profiling the write path). */
const THROUGHPUT_ONLY = process.argv.slice(3).includes('--throughput-only');
/** Alternating windows per replica count. */
const THROUGHPUT_ROUNDS = flag('rounds', 3);
const NODES = 4;
/** Pause of each writer between two successful writes (its cadence: subtracted from the gaps). */
const WRITE_EVERY_MS = 10;
/** Pause after a failed write before the retry. */
const RETRY_MS = 5;
/** A write that gets no answer for this long is abandoned and retried (a paused primary never answers). */
const COMMAND_TIMEOUT_MS = 1000;
/** A trial whose partitions have not all accepted a write after this long counts them at this value. */
const TRIAL_TIMEOUT_MS = 20_000;
const THROUGHPUT_CONCURRENCY = flag('concurrency', 64);
/** Steady stretch before each fault: the longest write gap in it is the baseline the stalls compare with. */
const STEADY_MS = 1000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)]!;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

/** One hash tag per partition: every key `{tag}:n` lands in that partition. */
function tagsFor(partitionCount: number): string[] {
  const tags: Array<string | undefined> = new Array(partitionCount);
  let found = 0;
  for (let i = 0; found < partitionCount; i++) {
    const tag = `fo${i}`;
    const p = partitionOfSlot(keySlot(tag), partitionCount);
    if (tags[p] === undefined) {
      tags[p] = tag;
      found++;
    }
  }
  return tags as string[];
}

/**
 * ioredis connections per node port (one per `lane`: lane 0 is shared by every caller, as a client with one
 * connection per node), reconnecting on their own; commands fail fast while one is down.
 */
class Pool {
  private readonly conns = new Map<string, Redis>();
  get(port: number, lane = 0): Redis {
    const k = `${port}/${lane}`;
    let r = this.conns.get(k);
    if (!r) {
      r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS, retryStrategy: () => 50, connectTimeout: 1000 });
      r.on('error', () => {});
      this.conns.set(k, r);
    }
    return r;
  }
  close(): void {
    for (const r of this.conns.values()) r.disconnect();
    this.conns.clear();
  }
}

/** Follows the coordinator's tables; tells each partition's writer when its primary changes. */
class Router {
  table: PartitionTable | null = null;
  private readonly watch: TableWatch;
  private readonly wakers = new Map<number, Set<() => void>>();
  constructor(url: string) {
    this.watch = new CoordinatorClient({ coordinators: [url] }).watch();
    this.watch.on('table', (t) => {
      const old = this.table;
      this.table = t;
      for (const [p, fns] of this.wakers) {
        if (old?.primaryOf(p) !== t.primaryOf(p)) for (const fn of fns) fn();
      }
    });
  }
  ready(): Promise<PartitionTable> {
    return this.watch.waitFor(0);
  }
  /** The primary of p: member id and RESP port, or null. */
  primary(p: number): { id: string; port: number } | null {
    const t = this.table;
    const id = t?.primaryOf(p);
    const m = id === undefined ? undefined : t!.member(id);
    if (!m) return null;
    return { id: m.id, port: Number(m.address.slice(m.address.lastIndexOf(':') + 1)) };
  }
  /** Resolves when p's primary changes (or never); `cancel` forgets it. */
  changed(p: number): { promise: Promise<'rerouted'>; cancel: () => void } {
    let set = this.wakers.get(p);
    if (!set) this.wakers.set(p, (set = new Set()));
    let fn!: () => void;
    const promise = new Promise<'rerouted'>((resolve) => (fn = () => resolve('rerouted')));
    set.add(fn);
    return { promise, cancel: () => set.delete(fn) };
  }
  close(): void {
    this.watch.close();
  }
}

interface WriteOk {
  startedAt: number;
  doneAt: number;
  member: string;
}

/**
 * A writer per partition: SET {tag}:w <seq> to the primary, forever, recording every success. `ownConnections`: each
 * partition's writer has its own connection to each node (a write held for one partition never delays another's
 * reply); otherwise every writer shares one connection per node, where RESP answers in order, so a held write delays
 * the replies of the writes pipelined behind it (head-of-line blocking).
 */
class Writers {
  readonly oks: WriteOk[][];
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  constructor(private readonly router: Router, private readonly pool: Pool, private readonly tags: string[], private readonly ownConnections: boolean) {
    this.oks = tags.map(() => []);
  }
  start(): void {
    for (let p = 0; p < this.tags.length; p++) this.loops.push(this.loop(p));
  }
  private async loop(p: number): Promise<void> {
    let seq = 0;
    while (!this.stopped) {
      const target = this.router.primary(p);
      if (target === null) {
        await sleep(RETRY_MS);
        continue;
      }
      const startedAt = performance.now();
      const change = this.router.changed(p);
      let ok = false;
      try {
        const res = await Promise.race([this.pool.get(target.port, this.ownConnections ? p + 1 : 0).set(`{${this.tags[p]}}:${this.ownConnections ? 'o' : 'w'}`, String(++seq)), change.promise]);
        ok = res === 'OK';
      } catch {
        ok = false;
      } finally {
        change.cancel();
      }
      if (ok) {
        this.oks[p]!.push({ startedAt, doneAt: performance.now(), member: target.id });
        await sleep(WRITE_EVERY_MS);
      } else await sleep(RETRY_MS);
    }
  }
  /** Drops the recorded successes (between trials). */
  reset(): void {
    for (const o of this.oks) o.length = 0;
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

/** Sums of the coordinator's fast-path counters (probes by result, fast deaths). */
async function fastPathCounters(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^ringleader_coordinator_(probes_total\{result="(\w+)"\}|fast_deaths_total) (\S+)$/.exec(line);
    if (m) out[m[2] ?? 'fastDeaths'] = Number(m[3]);
  }
  return out;
}

interface TrialResult {
  /** Per partition whose primary was on the failed node: signal → first write started after it that succeeded elsewhere. */
  recoveryMs: number[];
  /** Longest gap between successful writes of a partition with no copy on the failed node (minus the writer cadence). */
  healthyStallMs: number;
  /** Longest gap of any partition in the steady stretch before the fault (the baseline: the machine's own noise). */
  steadyStallMs: number;
  /** Same as healthyStallMs, for partitions whose primary survived but whose backup was on the failed node. */
  backupOnlyStallMs: number;
  /** healthyStallMs and backupOnlyStallMs seen by writers with a connection of their own (no head-of-line blocking). */
  healthyOwnStallMs: number;
  backupOnlyOwnStallMs: number;
  /** In-sync removals the surviving primaries asked for during the trial: request → table without the backup (ms, mean and the processes' max). */
  isrRemovals: number;
  isrRemovalMeanMs: number;
  isrRemovalMaxMs: number;
  /** Signal → the first table without the node. */
  detectMs: number;
  /** Declared dead by the fast path (watch closed + refused probe) rather than the heartbeat deadline. */
  fastPath: boolean;
  /** Probes made during the trial, by result. */
  probes: Record<string, number>;
  /** The coordinator's fence rounds during the trial (its `fenced failover candidates` log lines): ms each. */
  fenceMs: number[];
}

/** Coordinator log lines already counted (the process keeps its last few hundred lines). */
const seenLines = new Set<string>();

/** The `ms` of every new `fenced failover candidates` line of the coordinator's log. */
function newFenceRounds(cluster: LocalCluster): number[] {
  const out: number[] = [];
  for (const line of cluster.coordinator.lines) {
    if (!line.includes('fenced failover candidates') || seenLines.has(line)) continue;
    seenLines.add(line);
    try {
      out.push((JSON.parse(line) as { ms: number }).ms);
    } catch {
      // not a JSON line (a terminal format): not counted
    }
  }
  return out;
}

/** Sums of the nodes' rl_isr_removal* INFO fields (every running node but `except`). */
async function isrCounters(cluster: LocalCluster, except: string): Promise<{ n: number; sum: number; max: number }> {
  const out = { n: 0, sum: 0, max: 0 };
  await Promise.all(cluster.nodes.filter((n) => n.name !== except && n.proc.running).map(async (n) => {
    const r = new Redis({ port: n.port, host: '127.0.0.1', maxRetriesPerRequest: 0, connectTimeout: 2000, commandTimeout: 2000, lazyConnect: true });
    r.on('error', () => {});
    try {
      const info = await r.info('replication');
      const f = (k: string) => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      out.n += f('rl_isr_removals');
      out.sum += f('rl_isr_removal_ms_sum');
      out.max = Math.max(out.max, f('rl_isr_removal_ms_max'));
    } catch {
      // a node that does not answer (restarting): not counted
    } finally {
      r.disconnect();
    }
  }));
  return out;
}

async function trial(cluster: LocalCluster, router: Router, writers: Writers, own: Writers, victim: string, how: 'kill9' | 'sigstop'): Promise<TrialResult> {
  const node = cluster.node(victim);
  const t = router.table!;
  const primaries: number[] = [];
  const healthy: number[] = [];
  const backupOnly: number[] = [];
  for (let p = 0; p < t.partitionCount; p++) {
    const copies = t.copiesOf(p).map((c) => c.member);
    if (t.primaryOf(p) === node.id) primaries.push(p);
    else if (copies.includes(node.id)) backupOnly.push(p);
    else healthy.push(p);
  }
  writers.reset();
  own.reset();
  const countersBefore = await fastPathCounters(cluster.coordinatorUrl);
  const isrBefore = await isrCounters(cluster, victim);
  await sleep(STEADY_MS); // a steady stretch before the fault (its longest gap is the baseline)
  let detectedAt = NaN;
  const poll = setInterval(() => {
    if (Number.isNaN(detectedAt) && router.table && router.table.member(node.id) === undefined) detectedAt = performance.now();
  }, 2);
  const t0 = performance.now();
  if (how === 'kill9') await cluster.kill9(victim);
  else cluster.pause(victim);
  const firstOk = (p: number): number | undefined => writers.oks[p]!.find((w) => w.startedAt >= t0 && w.member !== node.id)?.doneAt;
  const deadline = t0 + TRIAL_TIMEOUT_MS;
  while (performance.now() < deadline && (Number.isNaN(detectedAt) || primaries.some((p) => firstOk(p) === undefined))) await sleep(5);
  clearInterval(poll);
  await sleep(200); // a little after the failover, for the healthy partitions' gaps
  const end = performance.now();
  const recoveryMs = primaries.map((p) => (firstOk(p) ?? deadline) - t0);
  /** Longest gap between successful writes of the partitions `ps` within [from, to], minus the writers' cadence. */
  let worstAt = '';
  const maxGap = (ps: readonly number[], from: number, to: number, set: Writers = writers): number => {
    let worst = 0;
    for (const p of ps) {
      let prev = from;
      for (const w of set.oks[p]!) {
        if (w.doneAt < prev) continue;
        if (w.doneAt > to) break;
        if (w.doneAt - prev > worst) worstAt = `p${p} ${r1(prev - t0)}..${r1(w.doneAt - t0)} ms, copies ${t.copiesOf(p).map((c) => `${c.member.slice(0, 4)}:${c.state}`).join(',')} -> ${router.table!.copiesOf(p).map((c) => `${c.member.slice(0, 4)}:${c.state}`).join(',')}`;
        worst = Math.max(worst, w.doneAt - prev);
        prev = w.doneAt;
      }
      if (to - prev > worst) worstAt = `p${p} ${r1(prev - t0)}..end`;
      worst = Math.max(worst, to - prev);
    }
    return Math.max(0, worst - WRITE_EVERY_MS);
  };
  const everyPartition = writers.oks.map((_, p) => p);
  const countersAfter = await fastPathCounters(cluster.coordinatorUrl);
  const probes: Record<string, number> = {};
  for (const k of ['refused', 'open', 'timeout', 'error']) if ((countersAfter[k] ?? 0) > (countersBefore[k] ?? 0)) probes[k] = (countersAfter[k] ?? 0) - (countersBefore[k] ?? 0);
  const fastPath = (countersAfter['fastDeaths'] ?? 0) > (countersBefore['fastDeaths'] ?? 0);
  if (process.env.RL_BENCH_DEBUG) {
    maxGap(healthy, t0, end, own);
    console.error(`  healthy (own connection) worst gap: ${worstAt}; detected at ${r1(detectedAt - t0)} ms`);
  }
  const isrAfter = await isrCounters(cluster, victim);
  const removals = isrAfter.n - isrBefore.n;
  const result = {
    recoveryMs, healthyStallMs: maxGap(healthy, t0, end), backupOnlyStallMs: maxGap(backupOnly, t0, end),
    healthyOwnStallMs: maxGap(healthy, t0, end, own), backupOnlyOwnStallMs: maxGap(backupOnly, t0, end, own),
    steadyStallMs: maxGap(everyPartition, t0 - STEADY_MS + 50, t0), detectMs: detectedAt - t0, fastPath, probes, fenceMs: newFenceRounds(cluster),
    isrRemovals: removals, isrRemovalMeanMs: removals > 0 ? (isrAfter.sum - isrBefore.sum) / removals : NaN, isrRemovalMaxMs: isrAfter.max,
  };
  // Restore: a restarted (new incarnation) or resumed (refused as dead, re-joins empty) node; wait until settled.
  if (how === 'kill9') await cluster.restartNode(victim);
  else cluster.resume(victim);
  await cluster.waitStable(120_000);
  newFenceRounds(cluster); // rounds of the restore (a re-joined node's stale copies) are not the fault's
  return result;
}

/** SET throughput with THROUGHPUT_CONCURRENCY closed loops over every partition, routed by the table. */
async function throughput(router: Router, pool: Pool, tags: string[]): Promise<number> {
  const value = 'v'.repeat(100);
  let n = 0;
  let errors = 0;
  const end = performance.now() + THROUGHPUT_MS;
  const loop = async (w: number) => {
    let i = w;
    while (performance.now() < end) {
      const p = i % tags.length;
      const target = router.primary(p);
      i += THROUGHPUT_CONCURRENCY;
      if (target === null) continue;
      try {
        await pool.get(target.port).set(`{${tags[p]}}:${i % 10_000}`, value);
        n++;
      } catch {
        errors++;
      }
    }
  };
  // Warm-up (connections ready, JIT), then the measured window.
  for (let p = 0; p < tags.length; p++) {
    for (let tries = 0; ; tries++) {
      const ok = await pool.get(router.primary(p)!.port).set(`{${tags[p]}}:warm`, value).then(() => true, () => false);
      if (ok) break;
      if (tries > 400) throw new Error(`partition ${p}: no write succeeded during the warm-up`);
      await sleep(25);
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: THROUGHPUT_CONCURRENCY }, (_, w) => loop(w)));
  const ops = n / ((performance.now() - t0) / 1000);
  if (errors > 0) console.error(`throughput: ${errors} errors`);
  return ops;
}

export default async function run(): Promise<void> {
  const tags = tagsFor(PARTITIONS);
  console.error(`failover bench: ${NODES} nodes, ${PARTITIONS} partitions, ${TRIALS} trials each of kill -9 and SIGSTOP, fencing ${FENCING ? 'on' : 'off'}`);
  const cluster = await LocalCluster.start({ nodes: NODES, partitions: PARTITIONS, replicas: 2, coordinatorArgs: FENCING ? [] : ['--fence-timeout-ms', '0'] });
  const router = new Router(cluster.coordinatorUrl);
  const pool = new Pool();
  const results: Record<'kill9' | 'sigstop', TrialResult[]> = { kill9: [], sigstop: [] };
  const r1runs: number[] = [];
  const r2runs: number[] = [];
  const r2asyncRuns: number[] = [];
  try {
    await router.ready();
    {
      // Replicas 1 vs 2 on two clusters side by side, measured in alternating windows (the machine's load drifts).
      const single = await LocalCluster.start({ nodes: NODES, partitions: PARTITIONS, replicas: 1 });
      const asyncCluster = await LocalCluster.start({ nodes: NODES, partitions: PARTITIONS, replicas: 2, coordinatorArgs: ['--replication', 'async'] });
      const singleRouter = new Router(single.coordinatorUrl);
      const asyncRouter = new Router(asyncCluster.coordinatorUrl);
      const singlePool = new Pool();
      const asyncPool = new Pool();
      try {
        await Promise.all([singleRouter.ready(), asyncRouter.ready(), cluster.waitStable(60_000), asyncCluster.waitStable(60_000)]);
        // Round 0 warms up every cluster (connections, JIT: the first window ran 2-4x slower) and is not counted.
        for (let round = 0; round <= THROUGHPUT_ROUNDS; round++) {
          const r1 = await throughput(singleRouter, singlePool, tags);
          const r2 = await throughput(router, pool, tags);
          const r2a = await throughput(asyncRouter, asyncPool, tags);
          if (round === 0) continue;
          r1runs.push(r1);
          r2runs.push(r2);
          r2asyncRuns.push(r2a);
        }
      } finally {
        singleRouter.close();
        asyncRouter.close();
        singlePool.close();
        asyncPool.close();
        await Promise.all([single.close(), asyncCluster.close()]);
      }
      console.error(`throughput replicas 1: ${r1runs.map(Math.round).join(', ')} ops/s; replicas 2 sync: ${r2runs.map(Math.round).join(', ')} ops/s; replicas 2 async: ${r2asyncRuns.map(Math.round).join(', ')} ops/s`);
    }
    const writers = new Writers(router, pool, tags, false);
    const own = new Writers(router, pool, tags, true);
    writers.start();
    own.start();
    for (const how of ['kill9', 'sigstop'] as const) {
      for (let i = 0; i < (THROUGHPUT_ONLY ? 0 : TRIALS); i++) {
        const victim = `node-${(i % NODES) + 1}`;
        const r = await trial(cluster, router, writers, own, victim, how);
        results[how].push(r);
        console.error(`${how} #${i + 1} ${victim}: detect ${r1(r.detectMs)} ms, recovery max ${r1(Math.max(...r.recoveryMs))} ms over ${r.recoveryMs.length} partitions, healthy stall ${r1(r.healthyStallMs)} ms shared / ${r1(r.healthyOwnStallMs)} ms own connection, backup-only ${r1(r.backupOnlyStallMs)} / ${r1(r.backupOnlyOwnStallMs)} ms (steady before: ${r1(r.steadyStallMs)} ms), in-sync removals ${r.isrRemovals} (mean ${r1(r.isrRemovalMeanMs)} ms), ${r.fastPath ? 'fast path' : 'heartbeat deadline'}, probes ${JSON.stringify(r.probes)}`);
      }
    }
    await Promise.all([writers.stop(), own.stop()]);
  } finally {
    router.close();
    pool.close();
    await cluster.close();
  }

  const r1ops = r1runs.reduce((a, b) => a + b, 0) / r1runs.length;
  const r2ops = r2runs.reduce((a, b) => a + b, 0) / r2runs.length;
  const r2asyncOps = r2asyncRuns.reduce((a, b) => a + b, 0) / r2asyncRuns.length;
  const all = (how: 'kill9' | 'sigstop', f: (r: TrialResult) => number | number[]) => results[how].flatMap((r) => f(r));
  const rows = (['kill9', 'sigstop'] as const).map((how) => {
    const rec = all(how, (r) => r.recoveryMs);
    const det = all(how, (r) => r.detectMs);
    const fence = all(how, (r) => r.fenceMs);
    return {
      fault: how,
      fencing: FENCING ? 'on' : 'off',
      trials: results[how].length,
      partitions: rec.length,
      'recovery p50 ms': r1(pct(rec, 0.5)),
      'recovery p99 ms': r1(pct(rec, 0.99)),
      'recovery max ms': r1(Math.max(...rec)),
      'detect p50 ms': r1(pct(det, 0.5)),
      'detect p99 ms': r1(pct(det, 0.99)),
      'fence rounds': fence.length,
      'fence round p50 ms': r1(pct(fence, 0.5)),
      'fence round max ms': r1(fence.length === 0 ? NaN : Math.max(...fence)),
      'fast-path deaths': results[how].filter((r) => r.fastPath).length,
      'healthy stall max ms (shared conn)': r1(Math.max(...all(how, (r) => r.healthyStallMs))),
      'healthy stall max ms (own conn)': r1(Math.max(...all(how, (r) => r.healthyOwnStallMs))),
      'backup-only stall max ms (shared conn)': r1(Math.max(...all(how, (r) => r.backupOnlyStallMs))),
      'backup-only stall max ms (own conn)': r1(Math.max(...all(how, (r) => r.backupOnlyOwnStallMs))),
      'steady stall max ms': r1(Math.max(...all(how, (r) => r.steadyStallMs))),
      // Per-trial medians: one slow moment of the machine sets a max; the medians compare the fault with the noise.
      'healthy stall p50 ms (own conn)': r1(pct(all(how, (r) => r.healthyOwnStallMs), 0.5)),
      'backup-only stall p50 ms (own conn)': r1(pct(all(how, (r) => r.backupOnlyOwnStallMs), 0.5)),
      'steady stall p50 ms': r1(pct(all(how, (r) => r.steadyStallMs), 0.5)),
      'in-sync removals': all(how, (r) => r.isrRemovals).reduce((a, b) => a + b, 0),
      'removal p50 ms': r1(pct(all(how, (r) => r.isrRemovalMeanMs).filter((x) => !Number.isNaN(x)), 0.5)),
      'removal max ms': r1(Math.max(...all(how, (r) => r.isrRemovalMaxMs))),
    };
  });
  // --throughput-only runs no trial: no fault table of NaNs.
  const measured = rows.filter((row) => row.trials > 0);
  if (measured.length > 0) console.table(measured);
  console.table([{ 'SET ops/s replicas 1': Math.round(r1ops), 'replicas 2 sync': Math.round(r2ops), 'replicas 2 async': Math.round(r2asyncOps), 'sync R2/R1': Math.round((r2ops / r1ops) * 100) / 100, 'async R2/R1': Math.round((r2asyncOps / r1ops) * 100) / 100 }]);
  const k = all('kill9', (r) => r.recoveryMs);
  const s = all('sigstop', (r) => r.recoveryMs);
  console.log(JSON.stringify({
    bench: 'failover',
    trials: TRIALS,
    kill9P50Ms: r1(pct(k, 0.5)),
    kill9P99Ms: r1(pct(k, 0.99)),
    sigstopP50Ms: r1(pct(s, 0.5)),
    sigstopP99Ms: r1(pct(s, 0.99)),
    healthyStallMaxMs: r1(Math.max(...all('kill9', (r) => r.healthyOwnStallMs), ...all('sigstop', (r) => r.healthyOwnStallMs))),
    healthyStallSharedConnMaxMs: r1(Math.max(...all('kill9', (r) => r.healthyStallMs), ...all('sigstop', (r) => r.healthyStallMs))),
    backupOnlyStallMaxMs: r1(Math.max(...all('kill9', (r) => r.backupOnlyOwnStallMs), ...all('sigstop', (r) => r.backupOnlyOwnStallMs))),
    fenceRoundP50Ms: r1(pct(all('kill9', (r) => r.fenceMs), 0.5)),
    fenceRoundP99Ms: r1(pct(all('kill9', (r) => r.fenceMs), 0.99)),
    syncR2OverR1: Math.round((r2ops / r1ops) * 100) / 100,
    asyncR2OverR1: Math.round((r2asyncOps / r1ops) * 100) / 100,
  }));
}
