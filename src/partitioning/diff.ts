import type { MemberState } from '../protocol/control.js';
import type { PartitionTable } from './table.js';

export interface PartitionMove {
  partition: number;
  /** The member that now holds the partition in `role`. */
  to: string;
  role: 'primary' | 'backup';
  /**
   * Where `to` gets the data: `to` itself when it already held a copy (a local promotion or demotion), else a
   * surviving member that held it in the old table (the old primary first, suspects last), or null if none survives.
   */
  from: string | null;
}

export interface PartitionEviction {
  partition: number;
  member: string;
}

export interface MigrationPlan {
  fromEpoch: number;
  toEpoch: number;
  /** Every (partition, member) whose role changed or that is new to the member, in partition then replica order. */
  moves: PartitionMove[];
  /** Copies held in the old table and not in the new one: the member drops them once the handover is confirmed. */
  evictions: PartitionEviction[];
}

/** States whose members still hold their data and answer: a source for copies. */
const SOURCE_RANK: Readonly<Partial<Record<MemberState, number>>> = { active: 0, leaving: 0, joining: 0, suspect: 1 };

/**
 * What changes from `old` (null: nothing placed yet) to `next`, per partition: who must fetch which copy from whom,
 * who changes role in place, and who evicts. A move with from !== to is a data transfer; the count of those is what
 * the placement bench reports as "moved". Pure.
 */
export function diffTables(old: PartitionTable | null, next: PartitionTable): MigrationPlan {
  const moves: PartitionMove[] = [];
  const evictions: PartitionEviction[] = [];
  const comparable = old !== null && old.partitionCount === next.partitionCount;
  for (let p = 0; p < next.partitionCount; p++) {
    const before = comparable ? old.replicasOf(p) : [];
    const after = next.replicasOf(p);
    let source: string | null | undefined;
    after.forEach((id, i) => {
      const role = i === 0 ? 'primary' : 'backup';
      const had = before.indexOf(id);
      if (had === i || (had > 0 && i > 0)) return;
      if (had >= 0) {
        moves.push({ partition: p, to: id, role, from: id });
        return;
      }
      source ??= sourceOf(before, next);
      moves.push({ partition: p, to: id, role, from: source });
    });
    for (const id of before) if (!after.includes(id)) evictions.push({ partition: p, member: id });
  }
  // A different partition count re-cuts the slot ranges: every old copy is evicted.
  if (old !== null && !comparable) {
    for (let p = 0; p < old.partitionCount; p++) for (const id of old.replicasOf(p)) evictions.push({ partition: p, member: id });
  }
  return { fromEpoch: old?.epoch ?? 0, toEpoch: next.epoch, moves, evictions };
}

function sourceOf(before: readonly string[], next: PartitionTable): string | null {
  let best: string | null = null;
  let bestRank = Infinity;
  for (const id of before) {
    const state = next.member(id)?.state;
    const rank = state === undefined ? undefined : SOURCE_RANK[state];
    if (rank !== undefined && rank < bestRank) {
      best = id;
      bestRank = rank;
    }
  }
  return best;
}
