import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionTable, memberIdFor } from '../partitioning/index.js';
import { ClusterView, standaloneTable } from './cluster-view.js';

const A = memberIdFor('a');
const B = memberIdFor('b');
const C = memberIdFor('c');
const members = [
  { id: A, name: 'a', address: '127.0.0.1:7001', zone: null, capacity: 1, state: 'active' as const },
  { id: B, name: 'b', address: '127.0.0.1:7002', zone: null, capacity: 1, state: 'active' as const },
  { id: C, name: 'c', address: '127.0.0.1:7003', zone: null, capacity: 1, state: 'dead' as const },
];

function table(epoch: number, partitions: string[][]): PartitionTable {
  return PartitionTable.fromJSON({ epoch, partitionCount: partitions.length, replicas: 2, members, partitions });
}

test('ranges merge contiguous partitions with the same replica set', () => {
  const v = new ClusterView(A);
  v.apply(table(1, [[A, B], [A, B], [B, A], [A, B]]));
  const r = v.ranges().map((x) => [x.first, x.last, x.members.map((m) => m.name).join('')]);
  assert.deepEqual(r, [[0, 8191, 'ab'], [8192, 12287, 'ba'], [12288, 16383, 'ab']]);
  assert.equal(v.assignedSlots(), 16384);
});

test('MOVED names the primary of the slot; the owned map follows the table', () => {
  const v = new ClusterView(A);
  assert.equal(v.movedReply(0), null, 'no table yet');
  v.apply(table(1, [[A, B], [B, A]]));
  assert.deepEqual([...v.owned], [1, 0]);
  assert.equal(v.movedReply(9000), 'MOVED 9000 127.0.0.1:7002');
});

test('apply ignores stale epochs and reports partitions released', () => {
  const v = new ClusterView(A);
  v.apply(table(2, [[A, B], [B, A], [B]]));
  assert.equal(v.apply(table(2, [[B], [B], [B]])), null);
  assert.equal(v.apply(table(1, [[B], [B], [B]])), null);
  const change = v.apply(table(3, [[B, A], [B], [A]]))!;
  assert.deepEqual(change.released, [1]);
  assert.deepEqual(change.gainedPrimary, [2]);
  assert.equal(v.epoch, 3);
});

test('CLUSTER NODES: one line per member ending with a newline, myself and fail flags, slots of primaries', () => {
  const v = new ClusterView(A);
  v.apply(table(5, [[A, B], [B, A]]));
  const lines = v.nodesText().split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines[0], `${A} 127.0.0.1:7001@17001 myself,master - 0 0 5 connected 0-8191`);
  assert.equal(lines[1], `${B} 127.0.0.1:7002@17002 master - 0 0 5 connected 8192-16383`);
  assert.equal(lines[2], `${C} 127.0.0.1:7003@17003 master,fail - 0 0 5 disconnected`);
});

test('a standalone table owns every slot', () => {
  const v = new ClusterView(memberIdFor('solo'));
  v.apply(standaloneTable('solo', '127.0.0.1:9', 16));
  assert.ok(v.owned.every((x) => x === 1));
  assert.equal(v.ranges().length, 1);
});

test('CLUSTER NODES merges adjacent ranges of one primary that differ only in backups', () => {
  const v = new ClusterView(A);
  v.apply(table(6, [[A, B], [A, C], [B, A], [A, B]]));
  const lines = v.nodesText().split('\n');
  assert.equal(lines[0], `${A} 127.0.0.1:7001@17001 myself,master - 0 0 6 connected 0-8191 12288-16383`);
  assert.equal(lines[1], `${B} 127.0.0.1:7002@17002 master - 0 0 6 connected 8192-12287`);
});
