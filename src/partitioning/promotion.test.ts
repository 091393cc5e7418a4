// Failover promotes the freshest fenced copy (issue 9, "Promotion"): advance()'s `fenced` answers and
// pendingFailovers(), table-driven and as fast-check properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CopyState, TableJson } from '../protocol/control.js';
import { advance, pendingFailovers, type CopyReportEntry, type CopyReports, type FenceAnswer, type FenceAnswers } from './copy-states.js';
import { memberIdFor } from './member.js';
import { COPY_STATE_RANK, PartitionTable } from './table.js';

const NAMES = ['A', 'B', 'C', 'D', 'E'] as const;
type Name = (typeof NAMES)[number];
const ID = Object.fromEntries(NAMES.map((n) => [n, memberIdFor(n)])) as Record<Name, string>;
const NAME = new Map(NAMES.map((n) => [ID[n], n]));
const MEMBERS = NAMES.map((n, i) => ({ id: ID[n], name: n, address: `127.0.0.1:${7000 + i}`, zone: null, capacity: 1, state: 'active' as const })).sort((a, b) => (a.id < b.id ? -1 : 1));
const CODE: Record<string, CopyState> = { p: 'primary', b: 'backup', l: 'learner', h: 'handing-off' };
const ALL = new Set(NAMES.map((n) => ID[n]));
const aliveBut = (...gone: Name[]) => new Set([...ALL].filter((id) => !gone.includes(NAME.get(id)!)));
const NONE: CopyReports = new Map();

/** One partition from a compact spec ('A:p B:b C:l D:h'), at `term`. */
function current(spec: string, term: number): PartitionTable {
  const cs = spec.split(' ').filter(Boolean).map((c) => c.split(':') as [Name, string]);
  const json: TableJson = { format: 2, epoch: 3, partitionCount: 1, replicas: 3, members: MEMBERS, partitions: [cs.map(([n]) => ID[n])], states: [cs.map(([, s]) => CODE[s]!)], terms: [term] };
  return PartitionTable.fromJSON(json);
}

const target = (names: Name[]) => PartitionTable.trusted({ epoch: 1, partitionCount: 1, replicas: 3, members: MEMBERS, partitions: [names.map((n) => ID[n])] });

/** Answers for partition 0: 'B=1/10' (complete), 'C=1/12~' (incomplete). */
function answers(...specs: string[]): FenceAnswers {
  const m = new Map<string, FenceAnswer>();
  for (const s of specs) {
    const [, n, term, offset, inc] = /^([A-E])=(\d+)\/(\d+)(~?)$/.exec(s)!;
    m.set(ID[n as Name], { term: Number(term), offset: Number(offset), complete: inc !== '~' });
  }
  return new Map([[0, m]]);
}

const CASES: Array<{ name: string; spec: string; tgt: Name[]; dead: Name[]; fenced: string[]; primary: Name | null }> = [
  { name: 'the higher offset wins', spec: 'A:p B:b C:b', tgt: ['A', 'B', 'C'], dead: ['A'], fenced: ['B=4/10', 'C=4/12'], primary: 'C' },
  { name: 'a tie goes to target order', spec: 'A:p B:b C:b', tgt: ['A', 'B', 'C'], dead: ['A'], fenced: ['B=4/10', 'C=4/10'], primary: 'B' },
  { name: 'a tie goes to target order (other order)', spec: 'A:p B:b C:b', tgt: ['A', 'C', 'B'], dead: ['A'], fenced: ['B=4/10', 'C=4/10'], primary: 'C' },
  { name: 'a newer term beats a higher offset', spec: 'A:p B:b C:b', tgt: ['A', 'B', 'C'], dead: ['A'], fenced: ['B=4/3', 'C=3/50'], primary: 'B' },
  { name: 'an incomplete copy is not chosen over a complete one', spec: 'A:p B:b C:b', tgt: ['A', 'B', 'C'], dead: ['A'], fenced: ['B=4/10', 'C=4/12~'], primary: 'B' },
  { name: 'only the complete answer counts; the silent copy is passed over', spec: 'A:p B:b C:b', tgt: ['A', 'B', 'C'], dead: ['A'], fenced: ['C=4/2'], primary: 'C' },
  { name: 'no answer at all: the fallback order (target order)', spec: 'A:p B:b C:b', tgt: ['A', 'C', 'B'], dead: ['A'], fenced: [], primary: 'C' },
  { name: 'only incomplete answers: a copy that did not answer first', spec: 'A:p B:b C:b', tgt: ['A', 'B', 'C'], dead: ['A'], fenced: ['B=4/10~'], primary: 'C' },
  { name: 'every answer incomplete: the fallback order', spec: 'A:p B:b C:b', tgt: ['A', 'B', 'C'], dead: ['A'], fenced: ['B=4/10~', 'C=4/12~'], primary: 'B' },
  { name: 'a learner is never promoted, however fresh it says it is', spec: 'A:p B:b D:l', tgt: ['A', 'B', 'D'], dead: ['A'], fenced: ['B=4/1', 'D=4/99'], primary: 'B' },
  { name: 'with only learners left, no primary', spec: 'A:p D:l', tgt: ['A', 'D'], dead: ['A'], fenced: ['D=4/99'], primary: null },
  { name: 'a handing-off copy fresher than the backup is promoted', spec: 'B:p C:b A:h', tgt: ['B', 'C'], dead: ['B'], fenced: ['C=5/7', 'A=5/9'], primary: 'A' },
  { name: 'a dead backup answering (stale entry) is not a candidate', spec: 'A:p B:b C:b', tgt: ['A', 'B', 'C'], dead: ['A', 'C'], fenced: ['B=4/1', 'C=4/99'], primary: 'B' },
  { name: 'an answer from a member without a copy is ignored', spec: 'A:p B:b', tgt: ['A', 'B'], dead: ['A'], fenced: ['B=4/1', 'E=4/99'], primary: 'B' },
];

for (const c of CASES) {
  test(`failover choice: ${c.name}`, () => {
    const cur = current(c.spec, 4);
    const r = advance(cur, target(c.tgt), NONE, aliveBut(...c.dead), { fenced: answers(...c.fenced) });
    const got = r.table.primaryOf(0);
    assert.equal(got === undefined ? null : NAME.get(got), c.primary);
    if (c.primary !== null) {
      assert.equal(r.table.termOf(0), 5);
      assert.equal(r.counts.failovers, 1);
    } else {
      assert.equal(r.counts.primariesLost, 1);
    }
  });
}

test('pendingFailovers: the partitions whose primary goes, the next term, candidates in fallback order, the replaced primary when alive', () => {
  assert.deepEqual(pendingFailovers(current('A:p B:b C:b D:l E:h', 4), target(['A', 'C', 'B']), NONE, aliveBut('A')), [
    { partition: 0, term: 5, candidates: [ID.C, ID.B, ID.E], replaced: null },
  ]);
  assert.deepEqual(pendingFailovers(current('A:p B:b', 4), target(['A', 'B']), NONE, ALL), [], 'nothing fails');
  assert.deepEqual(pendingFailovers(current('A:p D:l', 4), target(['A', 'D']), NONE, aliveBut('A')), [], 'no candidate and nobody to stop');
  const failed: CopyReports = new Map([[0, new Map<string, CopyReportEntry>([[ID.A, { term: 4, offset: 0, status: 'failed' }]])]]);
  assert.deepEqual(pendingFailovers(current('A:p B:b', 4), target(['A', 'B']), failed, ALL), [{ partition: 0, term: 5, candidates: [ID.B], replaced: ID.A }], 'a primary reported failed is replaced and fenced');
  assert.deepEqual(pendingFailovers(current('A:p B:b', 4), target(['A', 'B']), new Map([[0, new Map([[ID.A, { term: 3, offset: 0, status: 'failed' as const }]])]]), ALL), [], 'an old-term report changes nothing');
  // Sync mode: a backup its primary stopped waiting for is demoted first (rule 0): never a candidate, and never fenced.
  const outOfSync = new Map([[0, { term: 4, members: new Set([ID.B]) }]]);
  assert.deepEqual(pendingFailovers(current('A:p B:b C:b', 4), target(['A', 'B', 'C']), NONE, aliveBut('A'), { outOfSync }), [{ partition: 0, term: 5, candidates: [ID.C], replaced: null }]);
  const r = advance(current('A:p B:b C:b', 4), target(['A', 'B', 'C']), NONE, aliveBut('A'), { outOfSync, fenced: answers('B=4/99', 'C=4/1') });
  assert.equal(r.table.primaryOf(0), ID.C, 'the demoted copy is not promoted however fresh it says it is');
});

// ---- properties ---------------------------------------------------------------------------------------------

const P = 5;
const nameArb = fc.constantFrom(...NAMES);
/** A random valid partition: distinct members, an optional primary first, other states sorted by rank. */
const partArb = fc.record({
  members: fc.uniqueArray(nameArb, { maxLength: 5 }),
  primary: fc.boolean(),
  states: fc.array(fc.constantFrom<CopyState>('backup', 'learner', 'handing-off'), { minLength: 5, maxLength: 5 }),
  term: fc.integer({ min: 1, max: 5 }),
});
const answerArb = fc.option(fc.record({ term: fc.integer({ min: 0, max: 6 }), offset: fc.integer({ min: 0, max: 4 }), complete: fc.boolean() }), { nil: undefined });
const caseArb: fc.Arbitrary<Case> = fc.record({
  parts: fc.array(partArb, { minLength: P, maxLength: P }),
  targets: fc.array(fc.uniqueArray(nameArb, { maxLength: 3 }), { minLength: P, maxLength: P }),
  alive: fc.subarray([...NAMES]),
  answers: fc.array(fc.array(answerArb, { minLength: 5, maxLength: 5 }), { minLength: P, maxLength: P }),
});

interface Case {
  parts: Array<{ members: Name[]; primary: boolean; states: CopyState[]; term: number }>;
  targets: Name[][];
  alive: Name[];
  answers: Array<Array<FenceAnswer | undefined>>;
}

function build(k: Case) {
  const partitions: string[][] = [];
  const states: CopyState[][] = [];
  for (const part of k.parts) {
    const cs = part.members.map((n, i) => ({ id: ID[n], s: part.primary && i === 0 ? ('primary' as const) : part.states[i]! }));
    if (!part.primary) for (const c of cs) if (c.s === 'backup') c.s = 'learner'; // backups need a primary
    cs.sort((a, b) => COPY_STATE_RANK[a.s] - COPY_STATE_RANK[b.s]);
    partitions.push(cs.map((c) => c.id));
    states.push(cs.map((c) => c.s));
  }
  const cur = PartitionTable.fromJSON({ format: 2, epoch: 3, partitionCount: P, replicas: 3, members: MEMBERS, partitions, states, terms: k.parts.map((p) => p.term) });
  const tgt = PartitionTable.trusted({ epoch: 1, partitionCount: P, replicas: 3, members: MEMBERS, partitions: k.targets.map((s) => s.map((n) => ID[n])) });
  const fenced = new Map<number, Map<string, FenceAnswer>>();
  for (let p = 0; p < P; p++) {
    const m = new Map<string, FenceAnswer>();
    NAMES.forEach((n, i) => {
      const a = k.answers[p]![i];
      if (a !== undefined) m.set(ID[n], a);
    });
    fenced.set(p, m);
  }
  return { cur, tgt, alive: new Set(k.alive.map((n) => ID[n])), fenced };
}

const later = (a: FenceAnswer, b: FenceAnswer) => a.term > b.term || (a.term === b.term && a.offset > b.offset);

test('property: a failover promotes a candidate pendingFailovers named, the freshest complete one when any answered complete, never a learner', () => {
  fc.assert(
    fc.property(caseArb, (k) => {
      const { cur, tgt, alive, fenced } = build(k);
      const pending = new Map(pendingFailovers(cur, tgt, NONE, alive).map((f) => [f.partition, f]));
      const { table, counts } = advance(cur, tgt, NONE, alive, { fenced });
      let failovers = 0;
      for (let p = 0; p < P; p++) {
        const before = cur.primaryOf(p);
        const f = pending.get(p);
        // Failed over = the old primary's copy is gone (a hand-over keeps it as a backup or handing-off copy).
        const gone = before !== undefined && table.stateOf(p, before) === null;
        assert.equal(gone, f !== undefined || (before !== undefined && (!alive.has(before) || !tgt.members.some((m) => m.id === before))));
        if (!gone) continue;
        const now = table.primaryOf(p);
        if (f === undefined || f.candidates.length === 0) {
          // No candidate: the partition has no primary, or (its target primary held nothing) it was re-created empty.
          if (now !== undefined) assert.equal(table.termOf(p), cur.termOf(p) + 1);
          continue;
        }
        failovers++;
        assert.ok(now !== undefined && f.candidates.includes(now), `partition ${p}: promoted a named candidate`);
        const was = cur.stateOf(p, now);
        assert.ok(was === 'backup' || was === 'handing-off', `partition ${p}: promoted a ${was}`);
        assert.equal(table.termOf(p), f.term);
        const complete = f.candidates.filter((id) => fenced.get(p)!.get(id)?.complete === true);
        if (complete.length > 0) {
          const mine = fenced.get(p)!.get(now)!;
          assert.ok(mine?.complete, `partition ${p}: a complete copy was available`);
          for (const id of complete) assert.ok(!later(fenced.get(p)!.get(id)!, mine), `partition ${p}: ${NAME.get(id)} was fresher than ${NAME.get(now)}`);
          // Ties: the first in fallback order.
          const first = complete.find((id) => !later(mine, fenced.get(p)!.get(id)!));
          assert.equal(now, first);
        } else if (f.candidates.some((id) => !fenced.get(p)!.has(id))) {
          assert.ok(!fenced.get(p)!.has(now), 'no complete answer: a candidate that did not answer');
        }
      }
      assert.equal(counts.failovers, failovers);
    }),
    { numRuns: 500 },
  );
});

test('property: without answers the choice is the fallback order, and the same answers give the same table', () => {
  fc.assert(
    fc.property(caseArb, (k) => {
      const { cur, tgt, alive, fenced } = build(k);
      const plain = advance(cur, tgt, NONE, alive);
      for (const f of pendingFailovers(cur, tgt, NONE, alive)) {
        if (f.candidates.length > 0) assert.equal(plain.table.primaryOf(f.partition), f.candidates[0]);
      }
      assert.deepEqual(advance(cur, tgt, NONE, alive, { fenced: new Map() }).table.toJSON(), plain.table.toJSON());
      assert.deepEqual(advance(cur, tgt, NONE, alive, { fenced }).table.toJSON(), advance(cur, tgt, NONE, alive, { fenced }).table.toJSON());
    }),
    { numRuns: 300 },
  );
});
