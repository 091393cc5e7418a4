import { keySlot } from '../hashing/slot.js';
import { diffTables } from '../partitioning/planner.js';
import type { PartitionTable } from '../partitioning/table.js';
import type { AssignedPartition, LocateResponse, NodeAssignment } from '../protocol/control.js';

/** Where a key lives in `table` (GET /v1/locate/{key}). Pure. */
export function locate(table: PartitionTable, key: string): LocateResponse {
  const slot = keySlot(key);
  const partition = table.partitionOfSlot(slot);
  const ref = (id: string) => {
    const m = table.member(id)!;
    return { id: m.id, name: m.name, address: m.address };
  };
  const [primary, ...backups] = table.replicasOf(partition);
  return { key, slot, partition, primary: primary === undefined ? null : ref(primary), backups: backups.map(ref), epoch: table.epoch };
}

/**
 * What `memberId` must do to go from `old` (null: it holds nothing) to `next`, derived with diffTables: every
 * partition it holds at `next` by role, with the member to fetch it from when it is new to this member (null when it
 * already holds a copy, e.g. a backup promoted to primary), and the partitions to evict. Pure.
 */
export function assignmentFor(memberId: string, old: PartitionTable | null, next: PartitionTable): NodeAssignment {
  const plan = diffTables(old, next);
  const fetchFrom = new Map<number, string | null>();
  for (const m of plan.moves) if (m.to === memberId) fetchFrom.set(m.partition, m.from === memberId ? null : m.from);
  const heldBefore = (p: number) => old !== null && old.replicasOf(p).includes(memberId);
  const { primary, backup } = next.partitionsOf(memberId);
  const entry = (p: number): AssignedPartition => ({ partition: p, fetchFrom: heldBefore(p) ? null : (fetchFrom.get(p) ?? null) });
  return {
    memberId,
    fromEpoch: old?.epoch ?? 0,
    epoch: next.epoch,
    primary: primary.map(entry),
    backup: backup.map(entry),
    evict: plan.evictions.filter((e) => e.member === memberId).map((e) => e.partition),
  };
}
