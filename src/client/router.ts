import { keySlot } from '../hashing/slot.js';
import type { PartitionTable } from '../partitioning/table.js';
import type { Member } from '../partitioning/member.js';

/** Where a key lives in one table: its slot, partition, replica set and epoch. */
export interface KeyLocation {
  readonly key: string;
  readonly slot: number;
  readonly partition: number;
  /** The primary member, or null when the partition has no owner. */
  readonly primary: Member | null;
  readonly backups: readonly Member[];
  readonly epoch: number;
}

/** The key's slot (Redis Cluster CRC16 with hash tags). */
export function slotOf(key: string | Buffer): number {
  return keySlot(key);
}

/** Full location of a key in `table` (for locate() and the demo; the hot path uses table.primaryOfSlot directly). */
export function locateKey(table: PartitionTable, key: string): KeyLocation {
  const slot = keySlot(key);
  const partition = table.partitionOfSlot(slot);
  const ids = table.replicasOf(partition);
  const members = ids.map((id) => table.member(id)).filter((m): m is Member => m !== undefined);
  return { key, slot, partition, primary: members[0] ?? null, backups: members.slice(1), epoch: table.epoch };
}

/**
 * Groups item indexes by slot, keeping each group's indexes in input order: mget/mset send one command per slot
 * (a node refuses multi-key commands across slots with CROSSSLOT), then reassemble the replies by index.
 */
export function groupBySlot(keys: readonly string[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  keys.forEach((k, i) => {
    const s = keySlot(k);
    let g = groups.get(s);
    if (!g) groups.set(s, (g = []));
    g.push(i);
  });
  return groups;
}
