/**
 * Placement benchmark: both strategies side by side over N x P x replicas. Per cell: primaries per member
 * (max/avg, min/avg), data transfers on one join and on one leave (mean of TRIALS trials) against the optimum,
 * time to plan one change (median), and key -> owner lookup for 16-byte keys.
 * `npm run bench -- placement` (env BENCH_TRIALS, default 10; BENCH_QUICK=1 for a small matrix).
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

export default function run(): void {
  const keys = Array.from({ length: 4096 }, () => new Uint8Array(randomBytes(16)));
  // Warm up the JIT on a mid-size cell so the first measured cells are not penalized.
  for (const s of STRATEGIES) cell(s, 64, 1024, 2, keys);
  const results: Result[] = [];
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
  for (const v of virtualNodeSweep()) console.log(`| ${v.members} | ${v.virtualNodes} | ${v.maxOverAvg.toFixed(3)} | ${v.minOverAvg.toFixed(3)} | ${v.ringMs.toFixed(1)} |`);
  console.log(JSON.stringify({ bench: 'placement', results }));
}
