/**
 * The fault harness (`npm run chaos`, test/chaos.test.ts): a LocalCluster (real coordinator and node processes on
 * loopback) under a seeded schedule of faults while a unique-value workload runs through both clients (ioredis Cluster
 * and the Ringleader client), every op recorded in a History. At the end it waits for a stable table, reads every key
 * through both clients and checks the whole history.
 *
 * Faults (one at a time; the cluster is back to a stable table before the next one):
 * - `kill9`: kill -9 a node, wait until the coordinator drops it from the table (its dead deadline passed), keep it
 *   down a little longer, restart it (same name and port: a new, empty incarnation).
 * - `sigstop`: SIGSTOP a node, keep it stopped until the table drops it (longer than the dead deadline) and a little
 *   longer, then SIGCONT: the old process wakes up believing it still holds its partitions.
 * - `restart`: kill -9 and restart a node at once (faster than the dead deadline when the machine allows; the report
 *   says how long it took).
 * - `coordinator`: kill -9 the coordinator and start it again on the same port and data dir.
 *
 * Deterministic given the seed: the order and targets of the faults, how long each is held beyond its condition, the
 * quiet time between faults and the workload's key/op choices. Timing is real, so how many faults fit in the time
 * budget and the interleaving of ops with faults vary from run to run.
 *
 * It measures and reports; it does not decide what the system should guarantee. `guaranteeFindings()` lists what the
 * system guarantees that the run broke (in sync mode: no acknowledged write lost, no stale read).
 */
import { writeFileSync } from 'node:fs';
import { Cluster } from 'ioredis';
import { Ringleader } from '../client/index.js';
import { keySlot } from '../hashing/index.js';
import { partitionOfSlot } from '../partitioning/index.js';
import { History, formatCheck, type CheckResult, type Op, type Violation } from './history.js';
import { CoordinatorClient } from '../control/index.js';
import { LocalCluster, TableView, waitFor, type TableJsonAny } from './local-cluster.js';
import { Workload, ioredisAdapter, ioredisClusterFor, preload, readAll, ringleaderAdapter, seededRandom, type KvAdapter } from './workload.js';

export const FAULT_KINDS = ['kill9', 'sigstop', 'restart', 'coordinator', 'cut'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  seed: number;
  /** Faults are injected while less than this much time has passed since the workload started. */
  durationMs: number;
  /** Upper bound on injected faults (0 = only the time budget bounds them). */
  maxFaults: number;
  /** Upper bound on workload ops (the workload stops early when reached; bounds memory and run time). */
  maxOps: number;
  nodes: number;
  partitions: number;
  replicas: number;
  /** The coordinator's --replication: in sync mode no acknowledged write may be lost (asserted by guaranteeFindings). */
  replication: 'sync' | 'async';
  faults: readonly FaultKind[];
  heartbeatMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
  /** Keys the workload uses (at least one per partition, so "every partition served" is checked). */
  keys: number;
  /** Workers per client. */
  workers: number;
  /** Rate cap per client (ops/s). */
  maxOpsPerSec: number;
  /** Quiet time with the workload running between two faults, drawn from [min, max]. */
  quietMs: readonly [number, number];
  /** Extra time a killed node stays down, or a paused one stopped, after the table dropped it, drawn from [min, max]. */
  holdMs: readonly [number, number];
  /** Budget for the cluster to get back to a stable table after a fault (and at the end). */
  settleTimeoutMs: number;
  /** An op that took longer than this (invoke to completion) counts as a hung request. */
  hangMs: number;
  /** Progress lines (one per fault; `t=` is the history's clock, as in the checker's messages). */
  log: (line: string) => void;
  /** Write the whole history and the fault records as JSON to this file at the end ('' = no). */
  dumpPath: string;
}

export const DEFAULT_CHAOS_OPTIONS: Readonly<ChaosOptions> = Object.freeze({
  seed: 1,
  durationMs: 60_000,
  maxFaults: 0,
  maxOps: 200_000,
  nodes: 4,
  partitions: 32,
  replicas: 2,
  replication: 'sync',
  faults: FAULT_KINDS,
  heartbeatMs: 500,
  // A restart of a node (a tsx process) takes 1–3 s on a loaded 2-core machine: the dead deadline must exceed it for
  // the `restart` fault to be a restart faster than the deadline.
  suspectAfterMs: 2000,
  deadAfterMs: 4000,
  keys: 400,
  workers: 2,
  maxOpsPerSec: 150,
  quietMs: Object.freeze([500, 2000]) as readonly [number, number],
  holdMs: Object.freeze([0, 1500]) as readonly [number, number],
  settleTimeoutMs: 60_000,
  hangMs: 20_000,
  log: () => {},
  dumpPath: '',
});

export function resolveChaosOptions(input: Partial<ChaosOptions>): ChaosOptions {
  const o: ChaosOptions = { ...DEFAULT_CHAOS_OPTIONS, ...input };
  const int = (name: keyof ChaosOptions, min: number, max: number): void => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) throw new TypeError(`${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  };
  int('seed', 0, 2 ** 32 - 1);
  int('durationMs', 0, 24 * 3600_000);
  int('maxFaults', 0, 100_000);
  int('maxOps', 1, 10_000_000);
  int('nodes', 3, 16);
  int('partitions', 1, 16384);
  int('replicas', 2, 8);
  if (o.replication !== 'sync' && o.replication !== 'async') throw new TypeError(`replication must be sync or async, got ${String(o.replication)}`);
  int('keys', 1, 1_000_000);
  int('workers', 1, 64);
  int('maxOpsPerSec', 1, 100_000);
  if (o.replicas > o.nodes - 1) throw new TypeError(`replicas must be < nodes (one node down must leave room for every copy), got replicas ${o.replicas} with ${o.nodes} nodes`);
  if (o.faults.length === 0 || o.faults.some((f) => !FAULT_KINDS.includes(f))) throw new TypeError(`faults must be a non-empty list of ${FAULT_KINDS.join(', ')}, got ${o.faults.join(',') || '(none)'}`);
  if (!(o.heartbeatMs >= 10 && o.suspectAfterMs > o.heartbeatMs && o.deadAfterMs > o.suspectAfterMs)) throw new TypeError(`heartbeatMs < suspectAfterMs < deadAfterMs must hold, got ${o.heartbeatMs} / ${o.suspectAfterMs} / ${o.deadAfterMs}`);
  for (const name of ['quietMs', 'holdMs'] as const) {
    const [a, b] = o[name];
    if (!(a >= 0 && b >= a && b <= 600_000)) throw new TypeError(`${name} must be [min, max] with 0 <= min <= max <= 600000, got [${a}, ${b}]`);
  }
  if (!(o.settleTimeoutMs > 0)) throw new TypeError(`settleTimeoutMs must be > 0, got ${o.settleTimeoutMs}`);
  if (!(o.hangMs > 0)) throw new TypeError(`hangMs must be > 0, got ${o.hangMs}`);
  return o;
}

/** One planned fault. `holdMs` and `quietMs` are drawn from the seed; the timing of the conditions waited for is real. */
export interface FaultStep {
  index: number;
  kind: FaultKind;
  /** Node name (`node-<i>`), or `coordinator`. */
  target: string;
  holdMs: number;
  quietMs: number;
}

/** The fault schedule for a seed: an endless deterministic sequence (take as many as time allows). */
export function* faultSchedule(seed: number, faults: readonly FaultKind[], nodes: number, holdMs: readonly [number, number], quietMs: readonly [number, number]): Generator<FaultStep> {
  const rnd = seededRandom(seed ^ 0x5eed);
  const between = (r: readonly [number, number]): number => Math.round(r[0] + rnd() * (r[1] - r[0]));
  for (let index = 0; ; index++) {
    const kind = faults[Math.floor(rnd() * faults.length)]!;
    const node = `node-${1 + Math.floor(rnd() * nodes)}`;
    yield { index, kind, target: kind === 'coordinator' ? 'coordinator' : node, holdMs: between(holdMs), quietMs: between(quietMs) };
  }
}

/** What happened to one injected fault. */
export interface FaultRecord extends FaultStep {
  /** performance.now() when the fault was injected and when the cluster was stable again (null: it never was). */
  startMs: number;
  recoveredMs: number | null;
  /** kill9/sigstop: ms until the table dropped the node; restart: ms until the node listened again. */
  detailMs: number | null;
  /** restart: the node never left the table (the restart beat the dead deadline). */
  beatDeadline: boolean | null;
  error: string | null;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, 'log' | 'dumpPath'>;
  faults: FaultRecord[];
  ops: { total: number; ok: number; failed: number; unknown: number; reads: number; writes: number; deletes: number };
  check: CheckResult;
  /** Distinct acknowledged writes some later read did not see and the final read does not have (nil, or an older value). */
  lostWrites: number;
  /** Reads during the run that returned a value superseded by an acknowledged write (final reads count as lost writes). */
  staleReads: number;
  neverWritten: number;
  resurrected: number;
  /** Other checker verdicts (failed-write-visible, future-read, expired-value, missing-final-read, incomplete-op). */
  otherViolations: Record<string, number>;
  /** Lost writes and stale reads per fault kind (a lost write is blamed on the first fault after it was acknowledged, a stale read on the last fault before the newer write it missed was acknowledged). */
  byFault: Record<string, { injected: number; lostWrites: number; staleReads: number }>;
  /** Ops slower than hangMs, and the slowest op. */
  hung: number;
  maxOpMs: number;
  /** The end state. */
  stableAtEnd: boolean;
  replicasRestored: boolean;
  /** Partitions at least one final read through each client succeeded on, out of partitionCount. */
  partitionsServed: number;
  finalReadFailures: number;
  /** Published tables with two primaries, a primary not first, or a partition with no copy (one fault at a time and replicas ≥ 2 always leave a copy). */
  tableProblems: string[];
  tableEpochs: number;
  /** Nodes whose key count differs from what the final table gives them. */
  copyProblems: string[];
  /** Set when the run itself could not proceed (a start failure, a fault that never recovered). */
  abortedBy: string | null;
  elapsedMs: number;
}

/** Keys `chaos:<i>`, at least `n`, covering every partition. */
export function chaosKeys(n: number, partitionCount: number): string[] {
  const keys: string[] = [];
  const covered = new Set<number>();
  for (let i = 0; keys.length < n || covered.size < partitionCount; i++) {
    const k = `chaos:${i}`;
    keys.push(k);
    covered.add(partitionOfSlot(keySlot(k), partitionCount));
  }
  return keys;
}

/** Runs one chaos run; never throws for what the cluster does (that goes in the report), only for bad options. */
export async function runChaos(input: Partial<ChaosOptions>): Promise<ChaosReport> {
  const o = resolveChaosOptions(input);
  const log = o.log;
  const t0 = performance.now();
  const history = new History();
  const faults: FaultRecord[] = [];
  let abortedBy: string | null = null;
  let cluster: LocalCluster | null = null;
  let ioCluster: Cluster | null = null;
  let client: Ringleader | null = null;
  const keys = chaosKeys(o.keys, o.partitions);
  const report: Partial<ChaosReport> = {};
  try {
    cluster = await LocalCluster.start({ nodes: o.nodes, partitions: o.partitions, replicas: o.replicas, heartbeatMs: o.heartbeatMs, suspectAfterMs: o.suspectAfterMs, deadAfterMs: o.deadAfterMs, coordinatorArgs: ['--replication', o.replication], controlProxy: o.faults.includes('cut') });
    const c = cluster;
    ioCluster = ioredisClusterFor(c.running.map((n) => n.port));
    client = await Ringleader.connect({ coordinators: [c.coordinatorUrl], connectTimeoutMs: 20_000 });
    const io = ioredisAdapter(ioCluster);
    const rl = ringleaderAdapter(client);
    const badLoad = await preload(history, rl, keys, { concurrency: 100 });
    log(`cluster up: ${o.nodes} nodes, ${o.partitions} partitions, replicas ${o.replicas}; ${keys.length} keys preloaded (${badLoad} failed)`);

    const invariants = watchTables(c.coordinatorUrl);
    const workloads = [io, rl].map((kv, i) => new Workload(history, kv, { keys, workers: o.workers, maxOpsPerSec: o.maxOpsPerSec, writeFraction: 0.45, deleteFraction: 0.05, seed: o.seed * 10 + i }).start());
    const opsNow = (): number => workloads.reduce((a, w) => a + w.counts.ok + w.counts.failed + w.counts.unknown, 0);
    const workStart = performance.now();
    const inBudget = (): boolean => performance.now() - workStart < o.durationMs && opsNow() < o.maxOps && (o.maxFaults === 0 || faults.length < o.maxFaults);
    // Stop the workload as soon as the op cap is reached, even mid-fault.
    const capTimer = setInterval(() => {
      if (opsNow() >= o.maxOps) for (const w of workloads) void w.stop();
    }, 100);

    try {
      await sleep(Math.min(1000, o.quietMs[1]));
      for (const step of faultSchedule(o.seed, o.faults, o.nodes, o.holdMs, o.quietMs)) {
        if (!inBudget()) break;
        const rec: FaultRecord = { ...step, startMs: performance.now(), recoveredMs: null, detailMs: null, beatDeadline: null, error: null };
        faults.push(rec);
        try {
          await injectFault(c, rec, o);
          await c.waitStable(o.settleTimeoutMs);
          rec.recoveredMs = performance.now();
        } catch (err) {
          rec.error = err instanceof Error ? err.message.split('\n')[0]! : String(err);
          abortedBy = `fault #${rec.index} ${rec.kind} ${rec.target}: ${rec.error}`;
          log(`ABORT ${abortedBy}`);
          break;
        }
        log(`t=${(rec.startMs / 1000).toFixed(1)}s fault #${rec.index} ${rec.kind.padEnd(11)} ${rec.target.padEnd(11)} ${rec.detailMs === null ? '' : `${rec.kind === 'restart' || rec.kind === 'coordinator' ? 'back' : 'dropped'} after ${rec.detailMs.toFixed(0)} ms, `}stable after ${(rec.recoveredMs - rec.startMs).toFixed(0)} ms${rec.beatDeadline === false ? ' (did NOT beat the dead deadline)' : ''}; ${opsNow()} ops`);
        await sleep(step.quietMs);
      }
    } finally {
      clearInterval(capTimer);
      // Bounded: a hung client call cannot hold the run (the workers' clients time out each request).
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([Promise.all(workloads.map((w) => w.stop())).then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), o.hangMs * 2)))]);
      clearTimeout(timer);
      if (!stopped) abortedBy ??= `the workload did not stop within ${o.hangMs * 2} ms (a request hangs)`;
    }

    // The end: a stable table, every key read through both clients, the whole history checked.
    let table: TableView | null = null;
    try {
      table = await c.waitStable(o.settleTimeoutMs);
    } catch (err) {
      abortedBy ??= `no stable table at the end: ${String(err).split('\n')[0]}`;
    }
    const inv = await invariants.stop();
    report.tableProblems = inv.problems;
    report.tableEpochs = inv.epochs;
    report.stableAtEnd = table !== null;
    const t = table ?? (await c.table());
    const want = Math.min(o.replicas, c.running.length);
    let restored = table !== null && t.json.members.length === o.nodes;
    for (let p = 0; p < t.partitionCount && restored; p++) if (t.primaryOf(p) === undefined || t.servingOf(p).length !== want || t.copiesOf(p).length !== want) restored = false;
    report.replicasRestored = restored;
    const served = new Map<number, number>();
    let finalFailures = 0;
    let present: string[] = [];
    for (const kv of [rl, io] as KvAdapter[]) {
      const r = await readAll(history, kv, keys, 100);
      finalFailures += r.failed;
      const seen = new Set<number>();
      for (const k of r.values.keys()) seen.add(partitionOfSlot(keySlot(k), o.partitions));
      for (const p of seen) served.set(p, (served.get(p) ?? 0) + 1);
      if (kv === rl) present = [...r.values].filter(([, v]) => v !== null).map(([k]) => k);
    }
    report.partitionsServed = [...served.values()].filter((n) => n === 2).length;
    report.finalReadFailures = finalFailures;
    report.copyProblems = table === null ? ['no stable table: copies not compared'] : await c.checkCopies(present, table);
  } catch (err) {
    abortedBy ??= err instanceof Error ? err.message.split('\n')[0]! : String(err);
    log(`ABORT ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    ioCluster?.disconnect();
    await client?.close();
    await cluster?.close();
  }

  const check = history.check({ requireFinalRead: abortedBy === null });
  if (o.dumpPath !== '') writeFileSync(o.dumpPath, JSON.stringify({ seed: o.seed, faults, ops: history.ops }));
  return summarize(o, history, check, faults, report, abortedBy, performance.now() - t0);
}

/**
 * What one published table shows wrong, given the table before it (null: a snapshot, only the table itself is
 * checked): more than one primary, a primary not listed first, a partition with no serving copy (primary or backup),
 * or a new primary that held no serving copy in the previous table while a member that did is still a member (the
 * partition was re-created empty while a copy survived). Faults here come one at a time after a settled table with
 * replicas >= 2, so a serving copy always survives one fault.
 */
export function tableProblems(prev: TableView | null, t: TableView): string[] {
  const problems: string[] = [];
  const short = (id: string): string => id.slice(0, 8);
  const members = new Set(t.json.members.map((m) => m.id));
  for (let p = 0; p < t.partitionCount; p++) {
    const copies = t.copiesOf(p);
    const primaries = copies.filter((x) => x.state === 'primary').length;
    if (primaries > 1) problems.push(`epoch ${t.epoch}: partition ${p} has ${primaries} primaries`);
    else if (primaries === 1 && copies[0]!.state !== 'primary') problems.push(`epoch ${t.epoch}: partition ${p} lists its primary at a position other than 0`);
    if (t.json.members.length > 0 && t.servingOf(p).length === 0) problems.push(`epoch ${t.epoch}: partition ${p} has no serving copy (${copies.map((x) => `${short(x.member)}:${x.state}`).join(',') || 'no copy at all'})`);
    const primary = t.primaryOf(p);
    if (prev === null || primary === undefined || primary === prev.primaryOf(p)) continue;
    const before = prev.servingOf(p);
    const survivors = before.filter((id) => members.has(id));
    if (!before.includes(primary) && survivors.length > 0) problems.push(`epoch ${t.epoch}: partition ${p} got primary ${short(primary)}, which held no serving copy at epoch ${prev.epoch}, while ${survivors.map(short).join(',')} did and is still a member`);
  }
  return problems;
}

/** Checks every table the coordinator publishes (its watch stream: every epoch once, in order) with tableProblems(). */
function watchTables(url: string): { stop(): Promise<{ epochs: number; problems: string[] }> } {
  const problems: string[] = [];
  let epochs = 0;
  let prev: TableView | null = null;
  const client = new CoordinatorClient({ coordinators: [url] });
  const watch = client.watch();
  watch.on('table', (table, info) => {
    const t = new TableView(table.toJSON() as TableJsonAny);
    epochs++;
    problems.push(...tableProblems(info.snapshot ? null : prev, t));
    prev = t;
  });
  watch.on('error', () => {});
  return {
    stop: async () => {
      watch.close();
      return { epochs, problems };
    },
  };
}

async function injectFault(c: LocalCluster, rec: FaultRecord, o: ChaosOptions): Promise<void> {
  const dropTimeout = o.deadAfterMs + o.settleTimeoutMs;
  const droppedAfter = async (id: string): Promise<number> => {
    await waitFor(`the table to drop ${rec.target}`, async () => !(await c.table()).json.members.some((m) => m.id === id), dropTimeout, 100);
    return performance.now() - rec.startMs;
  };
  switch (rec.kind) {
    case 'kill9': {
      const id = c.node(rec.target).id;
      await c.kill9(rec.target);
      rec.detailMs = await droppedAfter(id);
      await sleep(rec.holdMs);
      await c.restartNode(rec.target);
      return;
    }
    case 'sigstop': {
      const id = c.node(rec.target).id;
      c.pause(rec.target);
      try {
        rec.detailMs = await droppedAfter(id);
        await sleep(rec.holdMs);
      } finally {
        c.resume(rec.target);
      }
      return;
    }
    case 'restart': {
      const before = (await c.members()).members.find((m) => m.id === c.node(rec.target).id)?.incarnation;
      let left = false;
      const watch = (async () => {
        while (!left && rec.detailMs === null) {
          const t = await c.table().catch(() => null);
          // A new incarnation replaces the old member in place; `dead` (or absence with no new incarnation) means the deadline passed.
          const m = t?.json.members.find((x) => x.id === c.node(rec.target).id);
          if (t !== null && (m === undefined || m.state === 'dead')) left = true;
          await sleep(100);
        }
      })();
      await c.restartNode(rec.target);
      rec.detailMs = performance.now() - rec.startMs;
      await watch;
      const after = (await c.members()).members.find((m) => m.id === c.node(rec.target).id);
      rec.beatDeadline = !left && rec.detailMs < o.deadAfterMs && after?.incarnation !== before;
      return;
    }
    case 'cut': {
      // The node loses the coordinator only: clients and its peers still reach it. The coordinator declares it dead by
      // heartbeats and fails its partitions over while it still runs and still gets requests.
      const id = c.node(rec.target).id;
      c.cutFromCoordinator(rec.target);
      try {
        rec.detailMs = await droppedAfter(id);
        await sleep(rec.holdMs);
      } finally {
        c.healToCoordinator(rec.target);
      }
      return;
    }
    case 'coordinator':
      await c.restartCoordinator('kill9');
      rec.detailMs = performance.now() - rec.startMs;
      return;
  }
}

function summarize(o: ChaosOptions, history: History, check: CheckResult, faults: FaultRecord[], r: Partial<ChaosReport>, abortedBy: string | null, elapsedMs: number): ChaosReport {
  const count = (kind: Violation['kind']): Violation[] => check.violations.filter((v) => v.kind === kind);
  const lost = count('lost-write');
  const stale = count('stale-read');
  const byFault: ChaosReport['byFault'] = {};
  for (const k of o.faults) byFault[k] = { injected: faults.filter((f) => f.kind === k).length, lostWrites: 0, staleReads: 0 };
  // A lost write is blamed on the fault it was acknowledged during (e.g. by a paused primary after SIGCONT), else on
  // the first fault after it (e.g. a kill -9 before the primary shipped it to its copies).
  const lostIds = new Set<number>();
  const blameLost = (w: Op): void => {
    if (lostIds.has(w.id)) return;
    lostIds.add(w.id);
    const at = w.completeMs ?? 0;
    const f = faults.find((x) => x.startMs <= at && at <= (x.recoveredMs ?? Infinity)) ?? faults.find((x) => x.startMs > at);
    if (f !== undefined) byFault[f.kind]!.lostWrites++;
  };
  for (const v of lost) if (v.related !== null) blameLost(v.related);
  // A stale read names the value it returned; the newer acknowledged write it missed is the latest one acknowledged
  // before the read started. A stale FINAL read (every op had completed) means that write is gone for good: it is
  // counted as a lost write. Other stale reads are blamed on the last fault before the missed write was acknowledged.
  const byKey = new Map<string, Op[]>();
  for (const op of history.ops) if (op.kind !== 'read' && op.outcome === 'ok') (byKey.get(op.key) ?? byKey.set(op.key, []).get(op.key)!).push(op);
  let staleReads = 0;
  for (const v of stale) {
    const w = v.related;
    const missed = (byKey.get(v.key) ?? []).filter((a) => w !== null && a.invokeMs > w.completeMs! && a.completeMs! < v.op.invokeMs).sort((a, b) => b.completeMs! - a.completeMs!)[0];
    if (v.op.process.endsWith('-final') && missed !== undefined && missed.kind === 'write') {
      blameLost(missed);
      continue;
    }
    staleReads++;
    const at = missed?.completeMs ?? v.op.invokeMs;
    const f = faults.filter((x) => x.startMs < at).at(-1);
    if (f !== undefined) byFault[f.kind]!.staleReads++;
  }
  const other: Record<string, number> = {};
  for (const v of check.violations) if (!['lost-write', 'stale-read', 'never-written', 'resurrected-delete'].includes(v.kind)) other[v.kind] = (other[v.kind] ?? 0) + 1;
  let hung = 0;
  let maxOpMs = 0;
  for (const op of history.ops) {
    const d = op.completeMs === null ? Infinity : op.completeMs - op.invokeMs;
    if (d > o.hangMs) hung++;
    if (d !== Infinity) maxOpMs = Math.max(maxOpMs, d);
  }
  const s = check.stats;
  const { log: _log, dumpPath: _dump, ...options } = o;
  return {
    options,
    faults,
    ops: { total: s.ops, ok: s.ok, failed: s.failed, unknown: s.unknown, reads: s.reads, writes: s.writes, deletes: s.deletes },
    check,
    lostWrites: lostIds.size,
    staleReads,
    neverWritten: count('never-written').length,
    resurrected: count('resurrected-delete').length,
    otherViolations: other,
    byFault,
    hung,
    maxOpMs,
    stableAtEnd: r.stableAtEnd ?? false,
    replicasRestored: r.replicasRestored ?? false,
    partitionsServed: r.partitionsServed ?? 0,
    finalReadFailures: r.finalReadFailures ?? 0,
    tableProblems: r.tableProblems ?? [],
    tableEpochs: r.tableEpochs ?? 0,
    copyProblems: r.copyProblems ?? [],
    abortedBy,
    elapsedMs,
  };
}

/**
 * What the system guarantees that this run broke (empty = every guarantee held). In sync mode, whatever the fault:
 * no acknowledged write is lost (a primary acknowledges only once its in-sync backups applied the write, and a
 * failover promotes only an in-sync copy), and no read returns a value an acknowledged write had replaced (a node's
 * lease stops a paused or cut-off old primary before another copy can take over, and the workload reads primaries).
 * In async mode both are expected under kill -9 and SIGSTOP and only reported.
 */
export function guaranteeFindings(r: ChaosReport): string[] {
  const f: string[] = [];
  if (r.options.replication === 'sync' && r.lostWrites > 0) f.push(`${r.lostWrites} acknowledged writes were lost (sync mode loses none)`);
  if (r.options.replication === 'sync' && r.staleReads > 0) f.push(`${r.staleReads} reads returned a value an acknowledged write had replaced (sync mode with leases serves none)`);
  if (r.abortedBy !== null) f.push(`the run could not complete: ${r.abortedBy}`);
  if (r.neverWritten > 0) f.push(`${r.neverWritten} reads returned a value that was never written`);
  const fv = r.otherViolations['failed-write-visible'] ?? 0;
  if (fv > 0) f.push(`${fv} reads returned the value of a write that was refused`);
  const fr = r.otherViolations['future-read'] ?? 0;
  if (fr > 0) f.push(`${fr} reads returned a value written after they completed`);
  if (r.tableProblems.length > 0) f.push(`${r.tableProblems.length} table problems (two primaries, or a partition with no copy while a copy survived): ${r.tableProblems.slice(0, 3).join('; ')}`);
  if (!r.stableAtEnd) f.push('the table never became stable at the end');
  if (!r.replicasRestored) f.push(`the replica count (${r.options.replicas}) was not restored on every partition at the end`);
  if (r.partitionsServed !== r.options.partitions) f.push(`only ${r.partitionsServed} of ${r.options.partitions} partitions were served by both clients at the end`);
  if (r.finalReadFailures > 0) f.push(`${r.finalReadFailures} final reads failed`);
  if (r.hung > 0) f.push(`${r.hung} requests took longer than ${r.options.hangMs} ms (slowest ${r.maxOpMs.toFixed(0)} ms)`);
  const inc = r.otherViolations['incomplete-op'] ?? 0;
  if (inc > 0) f.push(`${inc} requests never completed`);
  return f;
}

/** The summary table. */
export function formatChaosReport(r: ChaosReport): string {
  const o = r.options;
  const rows: Array<[string, string]> = [
    ['seed / duration', `${o.seed} / ${(o.durationMs / 60_000).toFixed(2)} min (ran ${(r.elapsedMs / 1000).toFixed(1)} s)`],
    ['cluster', `${o.nodes} nodes, ${o.partitions} partitions, replicas ${o.replicas} (${o.replication}), dead after ${o.deadAfterMs} ms`],
    ['faults injected', `${r.faults.length} (${Object.entries(r.byFault).map(([k, v]) => `${k} ${v.injected}`).join(', ')})`],
    ['restarts beat the dead deadline', `${r.faults.filter((f) => f.beatDeadline === true).length} of ${r.faults.filter((f) => f.kind === 'restart').length}`],
    ['ops ok / failed / unknown', `${r.ops.ok} / ${r.ops.failed} / ${r.ops.unknown} of ${r.ops.total} (${r.ops.writes} writes, ${r.ops.deletes} deletes, ${r.ops.reads} reads)`],
    ['slowest op', `${r.maxOpMs.toFixed(0)} ms (${r.hung} over ${o.hangMs} ms)`],
    ['lost writes', `${r.lostWrites} (${Object.entries(r.byFault).map(([k, v]) => `${k} ${v.lostWrites}`).join(', ')})`],
    ['stale reads', `${r.staleReads} (${Object.entries(r.byFault).map(([k, v]) => `${k} ${v.staleReads}`).join(', ')})`],
    ['never-written reads', String(r.neverWritten)],
    ['resurrected deletes', String(r.resurrected)],
    ['other violations', Object.entries(r.otherViolations).map(([k, v]) => `${k} ${v}`).join(', ') || '0'],
    ['replica count restored', r.replicasRestored ? 'yes' : 'no'],
    ['partitions served at end', `${r.partitionsServed} / ${o.partitions} (${r.finalReadFailures} final reads failed)`],
    ['table problems', `${r.tableProblems.length} over ${r.tableEpochs} epochs`],
    ['copies match the table', r.copyProblems.length === 0 ? 'yes' : `no: ${r.copyProblems.join('; ')}`],
  ];
  if (r.abortedBy !== null) rows.push(['ABORTED', r.abortedBy]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  const findings = guaranteeFindings(r);
  lines.push('', findings.length === 0 ? `guarantees (${r.options.replication} mode): all held` : `guarantees (${r.options.replication} mode) BROKEN:\n  ${findings.join('\n  ')}`);
  if (r.check.violations.length > 0) lines.push('', formatCheck(r.check, 3));
  return lines.join('\n');
}

/** The one JSON line. `chaos` is `ok` when every guarantee of today held (see guaranteeFindings), else `broken`. */
export function chaosJson(r: ChaosReport): Record<string, unknown> {
  return {
    chaos: guaranteeFindings(r).length === 0 ? 'ok' : 'broken',
    seed: r.options.seed,
    minutes: Number((r.options.durationMs / 60_000).toFixed(3)),
    faults: Object.fromEntries(Object.entries(r.byFault).map(([k, v]) => [k, v.injected])),
    ops: { ok: r.ops.ok, failed: r.ops.failed, unknown: r.ops.unknown },
    lostWrites: r.lostWrites,
    staleReads: r.staleReads,
    neverWritten: r.neverWritten,
    resurrected: r.resurrected,
    replicasRestored: r.replicasRestored,
    tableProblems: r.tableProblems.length,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
