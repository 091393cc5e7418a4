/**
 * Rebalance benchmark (issue 8): 1,000,000 keys × 100 bytes on 3 nodes (replicas 2, 271 partitions, real processes),
 * then a 4th node joins, then one node leaves (SIGTERM), under a paced load of about half the measured capacity.
 * Per change: time until the table is settled (no learner or handing-off copy left) and applied by every node, MB/s
 * transferred (from node metrics when they expose synced bytes, otherwise estimated from the table diff × the keys of
 * each moved partition: the table says which), copies moved vs the optimum, client ops/s and p99 steady vs during the
 * change, the longest gap between successful writes to one partition during the change minus the load's nominal
 * per-partition write interval (the longest write pause a client saw), errors, and keys missing afterwards (a sample).
 *
 * `npm run bench -- rebalance [--keys N] [--value-bytes B] [--partitions P] [--rate OPS]` (--rate: a fixed load
 * instead of half the measured capacity). Prints a table, then one JSON line
 * per change: the join, then (last) the leave, each with the fields of issue 8 and a `phase`.
 */
import { keySlot } from '../src/hashing/index.js';
import { partitionOfSlot } from '../src/partitioning/index.js';
import { Ringleader } from '../src/client/index.js';
import { flag } from './flags.js';
import { LocalCluster, type TableView } from '../src/testing/local-cluster.js';


const KEYS = flag('keys', 1_000_000);
const VALUE_BYTES = flag('value-bytes', 100);
const PARTITIONS = flag('partitions', 271);
/** Load in ops/s; 0 (default) = half the capacity measured just before (on a shared machine that can be too much). */
const RATE = process.argv.includes('--rate') ? flag('rate', 1) : 0;
const REPLICAS = 2;
const WRITE_FRACTION = 0.5;
const STEADY_MS = 3000;

interface WindowStats {
  ms: number;
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** Longest gap between successful writes to one partition within the window. */
  maxWriteGapMs: number;
  /** Longest time a single successful write took (it met a pause: retried, or held, until served). */
  maxWriteMs: number;
  /** Where that gap was: the partition and the wall-clock times (ms) of its ends (to match with node logs). */
  maxWriteGapAt: { partition: number; fromMs: number; toMs: number } | null;
  behind: number;
}

function pct(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/**
 * An open-loop load at `rate` ops/s: every 5 ms it issues the ops that are due (bounded in flight). Writes sweep the
 * partitions round-robin, so each partition gets a write every partitions / (rate × writeFraction) seconds.
 */
class PacedLoad {
  private timer: NodeJS.Timeout | null = null;
  private issued = 0;
  private startedAt = 0;
  private inFlight = 0;
  private writeSeq = 0;
  private lat: number[] = [];
  private errors = 0;
  private behind = 0;
  private windowStart = 0;
  private readonly lastWrite: Float64Array;
  private maxGap = 0;
  private maxWrite = 0;
  private maxGapAt: WindowStats['maxWriteGapAt'] = null;
  readonly errorSamples = new Map<string, number>();

  constructor(private readonly client: Ringleader, private readonly byPartition: string[][], private readonly allKeys: string[], readonly rate: number) {
    this.lastWrite = new Float64Array(byPartition.length);
  }

  start(): void {
    this.startedAt = performance.now();
    this.windowStart = this.startedAt;
    this.timer = setInterval(() => this.tick(), 5);
  }

  private tick(): void {
    const due = Math.floor(((performance.now() - this.startedAt) / 1000) * this.rate) - this.issued;
    for (let i = 0; i < due; i++) {
      this.issued++;
      if (this.inFlight >= 4000) {
        this.behind++;
        continue;
      }
      this.op();
    }
  }

  private op(): void {
    const t0 = performance.now();
    this.inFlight++;
    const write = Math.random() < WRITE_FRACTION;
    let p = -1;
    let promise: Promise<unknown>;
    if (write) {
      do p = this.writeSeq++ % this.byPartition.length;
      while (this.byPartition[p]!.length === 0);
      const keys = this.byPartition[p]!;
      promise = this.client.set(keys[Math.floor(Math.random() * keys.length)]!, 'w'.repeat(VALUE_BYTES));
    } else {
      promise = this.client.get(this.allKeys[Math.floor(Math.random() * this.allKeys.length)]!);
    }
    promise.then(
      () => {
        const t1 = performance.now();
        this.lat.push(t1 - t0);
        if (p >= 0) {
          if (t1 - t0 > this.maxWrite) this.maxWrite = t1 - t0;
          const last = this.lastWrite[p]!;
          if (last > 0) this.noteGap(p, Math.max(last, this.windowStart), t1);
          this.lastWrite[p] = t1;
        }
        this.inFlight--;
      },
      (err: Error & { code?: string }) => {
        this.errors++;
        const k = `${err.code ?? ''} ${err.message.slice(0, 60)}`;
        this.errorSamples.set(k, (this.errorSamples.get(k) ?? 0) + 1);
        this.inFlight--;
      },
    );
  }

  private noteGap(p: number, from: number, to: number): void {
    if (to - from <= this.maxGap) return;
    this.maxGap = to - from;
    this.maxGapAt = { partition: p, fromMs: performance.timeOrigin + from, toMs: performance.timeOrigin + to };
  }

  /** Stats since the previous call (or start), and a new window. */
  window(): WindowStats {
    const now = performance.now();
    // Partitions with no successful write since their last one count up to now (a pause still in progress).
    for (let p = 0; p < this.lastWrite.length; p++) {
      const last = this.lastWrite[p]!;
      if (last > 0) this.noteGap(p, Math.max(last, this.windowStart), now);
    }
    const sorted = Float64Array.from(this.lat).sort();
    const ms = now - this.windowStart;
    const s: WindowStats = { ms, ops: sorted.length, opsPerSec: (sorted.length / ms) * 1000, p50Ms: pct(sorted, 0.5), p99Ms: pct(sorted, 0.99), errors: this.errors, maxWriteGapMs: this.maxGap, maxWriteMs: this.maxWrite, maxWriteGapAt: this.maxGapAt, behind: this.behind };
    this.lat = [];
    this.errors = 0;
    this.behind = 0;
    this.maxGap = 0;
    this.maxWrite = 0;
    this.maxGapAt = null;
    this.windowStart = now;
    return s;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
  }
}

/** Closed loop with 64 callers for `ms`: the cluster's capacity for this mix, in ops/s (client process included). */
async function capacity(client: Ringleader, keys: string[], ms: number): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (performance.now() < end) {
      const k = keys[Math.floor(Math.random() * keys.length)]!;
      await (Math.random() < WRITE_FRACTION ? client.set(k, 'c'.repeat(VALUE_BYTES)) : client.get(k)).catch(() => {});
      n++;
    }
  }));
  return (n / ms) * 1000;
}

/** Synced bytes per node from /metrics, when the nodes expose such a counter (else null). */
async function syncedBytes(cluster: LocalCluster): Promise<Map<string, number> | null> {
  const out = new Map<string, number>();
  let found = false;
  for (const n of cluster.running) {
    const text = await cluster.metrics(n.name).catch(() => '');
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^ringleader_node_\w*(?:sync|replicat|transfer|migrat)\w*bytes\w*(?:\{[^}]*\})?\s+([\d.e+]+)$/.exec(line);
      if (m && !/_out|_sent/.test(line)) {
        sum += Number(m[1]);
        found = true;
      }
    }
    out.set(n.name, sum);
  }
  return found ? out : null;
}

/** Copies (partition, member) in `after`'s serving sets that `before` did not have: data transfers. */
function movedCopies(before: TableView, after: TableView): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (let p = 0; p < after.partitionCount; p++) {
    const had = new Set(before.servingOf(p));
    for (const m of after.servingOf(p)) if (!had.has(m)) out.push([p, m]);
  }
  return out;
}

interface ChangeResult {
  phase: 'join' | 'leave';
  seconds: number;
  /** Seconds until the coordinator published the settled table (before every node confirmed applying it). */
  settledSeconds: number;
  mb: number;
  mbSource: 'metrics' | 'estimate';
  moved: number;
  optimal: number;
  during: WindowStats;
  missing: number;
  /** Longest time a node kept a partition unserved during a hand-over (node metric, max over nodes, since start). */
  nodePauseMs: number | null;
}

/** Max over running nodes of ringleader_node_longest_handover_pause_ms, or null without the metric. */
async function nodePauseMs(cluster: LocalCluster): Promise<number | null> {
  let max: number | null = null;
  for (const n of cluster.running) {
    const text = await cluster.metrics(n.name).catch(() => '');
    const m = /^ringleader_node_longest_handover_pause_ms\s+([\d.e+]+)$/m.exec(text);
    if (m) max = Math.max(max ?? 0, Number(m[1]));
  }
  return max;
}

export default async function run(): Promise<void> {
  // Failure detection is not what this bench measures: on this 2-core machine the load generator, the coordinator
  // and the nodes share the CPU, and a node starved past the default 1.5 s deadline would be declared dead (its
  // copies dropped) in the middle of the run. Generous deadlines keep the run about the planned change.
  const cluster = await LocalCluster.start({ nodes: 3, replicas: REPLICAS, partitions: PARTITIONS, metrics: true, nodeLogLevel: process.env.RL_BENCH_NODE_LOG ?? 'warn', suspectAfterMs: 10_000, deadAfterMs: 20_000 });
  const client = await Ringleader.connect({ coordinators: [cluster.coordinatorUrl], connectTimeoutMs: 20_000, commandTimeoutMs: 5000 });
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `rb:${i}`);
    const byPartition: string[][] = Array.from({ length: PARTITIONS }, () => []);
    const bySlot = new Map<number, string[]>();
    for (const k of keys) {
      const slot = keySlot(k);
      byPartition[partitionOfSlot(slot, PARTITIONS)]!.push(k);
      let l = bySlot.get(slot);
      if (l === undefined) bySlot.set(slot, (l = []));
      l.push(k);
    }
    const keyBytes = keys.reduce((a, k) => a + k.length, 0) / keys.length;
    // Load: one MSET per slot (chunks of 100 keys), 64 in flight.
    const t0 = performance.now();
    const value = 'v'.repeat(VALUE_BYTES);
    const chunks: string[][] = [];
    for (const l of bySlot.values()) for (let i = 0; i < l.length; i += 100) chunks.push(l.slice(i, i + 100));
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < chunks.length) await client.mset(chunks[next++]!.map((k) => [k, value] as const));
    }));
    const loadSec = (performance.now() - t0) / 1000;
    console.error(`loaded ${KEYS} keys × ${VALUE_BYTES} B in ${loadSec.toFixed(1)} s`);

    const cap = await capacity(client, keys, 2000);
    const rate = RATE > 0 ? RATE : Math.max(100, Math.round(cap / 2));
    const nominalGapMs = (PARTITIONS / (rate * WRITE_FRACTION)) * 1000;
    console.error(`capacity ≈ ${cap.toFixed(0)} ops/s; load at ${rate} ops/s (a write per partition every ${nominalGapMs.toFixed(1)} ms)`);
    const load = new PacedLoad(client, byPartition, keys, rate);
    load.start();
    await new Promise((r) => setTimeout(r, 500));
    load.window();
    await new Promise((r) => setTimeout(r, STEADY_MS));
    const steady = load.window();

    // `prepare` runs before the clock starts (starting the node process costs seconds of CPU that is not the
    // rebalance); `act` is the change itself.
    const change = async (phase: 'join' | 'leave', prepare: () => Promise<unknown>, act: () => Promise<unknown>, optimalOf: (before: TableView) => number, leaving?: string): Promise<ChangeResult> => {
      const before = await cluster.table();
      const bytesBefore = await syncedBytes(cluster);
      await prepare();
      load.window();
      const started = performance.now();
      // The first settled table with the expected members, as /v1/table shows it (polled every 20 ms): the end of
      // the data movement. waitStable then also waits until every node reports applying it, which nodes tell the
      // coordinator in their heartbeats (every 500 ms), so `seconds` includes up to one heartbeat interval more.
      let settledAt = 0;
      let watching = true;
      const watcher = (async () => {
        // Expected: every running node active except the leaving one, which must hold no copy any more.
        while (watching && settledAt === 0) {
          const t = await cluster.table().catch(() => null);
          const ids = new Set(cluster.running.map((n) => n.id).filter((id) => id !== leaving));
          const active = t?.json.members.filter((m) => m.state === 'active') ?? [];
          const holdsNothing = leaving === undefined || t === null || t.partitionsHeldBy(leaving).length === 0;
          if (t !== null && t.settled() && holdsNothing && active.length === ids.size && active.every((m) => ids.has(m.id))) settledAt = performance.now();
          else await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await act();
      const after = await cluster.waitStable(600_000);
      const seconds = (performance.now() - started) / 1000;
      watching = false;
      await watcher;
      const settledSeconds = ((settledAt === 0 ? performance.now() : settledAt) - started) / 1000;
      const during = load.window();
      const moved = movedCopies(before, after);
      const bytesAfter = await syncedBytes(cluster);
      let mb: number;
      let mbSource: 'metrics' | 'estimate';
      if (bytesBefore !== null && bytesAfter !== null) {
        let d = 0;
        for (const [name, b] of bytesAfter) d += b - (bytesBefore.get(name) ?? 0);
        mb = d / 1e6;
        mbSource = 'metrics';
      } else {
        mb = moved.reduce((a, [p]) => a + byPartition[p]!.length * (keyBytes + VALUE_BYTES), 0) / 1e6;
        mbSource = 'estimate';
      }
      // Keys missing afterwards: a sample of 20,000 (none was ever deleted).
      const sample = Array.from({ length: Math.min(20_000, KEYS) }, () => keys[Math.floor(Math.random() * keys.length)]!);
      const vals = await client.mget(sample).catch(() => sample.map(() => null));
      const missing = vals.filter((v) => v === null).length;
      return { phase, seconds, settledSeconds, mb, mbSource, moved: moved.length, optimal: optimalOf(before), during, missing, nodePauseMs: await nodePauseMs(cluster) };
    };

    // The join: the clock starts when node-4 listens (it has joined the coordinator by then) and stops when the table
    // is settled and applied everywhere.
    const join = await change('join', () => cluster.addNode('node-4', [], false), async () => {}, () => (PARTITIONS * REPLICAS) / 4);
    await new Promise((r) => setTimeout(r, 1000));
    load.window();
    const leavingId = cluster.node('node-1').id;
    const leave = await change('leave', async () => {}, () => cluster.stopNode('node-1', 600_000), (before) => before.partitionsHeldBy(leavingId).length, leavingId);
    await load.stop();

    const rows = [
      ['phase', 'seconds', 'settled s', 'MB moved', 'MB/s', 'MB/s to settled', 'MB source', 'copies moved', 'optimal', 'ratio', 'ops/s', 'p50 ms', 'p99 ms', 'max write ms', 'max write gap ms', 'pause ms', 'node pause ms', 'errors', 'behind', 'missing (sample 20k)'],
      ['steady', (steady.ms / 1000).toFixed(1), '', '', '', '', '', '', '', '', steady.opsPerSec.toFixed(0), steady.p50Ms.toFixed(2), steady.p99Ms.toFixed(2), steady.maxWriteMs.toFixed(1), steady.maxWriteGapMs.toFixed(1), '', '', String(steady.errors), String(steady.behind), ''],
      ...[join, leave].map((r) => [r.phase, r.seconds.toFixed(2), r.settledSeconds.toFixed(2), r.mb.toFixed(1), (r.mb / r.seconds).toFixed(1), (r.mb / r.settledSeconds).toFixed(1), r.mbSource, String(r.moved), r.optimal.toFixed(1), (r.moved / r.optimal).toFixed(3), r.during.opsPerSec.toFixed(0), r.during.p50Ms.toFixed(2), r.during.p99Ms.toFixed(2), r.during.maxWriteMs.toFixed(1), r.during.maxWriteGapMs.toFixed(1), Math.max(0, r.during.maxWriteGapMs - nominalGapMs).toFixed(1), r.nodePauseMs === null ? '-' : String(r.nodePauseMs), String(r.during.errors), String(r.during.behind), String(r.missing)]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));
    console.log(`keys ${KEYS} × ${VALUE_BYTES} B, ${PARTITIONS} partitions, replicas ${REPLICAS}; load ${rate} ops/s (capacity ≈ ${cap.toFixed(0)}), ${WRITE_FRACTION * 100}% writes; pause = max write gap − nominal per-partition interval ${nominalGapMs.toFixed(1)} ms`);
    for (const r of [join, leave]) {
      const at = r.during.maxWriteGapAt;
      if (at !== null) console.log(`${r.phase}: longest write gap on partition ${at.partition}, ${new Date(at.fromMs).toISOString()} → ${new Date(at.toMs).toISOString()}`);
    }
    if (load.errorSamples.size > 0) console.log(`errors: ${[...load.errorSamples].map(([k, n]) => `${n}× ${k}`).join('; ')}`);
    const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
    for (const r of [join, leave]) {
      console.log(JSON.stringify({
        bench: 'rebalance', keys: KEYS, valueBytes: VALUE_BYTES, seconds: round(r.seconds), mbPerSec: round(r.mb / r.seconds), copiesMovedOverOptimal: round(r.moved / r.optimal, 3),
        clientP99SteadyMs: round(steady.p99Ms), clientP99DuringMs: round(r.during.p99Ms), longestHandoverPauseMs: round(Math.max(0, r.during.maxWriteGapMs - nominalGapMs), 1), errors: r.during.errors, phase: r.phase, nodeHandoverPauseMs: r.nodePauseMs,
        settledSeconds: round(r.settledSeconds), mbPerSecToSettled: round(r.mb / r.settledSeconds), clientMaxWriteMs: round(r.during.maxWriteMs, 1), rate,
      }));
    }
  } finally {
    client.close();
    await cluster.close();
  }
}
