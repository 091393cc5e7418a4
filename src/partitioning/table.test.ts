import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TableJson } from '../protocol/control.js';
import { isRingleaderError } from '../shared/errors.js';
import { memberIdFor } from './member.js';
import { PartitionTable } from './table.js';

const A = memberIdFor('a');
const B = memberIdFor('b');
const C = memberIdFor('c');
const members = ['a', 'b', 'c'].map((n, i) => ({ id: memberIdFor(n), name: n, address: `127.0.0.1:${7001 + i}`, zone: null, capacity: 1, state: 'active' as const })).sort((x, y) => (x.id < y.id ? -1 : 1));
const v1: TableJson = { epoch: 3, partitionCount: 2, replicas: 2, members, partitions: [[A, B], []] };
const v2: TableJson = { format: 2, epoch: 4, partitionCount: 2, replicas: 2, members, partitions: [[A, B, C], [B]], states: [['primary', 'backup', 'learner'], ['handing-off']], terms: [3, 2] };

const tableInvalid = (json: unknown, re: RegExp) =>
  assert.throws(() => PartitionTable.fromJSON(json), (e: unknown) => isRingleaderError(e) && e.code === 'TABLE_INVALID' && re.test(e.message));

test('a format-1 table still reads: primary first, backups after, term 1 with a primary and 0 without; toJSON writes format 2', () => {
  const t = PartitionTable.fromJSON(v1);
  assert.deepEqual(t.copiesOf(0), [{ member: A, state: 'primary' }, { member: B, state: 'backup' }]);
  assert.equal(t.termOf(0), 1);
  assert.equal(t.termOf(1), 0);
  assert.equal(t.primaryOf(1), undefined);
  assert.deepEqual(t.toJSON(), { ...v1, format: 2, states: [['primary', 'backup'], []], terms: [1, 0] });
  assert.deepEqual(PartitionTable.fromJSON(t.toJSON()).toJSON(), t.toJSON());
});

test('format 2: replicasOf is the serving set only; learners and handing-off copies are listed apart', () => {
  const t = PartitionTable.fromJSON(v2);
  assert.deepEqual(t.replicasOf(0), [A, B]);
  assert.deepEqual(t.replicasOf(1), []);
  assert.equal(t.primaryOf(0), A);
  assert.equal(t.primaryOf(1), undefined);
  assert.equal(t.primaryOfSlot(t.slotRange(1)[0]), undefined, 'no primary: no owner of its slots');
  assert.equal(t.primaryOfSlot(0)?.id, A);
  assert.deepEqual(t.learnersOf(0), [C]);
  assert.equal(t.stateOf(0, C), 'learner');
  assert.equal(t.stateOf(1, A), null);
  assert.equal(t.termOf(0), 3);
  assert.deepEqual(t.partitionsOf(C), { primary: [], backup: [], learner: [0], handingOff: [] });
  assert.deepEqual(t.partitionsOf(B), { primary: [], backup: [0], learner: [], handingOff: [1] });
  assert.deepEqual(t.toJSON(), v2);
});

test('format 2 validation: states parallel to partitions, at most one primary at index 0, ordered states, terms', () => {
  const bad = (patch: Partial<TableJson>) => ({ ...v2, ...patch });
  tableInvalid(bad({ states: [['backup', 'primary', 'learner'], ['handing-off']] }), /primary must be the first/);
  tableInvalid(bad({ states: [['primary', 'primary', 'learner'], ['handing-off']] }), /primary must be the first/);
  tableInvalid(bad({ states: [['primary', 'learner', 'backup'], ['handing-off']] }), /ordered/);
  tableInvalid(bad({ states: [['primary', 'backup'], ['handing-off']] }), /3 copies and 2 states/);
  tableInvalid(bad({ states: [['primary', 'backup', 'learner']] }), /1 state lists for 2/);
  tableInvalid(bad({ partitions: [[A, B, C], [B]], states: [['backup', 'backup', 'learner'], ['handing-off']] }), /backups but no primary/);
  tableInvalid(bad({ terms: [0, 2] }), /primary at term 0/);
  tableInvalid(bad({ terms: [3] }), /1 terms for 2/);
  tableInvalid(bad({ terms: [1.5, 2] }), /terms/);
  tableInvalid(bad({ terms: [-1, 2] }), /terms/);
  tableInvalid(bad({ states: [['primary', 'backup', 'owner' as never], ['handing-off']] }), /states/);
  tableInvalid(bad({ terms: undefined }), /go together/);
  tableInvalid({ ...v1, format: 2 }, /format 2 needs/);
  tableInvalid({ ...v2, format: 1 }, /format 1/);
  tableInvalid(bad({ partitions: [[A, B, A], [B]] }), /twice/);
  tableInvalid(bad({ partitions: [Array.from({ length: 17 }, () => A), [B]] }), /partitions/);
  tableInvalid({ ...v1, partitions: [[A, B, C], []] }, /more than 2/);
});

test('garbage is refused with TABLE_INVALID, never a crash', () => {
  fc.assert(
    fc.property(fc.anything(), (junk) => {
      try {
        PartitionTable.fromJSON(junk);
      } catch (e) {
        assert.ok(isRingleaderError(e) && (e.code === 'TABLE_INVALID' || e.code === 'DUPLICATE_MEMBER_NAME'), String(e));
      }
    }),
  );
  fc.assert(
    fc.property(fc.record({ states: fc.anything(), terms: fc.anything() }), (patch) => {
      assert.throws(() => PartitionTable.fromJSON({ ...v2, ...patch }), (e: unknown) => isRingleaderError(e) && e.code === 'TABLE_INVALID');
    }),
  );
});
