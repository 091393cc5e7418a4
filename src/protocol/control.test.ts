import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { COPY_STATES, applyTableDelta, tableDelta, v1States, v1Term, type MemberJson, type TableJson } from './control.js';

const id = (n: number) => n.toString(16).padStart(40, '0');
const member = (n: number, state: MemberJson['state'] = 'active', capacity = 1): MemberJson => ({ id: id(n), name: `m${n}`, address: `127.0.0.1:${7000 + n}`, zone: null, capacity, state });

const tableArb = (epoch: number) =>
  fc
    .record({
      ids: fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }),
      states: fc.array(fc.constantFrom<MemberJson['state']>('joining', 'active', 'suspect', 'leaving'), { minLength: 12, maxLength: 12 }),
      picks: fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 16, maxLength: 16 }),
      copyStates: fc.array(fc.array(fc.constantFrom(...COPY_STATES), { minLength: 3, maxLength: 3 }), { minLength: 16, maxLength: 16 }),
      terms: fc.array(fc.nat({ max: 3 }), { minLength: 16, maxLength: 16 }),
    })
    .map(({ ids, states, picks, copyStates, terms }): TableJson => {
      const members = [...ids].sort((a, b) => a - b).map((n, i) => member(n, states[i]));
      const partitions = picks.map((ps) => [...new Set(ps.map((p) => members[p % members.length]!.id))]);
      return { format: 2, epoch, partitionCount: 16, replicas: 2, members, partitions, states: partitions.map((set, p) => set.map((_, i) => copyStates[p]![i]!)), terms };
    });

test('applying tableDelta(prev, next) to prev gives next exactly', () => {
  fc.assert(
    fc.property(tableArb(4), tableArb(5), (prev, next) => {
      const d = tableDelta(prev, next)!;
      assert.deepEqual(applyTableDelta(prev, d), next);
    }),
  );
});

test('a format-1 table reads as primary-then-backups at term 1, and a delta from it gives the format-2 table', () => {
  fc.assert(
    fc.property(tableArb(4), tableArb(5), (prev2, next) => {
      const prev: TableJson = { epoch: prev2.epoch, partitionCount: prev2.partitionCount, replicas: prev2.replicas, members: prev2.members, partitions: prev2.partitions };
      const d = tableDelta(prev, next)!;
      assert.deepEqual(applyTableDelta(prev, d), next);
      // A format-1 delta (an older coordinator) applies with format-1 states.
      const old = { ...d, states: undefined, terms: undefined };
      const got = applyTableDelta(prev, old);
      got.partitions.forEach((set, p) => {
        assert.deepEqual(got.states![p], v1States(set));
        assert.equal(got.terms![p], v1Term(set));
      });
    }),
  );
});

test('a change of state or term alone is in the delta', () => {
  const prev: TableJson = { format: 2, epoch: 1, partitionCount: 2, replicas: 2, members: [member(1), member(2)], partitions: [[id(1), id(2)], [id(2)]], states: [['primary', 'learner'], ['primary']], terms: [1, 1] };
  const next: TableJson = { ...prev, epoch: 2, states: [['primary', 'backup'], ['primary']], terms: [1, 2] };
  const d = tableDelta(prev, next)!;
  assert.deepEqual(d.partitions, [[0, [id(1), id(2)]], [1, [id(2)]]]);
  assert.deepEqual(d.states, [['primary', 'backup'], ['primary']]);
  assert.deepEqual(d.terms, [1, 2]);
  assert.deepEqual(applyTableDelta(prev, d), next);
});

test('a delta carries only what changed', () => {
  const prev: TableJson = { epoch: 1, partitionCount: 4, replicas: 1, members: [member(1), member(2)], partitions: [[id(1)], [id(1)], [id(2)], [id(2)]] };
  const next: TableJson = { epoch: 2, partitionCount: 4, replicas: 1, members: [member(1), member(2, 'suspect'), member(3)], partitions: [[id(1)], [id(3)], [id(2)], [id(2)]] };
  const d = tableDelta(prev, next)!;
  assert.deepEqual(d.upsertMembers.map((m) => m.name), ['m2', 'm3']);
  assert.deepEqual(d.removeMembers, []);
  assert.deepEqual(d.partitions, [[1, [id(3)]]]);
  assert.throws(() => applyTableDelta({ ...prev, epoch: 0 }, d), RangeError);
});

test('no delta when the partition count changes or members are not in id order', () => {
  const t: TableJson = { epoch: 1, partitionCount: 2, replicas: 1, members: [member(2), member(1)], partitions: [[], []] };
  assert.equal(tableDelta(t, { ...t, epoch: 2 }), null);
  assert.equal(tableDelta({ ...t, members: [] }, { ...t, members: [], partitionCount: 1, partitions: [[]] }), null);
});
