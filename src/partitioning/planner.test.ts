import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { xxhash64 } from '../hashing/xxhash64.js';
import { isRingleaderError } from '../shared/errors.js';
import { memberIdFor, type Member } from './member.js';
import { primaryBandWidth } from './balanced.js';
import { diffTables } from './diff.js';
import { planTable, resolvePlannerOptions, type PlacementStrategy, type PlannerOptions } from './planner.js';
import { PartitionTable } from './table.js';

function member(i: number, extra: Partial<Member> = {}): Member {
  const name = `node-${i}`;
  return { id: memberIdFor(name), name, address: `10.0.${i >> 8}.${i & 255}:7000`, zone: null, capacity: 1, state: 'active', ...extra };
}
const cluster = (n: number, extra: (i: number) => Partial<Member> = () => ({})) => Array.from({ length: n }, (_, i) => member(i, extra(i)));

/** Copies per member by role. */
function loads(t: PartitionTable): { primary: Map<string, number>; backup: Map<string, number> } {
  const primary = new Map<string, number>();
  const backup = new Map<string, number>();
  for (let p = 0; p < t.partitionCount; p++) {
    t.replicasOf(p).forEach((id, i) => {
      const m = i === 0 ? primary : backup;
      m.set(id, (m.get(id) ?? 0) + 1);
    });
  }
  return { primary, backup };
}

/** Data transfers of a change: moves whose source is not the receiver itself. */
const transfers = (a: PartitionTable, b: PartitionTable) => diffTables(a, b).moves.filter((m) => m.from !== m.to).length;

/**
 * Checks every invariant the planner promises for `members`. With `previous` (the table `t` was planned from, same
 * partition count, balanced strategy), primaries may sit in the band floor - w .. ceil + w of their share (w =
 * primaryBandWidth) instead of exactly on floor/ceil, a member new to the table on floor/ceil, and copies stay on
 * floor/ceil where backups were checked.
 */
function checkInvariants(t: PartitionTable, members: readonly Member[], o: Partial<PlannerOptions>, previous: PartitionTable | null = null): void {
  const opts = resolvePlannerOptions(o);
  const placeable = members.filter((m) => m.state === 'joining' || m.state === 'active' || m.state === 'suspect');
  const ids = new Set(placeable.map((m) => m.id));
  const copies = Math.min(opts.replicas, placeable.length);
  const zones = new Set(placeable.map((m) => m.zone ?? ''));
  const W = placeable.reduce((s, m) => s + m.capacity, 0);
  assert.equal(t.members.length, members.length, 'the table lists every member given');
  for (let p = 0; p < t.partitionCount; p++) {
    const set = t.replicasOf(p);
    assert.equal(set.length, copies, `partition ${p} has ${copies} copies`);
    assert.equal(new Set(set).size, set.length, `partition ${p}: distinct members`);
    for (const id of set) assert.ok(ids.has(id), `partition ${p}: ${id} is placeable`);
  }
  const { primary, backup } = loads(t);
  const changed = previous !== null && opts.strategy === 'balanced' && previous.partitionCount === opts.partitionCount && previous.members.some((m) => ids.has(m.id) && previous.partitionsOf(m.id).backup.length + previous.partitionsOf(m.id).primary.length > 0);
  for (const m of placeable) {
    const share = (opts.partitionCount * m.capacity) / W;
    const got = primary.get(m.id) ?? 0;
    if (opts.strategy === 'consistent') assert.ok(got <= Math.ceil(share * opts.loadFactor - 1e-9), `${m.name}: ${got} primaries within the cap`);
    if (opts.strategy === 'balanced') {
      const held = changed ? previous.partitionsOf(m.id) : null;
      const w = changed && held!.primary.length + held!.backup.length > 0 ? primaryBandWidth(opts.partitionCount, placeable.length, share) : 0;
      assert.ok(got >= Math.floor(share + 1e-9) - w && got <= Math.ceil(share - 1e-9) + w, `${m.name}: ${got} primaries within floor/ceil of ${share} (band ${w})`);
    }
  }
  // Backups balanced like primaries and zone-spread, for the balanced strategy with equal capacities and equal-size
  // zones (uneven zones trade backup balance for spread: a lone zone member holds a copy of every partition).
  const perZone = new Map<string, number>();
  for (const m of placeable) perZone.set(m.zone ?? '', (perZone.get(m.zone ?? '') ?? 0) + 1);
  if (opts.strategy === 'balanced' && copies > 1 && placeable.every((m) => m.capacity === 1) && new Set(perZone.values()).size === 1) {
    // With fewer than 8 partitions per member the holder graph is sparse and the planner may trade a primary
    // rounding instead of moving data: backups may then be one off.
    const share = (opts.partitionCount * (copies - 1)) / placeable.length;
    const copyShare = (opts.partitionCount * copies) / placeable.length;
    const slack = opts.partitionCount < 8 * placeable.length ? 1 : 0;
    for (const m of placeable) {
      const got = backup.get(m.id) ?? 0;
      if (!changed) assert.ok(got >= Math.floor(share + 1e-9) - slack && got <= Math.ceil(share - 1e-9) + slack, `${m.name}: ${got} backups within floor/ceil of ${share}`);
      const all = got + (primary.get(m.id) ?? 0);
      assert.ok(all >= Math.floor(copyShare + 1e-9) - slack && all <= Math.ceil(copyShare - 1e-9) + slack, `${m.name}: ${all} copies within floor/ceil of ${copyShare}`);
    }
    {
      for (let p = 0; p < t.partitionCount; p++) {
        const z = new Set(t.replicasOf(p).map((id) => t.member(id)!.zone ?? ''));
        assert.equal(z.size, Math.min(copies, zones.size), `partition ${p} spreads over zones`);
      }
    }
  }
}

const strategies: PlacementStrategy[] = ['balanced', 'consistent'];

test('table-driven: both strategies keep every invariant on fixed shapes', () => {
  const cases: Array<{ name: string; n: number; o: Partial<PlannerOptions>; extra?: (i: number) => Partial<Member> }> = [
    { name: 'default 271 x 2 on 8', n: 8, o: {} },
    { name: 'one partition', n: 5, o: { partitionCount: 1 } },
    { name: 'one partition, one member', n: 1, o: { partitionCount: 1, replicas: 1 } },
    { name: 'more members than partitions', n: 40, o: { partitionCount: 7, replicas: 3 } },
    { name: 'replicas = members', n: 3, o: { partitionCount: 64, replicas: 3 } },
    { name: 'three zones', n: 9, o: { partitionCount: 300, replicas: 3 }, extra: (i) => ({ zone: `z${i % 3}` }) },
    { name: 'weighted', n: 6, o: { partitionCount: 1000, replicas: 2 }, extra: (i) => ({ capacity: 1 + (i % 3) }) },
    { name: 'dead and leaving members are not placed', n: 8, o: { partitionCount: 128 }, extra: (i) => ({ state: i === 2 ? 'dead' : i === 5 ? 'leaving' : 'active' }) },
    { name: 'all 16384', n: 16, o: { partitionCount: 16384, replicas: 2 } },
  ];
  for (const c of cases) {
    for (const strategy of strategies) {
      const members = cluster(c.n, c.extra);
      const o = { ...c.o, strategy };
      const { table, shortfall } = planTable(null, members, o);
      assert.equal(shortfall, null, `${c.name} (${strategy}): no shortfall`);
      checkInvariants(table, members, o);
      assert.deepEqual(PartitionTable.fromJSON(JSON.parse(JSON.stringify(table))).toJSON(), table.toJSON(), `${c.name}: the JSON form validates and round-trips`);
    }
  }
});

test('property: every invariant holds on first placement and after a random change, for both strategies', () => {
  const shape = fc.record({
    n: fc.integer({ min: 1, max: 24 }),
    partitionCount: fc.integer({ min: 1, max: 300 }),
    replicas: fc.integer({ min: 1, max: 3 }),
    zones: fc.constantFrom(0, 2, 3),
    strategy: fc.constantFrom(...strategies),
    change: fc.constantFrom('join', 'leave', 'suspect', 'none'),
    pick: fc.nat(),
  });
  fc.assert(
    fc.property(shape, ({ n, partitionCount, replicas, zones, strategy, change, pick }) => {
      const zoneOf = (i: number) => ({ zone: zones === 0 ? null : `z${i % zones}` });
      const members = cluster(n, zoneOf);
      const o = { partitionCount, replicas, strategy };
      const first = planTable(null, members, o);
      checkInvariants(first.table, members, o);
      assert.equal(first.shortfall === null, replicas <= n, 'shortfall exactly when replicas > members');
      let next = members;
      if (change === 'join') next = [...members, member(n, zoneOf(n))];
      if (change === 'leave' && n > 1) next = members.filter((_, i) => i !== pick % n);
      if (change === 'suspect') next = members.map((m, i) => (i === pick % n ? { ...m, state: 'suspect' } : m));
      const second = planTable(first.table, next, o);
      checkInvariants(second.table, next, o, first.table);
      assert.equal(second.table.epoch, first.table.epoch + 1);
    }),
    { numRuns: 150 },
  );
});

test('property: weighted members get floor/ceil of their weighted share of primaries, also after a change', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(0.5, 1, 2, 3), { minLength: 1, maxLength: 16 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (caps, extra, replicas, pick) => {
      // Weighted shares need some room: with a handful of partitions per member, a light member may hold no copy
      // at all and its primary share is handed on, past its neighbours' ceil. So at least 8 per member.
      const partitionCount = 8 * (caps.length + 1) + extra;
      const members = caps.map((capacity, i) => member(i, { capacity }));
      const o = { partitionCount, replicas };
      const first = planTable(null, members, o).table;
      checkInvariants(first, members, o);
      const next = pick % 2 === 0 ? [...members, member(caps.length, { capacity: caps[pick % caps.length]! })] : members.filter((_, i) => i !== pick % caps.length);
      if (next.length > 0) checkInvariants(planTable(first, next, o).table, next, o, first);
    }),
    { numRuns: 100 },
  );
});

test('changing the replica count keeps every copy that still fits', () => {
  const members = cluster(6);
  const two = planTable(null, members, { partitionCount: 120, replicas: 2 }).table;
  const three = planTable(two, members, { partitionCount: 120, replicas: 3 });
  checkInvariants(three.table, members, { partitionCount: 120, replicas: 3 }, two);
  for (let p = 0; p < 120; p++) for (const id of two.replicasOf(p)) assert.ok(three.table.replicasOf(p).includes(id), `partition ${p} keeps ${id}`);
  assert.equal(transfers(two, three.table), 120, 'one new copy per partition');
  const one = planTable(three.table, members, { partitionCount: 120, replicas: 1 }).table;
  checkInvariants(one, members, { partitionCount: 120, replicas: 1 }, three.table);
  assert.equal(transfers(three.table, one), 0, 'dropping backups moves nothing');
});

test('property: same inputs give a byte-identical table, whatever the member order', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 200 }), fc.constantFrom(...strategies), fc.nat(), (n, partitionCount, strategy, seed) => {
      const members = cluster(n, (i) => ({ zone: `z${i % 2}` }));
      const shuffled = [...members].sort((a, b) => ((xxhash64(new TextEncoder().encode(a.id + seed)) < xxhash64(new TextEncoder().encode(b.id + seed))) ? -1 : 1));
      const o = { partitionCount, strategy };
      const a = planTable(null, members, o).table;
      const b = planTable(null, shuffled, o).table;
      assert.equal(JSON.stringify(a), JSON.stringify(b));
      const joined = [...members, member(n)];
      assert.equal(JSON.stringify(planTable(a, joined, o).table), JSON.stringify(planTable(b, [...joined].reverse(), o).table));
    }),
    { numRuns: 60 },
  );
});

test('property (balanced): a single join or leave transfers at most 1.05x the optimum', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 16, max: 1024 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (n, partitionCount, replicas, pick) => {
      // At least 8 partitions per member: with fewer, one unavoidable extra transfer already exceeds 5%.
      fc.pre(n > replicas && partitionCount >= 8 * n);
      const members = cluster(n);
      const o = { partitionCount, replicas };
      const base = planTable(null, members, o).table;
      // Join: the optimum is the new member's fair share of all copies.
      const joined = planTable(base, [...members, member(n)], o).table;
      const joinOptimum = (partitionCount * replicas) / (n + 1);
      assert.ok(transfers(base, joined) <= 1.05 * joinOptimum, `join moved ${transfers(base, joined)}, optimum ${joinOptimum}`);
      // Leave: the optimum is the leaver's copies, primary and backup.
      const leaver = members[pick % n]!;
      const held = base.partitionsOf(leaver.id);
      const left = planTable(base, members.filter((m) => m !== leaver), o).table;
      const leaveOptimum = held.primary.length + held.backup.length;
      assert.ok(transfers(base, left) <= 1.05 * leaveOptimum, `leave moved ${transfers(base, left)}, optimum ${leaveOptimum}`);
    }),
    { numRuns: 80 },
  );
});

/** Partitions whose primary differs between `a` and `b`. */
function primariesChanged(a: PartitionTable, b: PartitionTable): number {
  let n = 0;
  for (let p = 0; p < a.partitionCount; p++) if (a.primaryOf(p) !== b.primaryOf(p)) n++;
  return n;
}

/** Checks the cost goals of one join, one graceful leave and one failure from `base` (issue 8, part 7). */
function checkChangeCosts(base: PartitionTable, members: readonly Member[], joiner: Member, gone: Member, o: Partial<PlannerOptions>, checkTransfers = true): void {
  const { partitionCount, replicas } = resolvePlannerOptions(o);
  const zones = new Set(members.map((m) => m.zone)).size > 1;
  // Join: copies transferred within 5% of the joiner's share; primaries changed at most its (ceil) share of them.
  const joined = planTable(base, [...members, joiner], o).table;
  const n = members.length + 1;
  if (checkTransfers) assert.ok(transfers(base, joined) <= 1.05 * ((partitionCount * Math.min(replicas, n)) / n), `join transferred ${transfers(base, joined)}`);
  // With zones the joiner's zone gains copies the other zones give up; when those zones have too few backups in
  // partitions the joiner can enter without doubling its zone, a primary copy is dropped instead (one hand-over
  // each): seen with 3 members in 3 zones. So a little slack there.
  const joinSlack = zones ? Math.ceil(0.05 * (partitionCount / n)) : 0;
  assert.ok(primariesChanged(base, joined) <= Math.ceil(partitionCount / n) + joinSlack, `join changed ${primariesChanged(base, joined)} primaries, share ${partitionCount / n}`);
  // Leave and failure: the planner sees the same thing (the member is no longer placeable). Copies transferred
  // within 5% of the departed member's copies; primaries changed = its primaries plus at most 10%.
  const held = base.partitionsOf(gone.id);
  for (const state of ['leaving', 'dead'] as const) {
    const next = members.map((m) => (m === gone ? { ...m, state } : m));
    const after = planTable(base, next, o).table;
    checkInvariants(after, next, o, base);
    const copies = held.primary.length + held.backup.length;
    if (checkTransfers) assert.ok(transfers(base, after) <= 1.05 * copies, `${state}: transferred ${transfers(base, after)}, optimum ${copies}`);
    // A partition of the departed member handed to a member without the data costs one more change: its surviving
    // backup takes over first, then hands over once the new copy is in sync.
    let events = primariesChanged(base, after);
    for (const p of held.primary) {
      const survivors = base.replicasOf(p).filter((id) => id !== gone.id);
      if (survivors.length > 0 && !survivors.includes(after.primaryOf(p)!)) events++;
    }
    const d = held.primary.length;
    assert.ok(events <= d + Math.floor(0.1 * d), `${state}: ${events} primary changes, optimum ${d}`);
  }
}

test('property (balanced): a join, a leave and a failure cost at most the goals in transfers and primary changes', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 16, max: 1024 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 3), fc.nat(), (n, partitionCount, replicas, zones, pick) => {
      fc.pre(n > replicas && partitionCount >= 8 * n);
      const zoneOf = (i: number) => ({ zone: zones === 0 ? null : `z${i % zones}` });
      const members = cluster(n, zoneOf);
      const o = { partitionCount, replicas };
      const base = planTable(null, members, o).table;
      // With zones every change shifts zone quotas; keeping spread and exact copy counts may then cost extra
      // transfers: many when a zone is down to one or two members (zone quotas jump), a few (more than 5%) below
      // ~32 partitions per member (docs/ARCHITECTURE.md, placement).
      checkChangeCosts(base, members, member(n, zoneOf(n)), members[pick % n]!, o, zones === 0 || (partitionCount >= 32 * n && n % zones === 0));
    }),
    { numRuns: 80 },
  );
});

test('N=16, P=271, R=2 (the shape measured from outside in issue 8): every join, leave and failure meets the goals', () => {
  const members = cluster(16);
  const o = { partitionCount: 271, replicas: 2 };
  const base = planTable(null, members, o).table;
  for (let i = 0; i < 16; i++) checkChangeCosts(base, members, member(100 + i), members[i]!, o);
});

test('at scale (balanced, 1000 members, 16384 partitions, 2 replicas): one join and one leave move the optimum', () => {
  const members = cluster(1000);
  const o = { partitionCount: 16384, replicas: 2 };
  const base = planTable(null, members, o).table;
  checkInvariants(base, members, o);
  const joined = planTable(base, [...members, member(1000)], o).table;
  checkInvariants(joined, [...members, member(1000)], o, base);
  assert.ok(transfers(base, joined) <= 1.05 * ((16384 * 2) / 1001));
  const held = base.partitionsOf(members[500]!.id);
  const left = planTable(base, members.filter((_, i) => i !== 500), o).table;
  assert.equal(transfers(base, left), held.primary.length + held.backup.length);
});

test('forced virtual-node hash collisions give one deterministic table, independent of member order', () => {
  // Only 4 distinct ring positions: nearly every virtual node collides, ties break by member id.
  const hash = (b: Uint8Array) => xxhash64(b) & 3n;
  for (const strategy of strategies) {
    const members = cluster(12);
    const o = { partitionCount: 97, replicas: 2, strategy, hash };
    const a = planTable(null, members, o);
    const b = planTable(null, [...members].reverse(), o);
    assert.equal(JSON.stringify(a.table), JSON.stringify(b.table));
    checkInvariants(a.table, members, o);
  }
  // A constant hash: the ring degenerates to id order, still complete and within the cap.
  const members = cluster(5);
  const t = planTable(null, members, { strategy: 'consistent', partitionCount: 50, replicas: 2, hash: () => 7n }).table;
  checkInvariants(t, members, { strategy: 'consistent', partitionCount: 50, replicas: 2 });
});

test('reports a typed shortfall and places what it can when replicas exceed members', () => {
  const members = cluster(2);
  const { table, shortfall } = planTable(null, members, { partitionCount: 10, replicas: 3 });
  assert.ok(shortfall && isRingleaderError(shortfall));
  assert.equal(shortfall.code, 'REPLICAS_SHORTFALL');
  assert.deepEqual(shortfall.details, { wantedCopies: 30, missingCopies: 10, replicas: 3, placeableMembers: 2 });
  for (let p = 0; p < 10; p++) assert.equal(table.replicasOf(p).length, 2);
  const empty = planTable(table, [], { partitionCount: 10, replicas: 3 });
  assert.equal(empty.shortfall?.code, 'REPLICAS_SHORTFALL');
  assert.equal(empty.table.replicasOf(0).length, 0);
  assert.equal(empty.table.epoch, 2);
});

test('refuses duplicate names and ids with typed errors, and bad options with a TypeError naming them', () => {
  const a = member(1);
  assert.throws(() => planTable(null, [a, { ...member(2), name: a.name }]), (e) => isRingleaderError(e) && e.code === 'DUPLICATE_MEMBER_NAME');
  assert.throws(() => planTable(null, [a, { ...a }]), (e) => isRingleaderError(e) && e.code === 'TABLE_INVALID');
  for (const [bad, name] of [[{ partitionCount: 0 }, 'partitionCount'], [{ replicas: 9 }, 'replicas'], [{ virtualNodes: 0 }, 'virtualNodes'], [{ loadFactor: 1 }, 'loadFactor'], [{ strategy: 'ring' }, 'strategy']] as const) {
    assert.throws(() => resolvePlannerOptions(bad as Partial<PlannerOptions>), (e) => e instanceof TypeError && e.message.startsWith(name));
  }
});

test('a changed partition count starts over from the ring', () => {
  const members = cluster(4);
  const a = planTable(null, members, { partitionCount: 64 }).table;
  const b = planTable(a, members, { partitionCount: 128 }).table;
  assert.equal(JSON.stringify(b.toJSON().partitions), JSON.stringify(planTable(null, members, { partitionCount: 128 }).table.toJSON().partitions));
});
