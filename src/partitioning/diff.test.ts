import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffTables } from './diff.js';
import { memberIdFor, type Member } from './member.js';
import { PartitionTable } from './table.js';

const m = (name: string, state: Member['state'] = 'active'): Member => ({ id: memberIdFor(name), name, address: `${name}:7000`, zone: null, capacity: 1, state });
const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((n) => m(n)) as [Member, Member, Member, Member];
const table = (epoch: number, members: Member[], partitions: Member[][]) =>
  PartitionTable.fromJSON({ epoch, partitionCount: partitions.length, replicas: 2, members, partitions: partitions.map((s) => s.map((x) => x.id)) });

test('from nothing, every copy is a move with no source', () => {
  const next = table(1, [A, B], [[A, B], [B, A]]);
  const plan = diffTables(null, next);
  assert.deepEqual(plan.moves, [
    { partition: 0, to: A.id, role: 'primary', from: null },
    { partition: 0, to: B.id, role: 'backup', from: null },
    { partition: 1, to: B.id, role: 'primary', from: null },
    { partition: 1, to: A.id, role: 'backup', from: null },
  ]);
  assert.deepEqual(plan.evictions, []);
  assert.equal(plan.fromEpoch, 0);
  assert.equal(plan.toEpoch, 1);
});

test('a dead primary: its backup is promoted in place and a new backup copies from it', () => {
  const old = table(4, [A, B, C], [[A, B], [B, C], [C, A]]);
  const next = table(5, [{ ...A, state: 'dead' }, B, C], [[B, C], [B, C], [C, B]]);
  const plan = diffTables(old, next);
  assert.deepEqual(plan.moves, [
    { partition: 0, to: B.id, role: 'primary', from: B.id },
    { partition: 0, to: C.id, role: 'backup', from: B.id },
    { partition: 2, to: B.id, role: 'backup', from: C.id },
  ]);
  assert.deepEqual(plan.evictions, [
    { partition: 0, member: A.id },
    { partition: 2, member: A.id },
  ]);
});

test('a leaving member is the preferred source while it still answers; a suspect comes last', () => {
  const old = table(1, [A, B, C, D], [[A, B], [C, D]]);
  const next = table(2, [{ ...A, state: 'leaving' }, { ...B, state: 'suspect' }, C, { ...D, state: 'suspect' }], [[C, B], [C, D]]);
  const plan = diffTables(old, next);
  assert.deepEqual(plan.moves.filter((x) => x.partition === 0), [{ partition: 0, to: C.id, role: 'primary', from: A.id }]);
  const swapped = table(3, [A, B, C, D], [[B, A], [D, C]]);
  assert.deepEqual(diffTables(old, swapped).moves, [
    { partition: 0, to: B.id, role: 'primary', from: B.id },
    { partition: 0, to: A.id, role: 'backup', from: A.id },
    { partition: 1, to: D.id, role: 'primary', from: D.id },
    { partition: 1, to: C.id, role: 'backup', from: C.id },
  ]);
});

test('no surviving holder: the move says so with from = null', () => {
  const old = table(1, [A, B, C], [[A, B]]);
  const next = table(2, [C], [[C]]);
  assert.deepEqual(diffTables(old, next).moves, [{ partition: 0, to: C.id, role: 'primary', from: null }]);
});

test('an unchanged table needs nothing', () => {
  const t = table(1, [A, B], [[A, B], [B, A]]);
  const plan = diffTables(t, table(2, [A, B], [[A, B], [B, A]]));
  assert.deepEqual([plan.moves, plan.evictions], [[], []]);
});
