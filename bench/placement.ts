/**
 * Placement benchmark: both strategies side by side over N x P x replicas. Per cell: primaries per member
 * (max/avg, min/avg), data transfers on one join and on one leave (mean of TRIALS trials) against the optimum,
 * time to plan one change (median), and key -> owner lookup for 16-byte keys.
 * Then, for the balanced strategy, what a join, a graceful leave and a failure cost: copies transferred and primaries
 * changed against their optima, hand-overs (primary changes whose old primary is alive).
 * `npm run bench -- placement` (env BENCH_TRIALS, default 10; BENCH_COST_TRIALS, default 6; BENCH_QUICK=1 for a
 * small matrix; BENCH_PART=strategies|costs for one part).
 * Prints a table, then one JSON line.
 */
import { randomBytes } from 'node:crypto';
import { keySlotOfBytes } from '../src/hashing/index.js';
import { diffTables, memberIdFor, planTable, type Member, type PartitionTable, type PlacementStrategy } from '../src/partitioning/index.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 10);
/** The consistent strategy rebuilds its ring on every plan (~0.5 s at N=1000 on the shared VM): fewer trials there. */
const trialsFor = (s: PlacementStrategy, n: number) => (s === 'consistent' && n >= 1000 ? Math.min(TRIALS, 3) : TRIALS);
const QUICK = process.env.BENCH_QUICK === '1';
const MEMBERS = QUICK ? [8, 64] : [8, 64, 256, 1000];
const PARTITIONS = QUICK ? [271, 1024] : [271, 1024, 16384];
const REPLICAS = [1, 2];
const STRATEGIES: PlacementStrategy[] = ['balanced', 'consistent'];

interface Result {
  strategy: PlacementStrategy;
  members: number;
  partitions: number;
  replicas: number;
  maxOverAvg: number;
  minOverAvg: number;
  joinMovedOverOptimal: number;
  leaveMovedOverOptimal: number;
  planMs: number;
  lookupNs: number;
}

const member = (name: string): Member => ({ id: memberIdFor(name), name, address: `${name}:7000`, zone: null, capacity: 1, state: 'active' });

/** Data transfers: moves whose source is not the receiving member itself. */
function transfers(a: PartitionTable, b: PartitionTable): number {
  let n = 0;
  for (const m of diffTables(a, b).moves) if (m.from !== m.to) n++;
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** Key -> owner: slot of a 16-byte binary key, then the table's flat slot -> primary array. */
function lookupNs(table: PartitionTable, keys: Uint8Array[]): number {
  let sink = 0;
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 200_000; i++) {
      const owner = table.primaryOfSlot(keySlotOfBytes(keys[i & 4095]!));
      if (owner !== undefined) sink += owner.capacity;
    }
    rounds.push(Number(process.hrtime.bigint() - t0) / 200_000);
  }
  if (sink < 0) console.log(sink);
  return median(rounds);
}

function cell(strategy: PlacementStrategy, n: number, p: number, replicas: number, keys: Uint8Array[]): Result {
  const o = { strategy, partitionCount: p, replicas };
  const members = Array.from({ length: n }, (_, i) => member(`node-${i}`));
  const base = planTable(null, members, o).table;
  const counts = new Map<string, number>(members.map((m) => [m.id, 0]));
  for (let q = 0; q < p; q++) counts.set(base.primaryOf(q)!, counts.get(base.primaryOf(q)!)! + 1);
  const avg = p / n;
  const copies = Math.min(replicas, n);
  const times: number[] = [];
  let joinMoved = 0, joinOptimal = 0, leaveMoved = 0, leaveOptimal = 0;
  const trials = trialsFor(strategy, n);
  for (let t = 0; t < trials; t++) {
    const joined = [...members, member(`joiner-${t}`)];
    let t0 = performance.now();
    const j = planTable(base, joined, o).table;
    times.push(performance.now() - t0);
    joinMoved += transfers(base, j);
    joinOptimal += (p * copies) / (n + 1);
    const leaver = members[Math.floor(((t + 0.5) * n) / trials) % n]!;
    const held = base.partitionsOf(leaver.id);
    t0 = performance.now();
    const l = planTable(base, members.filter((m) => m !== leaver), o).table;
    times.push(performance.now() - t0);
    leaveMoved += transfers(base, l);
    leaveOptimal += held.primary.length + held.backup.length;
  }
  return {
    strategy,
    members: n,
    partitions: p,
    replicas,
    maxOverAvg: round(Math.max(...counts.values()) / avg),
    minOverAvg: round(Math.min(...counts.values()) / avg),
    joinMovedOverOptimal: round(joinMoved / joinOptimal),
    leaveMovedOverOptimal: leaveOptimal === 0 ? 1 : round(leaveMoved / leaveOptimal),
    planMs: round(median(times), 2),
    lookupNs: round(lookupNs(base, keys), 1),
  };
}

/** Consistent strategy balance against the virtual-node count: the measurement behind the default. */
function virtualNodeSweep(): Array<{ virtualNodes: number; members: number; maxOverAvg: number; minOverAvg: number; ringMs: number }> {
  const out = [];
  for (const n of QUICK ? [64] : [64, 256]) {
    const members = Array.from({ length: n }, (_, i) => member(`node-${i}`));
    for (const v of [10, 20, 40, 80, 160]) {
      const t0 = performance.now();
      const t = planTable(null, members, { strategy: 'consistent', partitionCount: 16384, replicas: 1, virtualNodes: v }).table;
      const ms = performance.now() - t0;
      const counts = new Map<string, number>(members.map((m) => [m.id, 0]));
      for (let q = 0; q < 16384; q++) counts.set(t.primaryOf(q)!, counts.get(t.primaryOf(q)!)! + 1);
      const avg = 16384 / n;
      out.push({ virtualNodes: v, members: n, maxOverAvg: round(Math.max(...counts.values()) / avg), minOverAvg: round(Math.min(...counts.values()) / avg), ringMs: round(ms, 1) });
    }
  }
  return out;
}


// ---- change costs: what a join, a graceful leave and a failure cost in data transfers and primary hand-overs ----

const COST_MEMBERS = QUICK ? [8, 16, 64] : [8, 16, 64, 256, 1000];
const COST_PARTITIONS = QUICK ? [271] : [271, 16384];
const COST_REPLICAS = [2, 3];
const COST_ZONES = [0, 3];
/** Trials per cost cell (a different joiner / leaver / failed member each). */
const COST_TRIALS = Number(process.env.BENCH_COST_TRIALS ?? (QUICK ? 4 : 6));
type ChangeEvent = 'join' | 'leave' | 'failure';

interface CostResult {
  members: number;
  partitions: number;
  replicas: number;
  zones: number;
  event: ChangeEvent;
  /** Summed over the trials. */
  transferred: number;
  transferOptimum: number;
  primariesChanged: number;
  primaryOptimum: number;
  /** Primary changes whose old primary is still alive (for a leave: all of them; for a failure: the extra ones). */
  handovers: number;
  /** Partitions whose new primary held no copy before (it must sync as a learner first). */
  primaryWithoutData: number;
  transferredOverOptimal: number;
  primariesChangedOverOptimal: number;
  worstTrialPrimariesOverOptimal: number;
  /** Primaries per member after the change, over P / placeable members: the highest and lowest seen in the trials. */
  maxOverAvgAfter: number;
  minOverAvgAfter: number;
  planMs: number;
}

const zonedMember = (name: string, zone: string | null): Member => ({ ...member(name), zone });

/**
 * Exact (unrounded) fair share of all P x copies copies for member `id`: zones first by weight, each at most
 * P x ceil(copies / zones) and P per member (water-filled), then equally inside the zone. The planner's quotas are
 * the floor/ceil of this.
 */
export function fairCopies(members: readonly Member[], p: number, copies: number, id: string): number {
  const zones = new Map<string, number>();
  for (const m of members) zones.set(m.zone ?? '', (zones.get(m.zone ?? '') ?? 0) + 1);
  const cap = new Map([...zones].map(([z, n]) => [z, p * Math.min(Math.ceil(copies / zones.size), n)]));
  const share = new Map<string, number>();
  let remaining = p * copies;
  let free = [...zones.keys()];
  for (;;) {
    const weight = free.reduce((s, z) => s + zones.get(z)!, 0);
    const pinned = free.filter((z) => (remaining * zones.get(z)!) / weight >= cap.get(z)!);
    if (pinned.length === 0) {
      for (const z of free) share.set(z, (remaining * zones.get(z)!) / weight);
      break;
    }
    for (const z of pinned) {
      share.set(z, cap.get(z)!);
      remaining -= cap.get(z)!;
    }
    free = free.filter((z) => !pinned.includes(z));
    if (free.length === 0) break;
  }
  const z = members.find((m) => m.id === id)!.zone ?? '';
  return share.get(z)! / zones.get(z)!;
}

/**
 * Copies newly held (a member holding a copy of p it did not hold = one transfer), primary changes (a failed
 * primary's partition given to a member without the data counts twice, see below), hand-overs.
 */
function changeCost(a: PartitionTable, b: PartitionTable, alive: ReadonlySet<string>): { transferred: number; primariesChanged: number; handovers: number; primaryWithoutData: number } {
  let transferred = 0, primariesChanged = 0, handovers = 0, primaryWithoutData = 0;
  for (let q = 0; q < a.partitionCount; q++) {
    const before = a.replicasOf(q), after = b.replicasOf(q);
    for (const id of after) if (!before.includes(id)) transferred++;
    const pa = before[0], pb = after[0];
    if (pa === pb) continue;
    primariesChanged++;
    if (pa !== undefined && alive.has(pa)) handovers++;
    if (pb !== undefined && !before.includes(pb)) {
      primaryWithoutData++;
      // A failed primary whose partition goes to a member without the data while a holder with the data survives:
      // that holder takes over first and hands over later, two changes. (A leaving primary hands over directly.)
      if (pa !== undefined && !alive.has(pa) && before.some((id) => id !== pa && after.includes(id))) {
        primariesChanged++;
        handovers++;
      }
    }
  }
  return { transferred, primariesChanged, handovers, primaryWithoutData };
}

function costCell(n: number, p: number, replicas: number, zones: number): CostResult[] {
  const o = { partitionCount: p, replicas };
  const zoneOf = (i: number) => (zones === 0 ? null : `z${i % zones}`);
  const members = Array.from({ length: n }, (_, i) => zonedMember(`node-${i}`, zoneOf(i)));
  const base = planTable(null, members, o).table;
  const out: CostResult[] = [];
  for (const event of ['join', 'leave', 'failure'] as const) {
    let transferred = 0, transferOptimum = 0, primariesChanged = 0, primaryOptimum = 0, handovers = 0, primaryWithoutData = 0, worst = 0;
    let maxAfter = 0, minAfter = Infinity;
    const times: number[] = [];
    for (let t = 0; t < COST_TRIALS; t++) {
      let next: Member[];
      let tOpt: number, pOpt: number;
      if (event === 'join') {
        const joiner = zonedMember(`joiner-${t}`, zoneOf(n + t));
        next = [...members, joiner];
        tOpt = fairCopies(next, p, Math.min(replicas, n + 1), joiner.id);
        pOpt = p / (n + 1);
      } else {
        const gone = members[Math.floor(((t + 0.5) * n) / COST_TRIALS) % n]!;
        next = members.map((m) => (m === gone ? { ...m, state: event === 'leave' ? 'leaving' : 'dead' } : m));
        const held = base.partitionsOf(gone.id);
        tOpt = held.primary.length + held.backup.length;
        pOpt = held.primary.length;
      }
      const t0 = performance.now();
      const table = planTable(base, next, o).table;
      times.push(performance.now() - t0);
      // A leaving member still answers (its primaries are handed over); a failed one does not (they fail over).
      const alive = new Set(next.filter((m) => m.state !== 'dead').map((m) => m.id));
      const c = changeCost(base, table, alive);
      transferred += c.transferred;
      transferOptimum += tOpt;
      primariesChanged += c.primariesChanged;
      primaryOptimum += pOpt;
      handovers += c.handovers;
      primaryWithoutData += c.primaryWithoutData;
      if (pOpt > 0) worst = Math.max(worst, c.primariesChanged / pOpt);
      const placeable = next.filter((m) => m.state === 'active');
      const counts = new Map<string, number>(placeable.map((m) => [m.id, 0]));
      for (let q = 0; q < p; q++) counts.set(table.primaryOf(q)!, counts.get(table.primaryOf(q)!)! + 1);
      const avg = p / placeable.length;
      maxAfter = Math.max(maxAfter, Math.max(...counts.values()) / avg);
      minAfter = Math.min(minAfter, Math.min(...counts.values()) / avg);
    }
    out.push({
      members: n,
      partitions: p,
      replicas,
      zones,
      event,
      transferred,
      transferOptimum: round(transferOptimum, 1),
      primariesChanged,
      primaryOptimum: round(primaryOptimum, 1),
      handovers,
      primaryWithoutData,
      transferredOverOptimal: transferOptimum === 0 ? 1 : round(transferred / transferOptimum),
      primariesChangedOverOptimal: primaryOptimum === 0 ? 1 : round(primariesChanged / primaryOptimum),
      worstTrialPrimariesOverOptimal: round(worst),
      maxOverAvgAfter: round(maxAfter),
      minOverAvgAfter: round(minAfter),
      planMs: round(median(times), 2),
    });
  }
  return out;
}

function runCosts(): CostResult[] {
  const results: CostResult[] = [];
  console.log(`\nchange costs (balanced): ${COST_TRIALS} trials per event (a different joiner / leaver / failed member each); sums over the trials`);
  console.log('| N | P | R | zones | event | copies transferred | optimum | ×opt | primaries changed | optimum | ×opt | worst trial ×opt | hand-overs | primary without data | max/avg after | min/avg after | plan ms |');
  console.log('|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const n of COST_MEMBERS) {
    for (const p of COST_PARTITIONS) {
      for (const r of COST_REPLICAS) {
        for (const z of COST_ZONES) {
          for (const x of costCell(n, p, r, z)) {
            results.push(x);
            console.log(
              `| ${n} | ${p} | ${r} | ${z} | ${x.event} | ${x.transferred} | ${x.transferOptimum} | ${x.transferredOverOptimal.toFixed(3)} | ${x.primariesChanged} | ${x.primaryOptimum} | ${x.primariesChangedOverOptimal.toFixed(3)} | ${x.worstTrialPrimariesOverOptimal.toFixed(3)} | ${x.handovers} | ${x.primaryWithoutData} | ${x.maxOverAvgAfter.toFixed(3)} | ${x.minOverAvgAfter.toFixed(3)} | ${x.planMs.toFixed(2)} |`,
            );
          }
        }
      }
    }
  }
  return results;
}

/** BENCH_PART=strategies | costs runs one part; default both. */
const PART = process.env.BENCH_PART ?? 'all';

export default function run(): void {
  const results: Result[] = [];
  let sweep: ReturnType<typeof virtualNodeSweep> = [];
  if (PART === 'all' || PART === 'strategies') {
    const keys = Array.from({ length: 4096 }, () => new Uint8Array(randomBytes(16)));
    // Warm up the JIT on a mid-size cell so the first measured cells are not penalized.
    for (const s of STRATEGIES) cell(s, 64, 1024, 2, keys);
    console.log(`placement: ${TRIALS} join and ${TRIALS} leave trials per cell (consistent at N=1000: ${trialsFor('consistent', 1000)}); planMs = median over those changes`);
    console.log('| N | P | R | strategy | max/avg | min/avg | join moved/opt | leave moved/opt | plan ms | lookup ns |');
    console.log('|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|');
    for (const n of MEMBERS) {
      for (const p of PARTITIONS) {
        for (const r of REPLICAS) {
          for (const s of STRATEGIES) {
            const x = cell(s, n, p, r, keys);
            results.push(x);
            console.log(`| ${n} | ${p} | ${r} | ${s} | ${x.maxOverAvg.toFixed(3)} | ${x.minOverAvg.toFixed(3)} | ${x.joinMovedOverOptimal.toFixed(3)} | ${x.leaveMovedOverOptimal.toFixed(3)} | ${x.planMs.toFixed(2)} | ${x.lookupNs.toFixed(1)} |`);
          }
        }
      }
    }
    console.log('\nconsistent strategy, P=16384, replicas 1: balance against virtual nodes per member');
    console.log('| N | virtual nodes | max/avg | min/avg | plan ms (ring build + walk) |');
    console.log('|---:|---:|---:|---:|---:|');
    sweep = virtualNodeSweep();
    for (const v of sweep) console.log(`| ${v.members} | ${v.virtualNodes} | ${v.maxOverAvg.toFixed(3)} | ${v.minOverAvg.toFixed(3)} | ${v.ringMs.toFixed(1)} |`);
  }
  const costs = PART === 'all' || PART === 'costs' ? runCosts() : [];
  console.log(JSON.stringify({ bench: 'placement', results, virtualNodes: sweep, costs }));
}
