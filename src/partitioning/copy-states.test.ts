import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CopyReportStatus, CopyState, TableJson } from '../protocol/control.js';
import { advance, reportStatusIn, type CopyReportEntry, type CopyReports } from './copy-states.js';
import { memberIdFor } from './member.js';
import { PartitionTable } from './table.js';

const NAMES = ['A', 'B', 'C', 'D', 'E', 'X'] as const;
type Name = (typeof NAMES)[number];
const ID = Object.fromEntries(NAMES.map((n) => [n, memberIdFor(n)])) as Record<Name, string>;
const NAME = new Map(NAMES.map((n) => [ID[n], n]));
const MEMBERS = NAMES.map((n) => ({ id: ID[n], name: n, address: `127.0.0.1:${7000 + NAMES.indexOf(n)}`, zone: null, capacity: 1, state: 'active' as const })).sort((a, b) => (a.id < b.id ? -1 : 1));
const CODE: Record<string, CopyState> = { p: 'primary', b: 'backup', l: 'learner', h: 'handing-off' };
const LETTER: Record<CopyState, string> = { primary: 'p', backup: 'b', learner: 'l', 'handing-off': 'h' };

/** A current table from compact specs: one string per partition, e.g. 'A:p B:b C:l' (validated). */
function current(specs: string[], terms: number[], epoch = 5): PartitionTable {
  const parsed = specs.map((s) => s.split(' ').filter(Boolean).map((c) => c.split(':') as [Name, string]));
  const json: TableJson = {
    format: 2, epoch, partitionCount: specs.length, replicas: 2, members: MEMBERS,
    partitions: parsed.map((cs) => cs.map(([n]) => ID[n])),
    states: parsed.map((cs) => cs.map(([, s]) => CODE[s]!)),
    terms,
  };
  return PartitionTable.fromJSON(json);
}

/** A target table (format 1 shape): replica sets, primary first. */
function target(sets: Name[][]): PartitionTable {
  return PartitionTable.trusted({ epoch: 1, partitionCount: sets.length, replicas: 2, members: MEMBERS, partitions: sets.map((s) => s.map((n) => ID[n])) });
}

/** The compact spec of a table's partition. */
function spec(t: PartitionTable, p = 0): string {
  return t.copiesOf(p).map((c) => `${NAME.get(c.member)}:${LETTER[c.state]}`).join(' ');
}

function reports(list: Array<[number, Name, CopyReportStatus, number]>): CopyReports {
  const m = new Map<number, Map<string, CopyReportEntry>>();
  for (const [p, n, status, term] of list) {
    if (!m.has(p)) m.set(p, new Map());
    m.get(p)!.set(ID[n], { status, term, offset: 0 });
  }
  return m;
}

const ALL = new Set(NAMES.map((n) => ID[n]));
const aliveBut = (...gone: Name[]) => new Set([...ALL].filter((id) => !gone.includes(NAME.get(id)!)));
const NONE: CopyReports = new Map();

test('first placement: the target primary is created as an empty primary at term 1, the others start as learners', () => {
  const r = advance(current([''], [0]), target([['A', 'B']]), NONE, ALL);
  assert.equal(spec(r.table), 'A:p B:l');
  assert.equal(r.table.termOf(0), 1);
  assert.equal(r.table.epoch, 6);
  assert.deepEqual(r.table.replicasOf(0), [ID.A]);
  assert.deepEqual(r.table.learnersOf(0), [ID.B]);
  assert.equal(r.changed, true);
  assert.equal(r.counts.created, 1);
});

test('a learner becomes a backup only on a synced report at the current term', () => {
  const cur = current(['A:p B:l'], [3]);
  assert.equal(spec(advance(cur, target([['A', 'B']]), reports([[0, 'B', 'synced', 2]]), ALL).table), 'A:p B:l', 'old term ignored');
  assert.equal(advance(cur, target([['A', 'B']]), NONE, ALL).changed, false);
  const r = advance(cur, target([['A', 'B']]), reports([[0, 'B', 'synced', 3]]), ALL);
  assert.equal(spec(r.table), 'A:p B:b');
  assert.equal(r.table.termOf(0), 3);
});

test('hand-over: an in-sync backup that the target makes primary takes over with term + 1; the old primary stays a backup when the target keeps it', () => {
  const r = advance(current(['A:p B:b'], [3]), target([['B', 'A']]), NONE, ALL);
  assert.equal(spec(r.table), 'B:p A:b');
  assert.equal(r.table.termOf(0), 4);
  assert.equal(r.counts.handOvers, 1);
});

test('hand-over to a member outside the old set: learner, synced backup, primary, then the old primary is dropped once the new one serves', () => {
  let t = current(['A:p'], [1]);
  const tgt = target([['B']]);
  t = advance(t, tgt, NONE, ALL).table;
  assert.equal(spec(t), 'A:p B:l');
  t = advance(t, tgt, reports([[0, 'B', 'synced', 1]]), ALL).table;
  assert.equal(spec(t), 'A:p B:b', 'a learner never becomes primary in the step it syncs');
  t = advance(t, tgt, NONE, ALL).table;
  assert.equal(spec(t), 'B:p A:h');
  assert.equal(t.termOf(0), 2);
  assert.deepEqual(t.replicasOf(0), [ID.B], 'a handing-off copy does not serve');
  assert.deepEqual(t.partitionsOf(ID.A), { primary: [], backup: [], learner: [], handingOff: [0] });
  assert.equal(spec(advance(t, tgt, reports([[0, 'B', 'serving', 1]]), ALL).table), 'B:p A:h', 'serving at the old term does not count');
  t = advance(t, tgt, reports([[0, 'B', 'serving', 2]]), ALL).table;
  assert.equal(spec(t), 'B:p');
});

test('failover: a dead primary is replaced by a backup (target order first) with term + 1', () => {
  const r = advance(current(['A:p B:b C:b D:l'], [7]), target([['C', 'D']]), NONE, aliveBut('A'));
  assert.equal(spec(r.table), 'C:p B:b D:l');
  assert.equal(r.table.termOf(0), 8);
  assert.equal(r.counts.failovers, 1);
  assert.equal(advance(current(['A:p B:b C:b'], [7]), target([['D']]), NONE, aliveBut('A')).table.primaryOf(0), ID.B);
});

test('a dead primary without a backup: the partition loses its primary, its learners go, never promoted; it is re-created empty afterwards', () => {
  const tgt = target([['B', 'C']]);
  let r = advance(current(['A:p B:l'], [4]), tgt, reports([[0, 'B', 'synced', 4]]), aliveBut('A'));
  assert.equal(spec(r.table), '', 'the learner B is not promoted (and is not re-created in the step that dropped it)');
  assert.equal(r.counts.primariesLost, 1);
  r = advance(r.table, tgt, NONE, aliveBut('A'));
  assert.equal(spec(r.table), 'B:p C:l');
  assert.equal(r.table.termOf(0), 5);
  // With a target primary that held nothing, it is created in the same step.
  assert.equal(spec(advance(current(['A:p'], [4]), target([['C']]), NONE, aliveBut('A')).table), 'C:p');
});

test('a re-joined incarnation (not alive) loses every copy in one step, its primary fails over, and it gets a learner only in a later step', () => {
  const tgt = target([['A', 'B'], ['B', 'A']]);
  const r = advance(current(['A:p B:b', 'B:p A:b'], [2, 3]), tgt, NONE, aliveBut('A'));
  assert.equal(spec(r.table, 0), 'B:p');
  assert.equal(r.table.termOf(0), 3);
  assert.equal(spec(r.table, 1), 'B:p');
  assert.equal(r.table.termOf(1), 3);
  const t = advance(r.table, tgt, NONE, ALL).table;
  assert.equal(spec(t, 0), 'B:p A:l');
  assert.equal(spec(t, 1), 'B:p A:l');
});

test('a failed report at the current term removes the copy (a failed primary fails over); at another term it is ignored', () => {
  const tgt = target([['A', 'B']]);
  assert.equal(spec(advance(current(['A:p B:b'], [2]), tgt, reports([[0, 'B', 'failed', 2]]), ALL).table), 'A:p');
  assert.equal(spec(advance(current(['A:p B:b'], [2]), tgt, reports([[0, 'B', 'failed', 1]]), ALL).table), 'A:p B:b');
  const r = advance(current(['A:p B:b'], [2]), tgt, reports([[0, 'A', 'failed', 2]]), ALL);
  assert.equal(spec(r.table), 'B:p');
  assert.equal(r.table.termOf(0), 3);
});

test('a backup the target dropped stays until every target member serves; a learner the target dropped goes at once', () => {
  const tgt = target([['A', 'C']]);
  let t = advance(current(['A:p B:b D:l'], [1]), tgt, NONE, ALL).table;
  assert.equal(spec(t), 'A:p B:b C:l');
  t = advance(t, tgt, reports([[0, 'C', 'synced', 1]]), ALL).table;
  assert.equal(spec(t), 'A:p C:b');
});

test('the target empty (every member leaving): nothing is removed, the primary stays', () => {
  assert.equal(advance(current(['A:p B:b'], [1]), target([[]]), NONE, ALL).changed, false);
});

test('one hand-over at a time: a hand-over in flight (handing-off copy) blocks the next one', () => {
  const r = advance(current(['B:p C:b A:h'], [4]), target([['C', 'B']]), NONE, ALL);
  assert.equal(spec(r.table), 'B:p C:b A:h');
  assert.equal(r.changed, false);
  const done = advance(current(['B:p C:b A:h'], [4]), target([['C', 'B']]), reports([[0, 'B', 'serving', 4]]), ALL);
  assert.equal(spec(done.table), 'B:p C:b', 'the hand-over finished; the next one waits for the next step');
  assert.equal(spec(advance(done.table, target([['C', 'B']]), NONE, ALL).table), 'C:p B:b');
});

test('the stale-copy scenario of issue 8: A regains primary only through learner, synced, backup and a hand-over with a new term', () => {
  // A is primary of p. X joins and the target gives p to X (replicas 1).
  let t = current(['A:p'], [1]);
  const toX = target([['X']]);
  const toA = target([['A']]);
  const terms: number[] = [];
  const step = (tgt: PartitionTable, r: CopyReports = NONE, alive: ReadonlySet<string> = ALL) => {
    t = advance(t, tgt, r, alive).table;
    terms.push(t.termOf(0));
    return spec(t);
  };
  assert.equal(step(toX), 'A:p X:l');
  assert.equal(step(toX, reports([[0, 'X', 'synced', 1]])), 'A:p X:b');
  assert.equal(step(toX), 'X:p A:h');
  assert.equal(step(toX, reports([[0, 'X', 'serving', 2]])), 'X:p', 'A no longer holds any copy of p');
  // X takes writes and deletes at term 2; then X leaves: the target gives p back to A.
  assert.equal(step(toA), 'X:p A:l', 'A comes back as a learner, never straight to primary');
  assert.equal(step(toA), 'X:p A:l', 'without a synced report A stays a learner');
  assert.equal(step(toA, reports([[0, 'A', 'synced', 1]])), 'X:p A:l', 'a synced report from the old term (A\'s frozen copy) does not count');
  assert.equal(step(toA, reports([[0, 'A', 'synced', 2]])), 'X:p A:b');
  assert.equal(step(toA), 'A:p X:h');
  assert.equal(t.termOf(0), 3);
  assert.equal(step(toA, reports([[0, 'A', 'serving', 3]])), 'A:p');
  for (let i = 1; i < terms.length; i++) assert.ok(terms[i]! >= terms[i - 1]!);
});

test('reportStatusIn: reflected, pending or obsolete', () => {
  const t = current(['A:p B:b C:l D:h'], [3]);
  const r = (status: CopyReportStatus, term = 3): CopyReportEntry => ({ status, term, offset: 0 });
  assert.equal(reportStatusIn(t, 0, ID.C, r('synced')), 'pending');
  assert.equal(reportStatusIn(t, 0, ID.B, r('synced')), 'reflected');
  assert.equal(reportStatusIn(t, 0, ID.C, r('synced', 2)), 'obsolete');
  assert.equal(reportStatusIn(t, 0, ID.E, r('synced')), 'obsolete');
  assert.equal(reportStatusIn(t, 0, ID.A, r('serving')), 'pending');
  assert.equal(reportStatusIn(current(['A:p'], [3]), 0, ID.A, r('serving')), 'reflected');
  assert.equal(reportStatusIn(t, 0, ID.B, r('serving')), 'obsolete');
  assert.equal(reportStatusIn(t, 0, ID.B, r('failed')), 'pending');
  assert.equal(reportStatusIn(t, 0, ID.E, r('failed')), 'reflected');
  assert.equal(reportStatusIn(t, 9, ID.E, r('failed')), 'obsolete');
});

test('refuses tables with different partition counts', () => {
  assert.throws(() => advance(current(['A:p'], [1]), target([['A'], ['A']]), NONE, ALL), RangeError);
});

// ---- properties ---------------------------------------------------------------------------------------------

const P = 6;
const nameArb = fc.constantFrom(...NAMES);
const setArb = fc.uniqueArray(nameArb, { maxLength: 3 });
const targetArb = fc.array(setArb, { minLength: P, maxLength: P }).map(target);
const aliveArb = fc.subarray([...NAMES], { minLength: 0 }).map((ns) => new Set(ns.map((n) => ID[n])));
const reportListArb = fc.array(fc.tuple(fc.nat({ max: P - 1 }), nameArb, fc.constantFrom<CopyReportStatus>('synced', 'serving', 'failed'), fc.integer({ min: -1, max: 1 })), { maxLength: 12 });
const stepArb = fc.record({ target: targetArb, alive: aliveArb, reports: reportListArb, honest: fc.boolean() });

/** Reports at the current term: `synced` for every learner, `serving` for every primary (what nodes say when all goes well). */
function fullReports(t: PartitionTable): CopyReports {
  const list: Array<[number, Name, CopyReportStatus, number]> = [];
  for (let p = 0; p < t.partitionCount; p++) {
    for (const c of t.copiesOf(p)) {
      if (c.state === 'learner') list.push([p, NAME.get(c.member)!, 'synced', t.termOf(p)]);
      if (c.state === 'primary') list.push([p, NAME.get(c.member)!, 'serving', t.termOf(p)]);
    }
  }
  return reports(list);
}

function toReports(t: PartitionTable, list: Array<[number, Name, CopyReportStatus, number]>): CopyReports {
  return reports(list.map(([p, n, s, d]) => [p, n, s, Math.max(0, t.termOf(p) + d)]));
}

/** Runs random steps from an empty table and returns every (before, after, inputs). */
function run(steps: Array<{ target: PartitionTable; alive: Set<string>; reports: Array<[number, Name, CopyReportStatus, number]>; honest: boolean }>, check: (before: PartitionTable, after: PartitionTable, alive: ReadonlySet<string>, r: CopyReports) => void): PartitionTable {
  let t = current(Array.from({ length: P }, () => ''), Array.from({ length: P }, () => 0));
  for (const s of steps) {
    const r = s.honest ? fullReports(t) : toReports(t, s.reports);
    const next = advance(t, s.target, r, s.alive).table;
    check(t, next, s.alive, r);
    t = next;
  }
  return t;
}

test('property: every step gives a valid table (at most one primary, first), deterministic, and a learner never becomes primary', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 12 }), (steps) => {
      run(steps, (before, after) => {
        const json = after.toJSON();
        PartitionTable.fromJSON(json); // validates: one primary at index 0, ordered states, terms >= 1 with a primary
        for (let p = 0; p < P; p++) {
          assert.ok(after.copiesOf(p).filter((c) => c.state === 'primary').length <= 1);
          for (const c of before.copiesOf(p)) if (c.state === 'learner') assert.notEqual(after.stateOf(p, c.member), 'primary', `learner ${NAME.get(c.member)} of ${p} became primary`);
        }
      });
    }),
    { numRuns: 300 },
  );
});

test('property: same inputs give the same table', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 8 }), stepArb, (steps, last) => {
      const t = run(steps, () => {});
      const r = toReports(t, last.reports);
      assert.deepEqual(advance(t, last.target, r, last.alive).table.toJSON(), advance(t, last.target, r, last.alive).table.toJSON());
    }),
    { numRuns: 100 },
  );
});

test('property: a partition with a primary and a surviving primary or backup never ends without a primary', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 12 }), (steps) => {
      run(steps, (before, after, alive, r) => {
        const inTable = new Set(after.members.map((m) => m.id));
        for (let p = 0; p < P; p++) {
          if (before.primaryOf(p) === undefined) continue;
          const survives = before.replicasOf(p).some((id) => alive.has(id) && inTable.has(id) && !(r.get(p)?.get(id)?.status === 'failed' && r.get(p)!.get(id)!.term === before.termOf(p)));
          if (survives) assert.notEqual(after.primaryOf(p), undefined, `partition ${p}: ${before.copiesOf(p).map((c) => `${NAME.get(c.member)}:${c.state}`).join(' ')} lost its primary`);
        }
      });
    }),
    { numRuns: 300 },
  );
});

test('property: terms never decrease and rise on every change of primary', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 12 }), (steps) => {
      run(steps, (before, after) => {
        for (let p = 0; p < P; p++) {
          assert.ok(after.termOf(p) >= before.termOf(p));
          const a = before.primaryOf(p);
          const b = after.primaryOf(p);
          if (b !== undefined && a !== b) assert.ok(after.termOf(p) > before.termOf(p), `partition ${p}: primary changed without a new term`);
        }
      });
    }),
    { numRuns: 300 },
  );
});

test('property: a member that is not alive (dead, left, re-joined) keeps no copy', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { minLength: 1, maxLength: 12 }), (steps) => {
      run(steps, (_before, after, alive) => {
        for (let p = 0; p < P; p++) for (const c of after.copiesOf(p)) assert.ok(alive.has(c.member), `${NAME.get(c.member)} is not alive but holds ${c.state} of ${p}`);
      });
    }),
    { numRuns: 300 },
  );
});

test('property: with synced/serving reports for all, any state converges to the target within 6 steps, then stays', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 10 }), targetArb, (steps, tgt) => {
      let t = run(steps, () => {});
      for (let i = 0; i < 6; i++) t = advance(t, tgt, fullReports(t), ALL).table;
      for (let p = 0; p < P; p++) {
        if (tgt.replicasOf(p).length === 0) continue; // nowhere to go: copies stay where they are
        assert.deepEqual(t.replicasOf(p), tgt.replicasOf(p), `partition ${p}: ${spec(t, p)}`);
        assert.equal(t.copiesOf(p).length, tgt.replicasOf(p).length, `partition ${p}: ${spec(t, p)}`);
      }
      const again = advance(t, tgt, fullReports(t), ALL);
      assert.equal(again.changed, false);
    }),
    { numRuns: 300 },
  );
});

test('regression: the new primary dies during a hand-over before any backup exists: the handing-off copy is promoted, not dropped', () => {
  // Seen under load: node-3 left, handed p to node-2 (node-3 handing-off), node-2 was declared dead before a new
  // backup was built; the partition lost its only copy with data.
  const [a, b, c] = ['a', 'b', 'c'].map((n) => memberIdFor(n));
  const members = [a!, b!, c!].map((id, i) => ({ id, name: `n${i}`, address: `127.0.0.1:${7000 + i}`, zone: null, capacity: 1, state: 'active' as const }));
  const current = PartitionTable.fromJSON({ format: 2, epoch: 5, partitionCount: 1, replicas: 2, members, partitions: [[b!, a!]], states: [['primary', 'handing-off']], terms: [4] });
  const target = PartitionTable.fromJSON({ epoch: 5, partitionCount: 1, replicas: 2, members, partitions: [[b!, c!]] });
  const { table, counts } = advance(current, target, new Map(), new Set([a!, c!]));
  assert.equal(table.primaryOf(0), a, 'the old primary serves again');
  assert.equal(table.termOf(0), 5);
  assert.equal(counts.failovers, 1);
  assert.equal(counts.primariesLost, 0);
});

test('sync mode: backups the primary asked out of sync become learners at that term (never promoted by a failover after), and re-enter on a synced report', () => {
  const cur = current(['A:p B:b C:b', 'A:p B:b'], [3, 2]);
  const T = target([['A', 'B', 'C'], ['A', 'B']]);
  const asked = new Map([[0, { term: 3, members: new Set([ID.B]) }], [1, { term: 1, members: new Set([ID.B]) }]]);
  const r = advance(cur, T, NONE, ALL, { outOfSync: asked, replication: 'sync', minInSync: 2 });
  assert.equal(spec(r.table, 0), 'A:p C:b B:l');
  assert.equal(spec(r.table, 1), 'A:p B:b', 'a request from an older term is ignored');
  assert.equal(r.table.termOf(0), 3, 'no primary change: same term');
  assert.equal(r.counts.outOfSync, 1);
  assert.equal(r.table.replication, 'sync');
  assert.equal(r.table.minInSync, 2);
  // A then dies: C (in sync) is promoted, never B.
  const r2 = advance(r.table, T, NONE, aliveBut('A'), { outOfSync: asked });
  assert.equal(spec(r2.table, 0), 'C:p B:l');
  // B caught up again (it resumed and reported synced): back in the in-sync set.
  const r3 = advance(r.table, T, reports([[0, 'B', 'synced', 3]]), ALL, { outOfSync: new Map() });
  assert.equal(spec(r3.table, 0), 'A:p B:b C:b');
  // Settings alone are a change worth an epoch.
  assert.equal(cur.replication, 'async', 'a table without settings is async');
  const r4 = advance(cur, T, NONE, ALL, { replication: 'sync' });
  assert.equal(r4.changed, true);
  assert.equal(advance(r4.table, T, NONE, ALL, { replication: 'sync' }).changed, false);
});

test('property: out-of-sync requests only ever demote backups of their own term to learners; primaries and terms never change because of them', () => {
  const states = ['p', 'b', 'l'] as const;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...states), { minLength: 1, maxLength: 4 }), fc.subarray(['A', 'B', 'C', 'D'] as Name[]), fc.integer({ min: 1, max: 3 }), (codes, askedNames, askedTerm) => {
      const names: Name[] = ['A', 'B', 'C', 'D'];
      const sorted = ['p', ...codes.slice(1).filter((c) => c !== 'p').sort()];
      const specStr = sorted.map((c, i) => `${names[i]}:${c}`).join(' ');
      const cur = current([specStr], [2]);
      const T = target([names.slice(0, sorted.length)]);
      const r = advance(cur, T, NONE, ALL, { outOfSync: new Map([[0, { term: askedTerm, members: new Set(askedNames.map((n) => ID[n])) }]]) });
      assert.equal(r.table.primaryOf(0), ID.A);
      assert.equal(r.table.termOf(0), 2);
      for (const c of cur.copiesOf(0)) {
        const now = r.table.stateOf(0, c.member);
        const demote = askedTerm === 2 && c.state === 'backup' && askedNames.includes(NAME.get(c.member)!);
        if (demote) assert.equal(now, 'learner');
        else if (c.state === 'backup') assert.equal(now, 'backup');
      }
    }),
  );
});

test('a partition that lost every copy stays unavailable unless re-creation is allowed or asked for; a new partition (term 0) is always created', () => {
  const cur = current(['A:p B:b', 'A:p B:b', ''], [4, 2, 0]);
  const T = target([['C', 'D'], ['C', 'D'], ['C', 'D']]);
  // A and B die: partitions 0 and 1 lose every copy.
  const r1 = advance(cur, T, NONE, aliveBut('A', 'B'), { recreateLost: false });
  assert.deepEqual([spec(r1.table, 0), spec(r1.table, 1), spec(r1.table, 2)], ['', '', 'C:p D:l']);
  const r2 = advance(r1.table, T, NONE, aliveBut('A', 'B'), { recreateLost: false });
  assert.deepEqual([spec(r2.table, 0), spec(r2.table, 1)], ['', ''], 'still unavailable in later steps');
  assert.equal(r2.counts.lost, 2);
  assert.equal(r2.table.termOf(0), 4, 'the term is kept: a copy that comes back from that term is recognised as stale');
  const r3 = advance(r2.table, T, NONE, aliveBut('A', 'B'), { recreateLost: false, recreate: new Set([1]) });
  assert.deepEqual([spec(r3.table, 0), spec(r3.table, 1)], ['', 'C:p D:l']);
  assert.equal(r3.table.termOf(1), 3);
  assert.equal(spec(advance(r2.table, T, NONE, aliveBut('A', 'B')).table, 0), 'C:p D:l', 'the default of the pure function re-creates');
});
