// INTERIM placeholder with the final signatures, so other components can build against them.
// The placement work (issue 2) replaces the body with the ring + balanced planner.
import type { RingleaderError } from '../shared/errors.js';
import { COMMON_ERRORS, errorFrom } from '../protocol/errors/index.js';
import { isPlaceable, type Member } from './member.js';
import { PartitionTable } from './table.js';

export type PlacementStrategy = 'balanced' | 'consistent';

export interface PlannerOptions {
  /** 'balanced' (default): sticky, minimal moves, exact balance. 'consistent': the seed's bounded-load ring. */
  strategy: PlacementStrategy;
  /** Number of partitions P, 1..16384. */
  partitionCount: number;
  /** Total copies per partition (primary + backups), >= 1. */
  replicas: number;
  /** Virtual nodes per member on the ring. */
  virtualNodes: number;
  /** Load cap = ceil(average * loadFactor); > 1. */
  loadFactor: number;
}

export const DEFAULT_PLANNER_OPTIONS: Readonly<PlannerOptions> = Object.freeze({
  strategy: 'balanced',
  partitionCount: 271,
  replicas: 2,
  virtualNodes: 20,
  loadFactor: 1.25,
});

export function resolvePlannerOptions(options: Partial<PlannerOptions> = {}): PlannerOptions {
  const o = { ...DEFAULT_PLANNER_OPTIONS, ...options };
  if (!Number.isInteger(o.partitionCount) || o.partitionCount < 1 || o.partitionCount > 16384) throw new TypeError(`partitionCount must be an integer in 1..16384, got ${o.partitionCount}`);
  if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 8) throw new TypeError(`replicas must be an integer in 1..8, got ${o.replicas}`);
  return o;
}

export interface PlanResult {
  table: PartitionTable;
  /** Set when the options could not be fully met (e.g. replicas > members); the table holds what could be placed. */
  shortfall: RingleaderError | null;
}

export interface PartitionMove {
  partition: number;
  /** The member that now holds the partition in `role`. */
  to: string;
  role: 'primary' | 'backup';
  /** A member holding the data to copy from (may equal `to` for a local promotion), or null if none survives. */
  from: string | null;
}

export interface PartitionEviction {
  partition: number;
  member: string;
}

export interface MigrationPlan {
  fromEpoch: number;
  toEpoch: number;
  moves: PartitionMove[];
  evictions: PartitionEviction[];
}

export function planTable(previous: PartitionTable | null, members: readonly Member[], options: Partial<PlannerOptions> = {}): PlanResult {
  const o = resolvePlannerOptions(options);
  const eligible = members.filter(isPlaceable).map((m) => m.id).sort();
  const partitions: string[][] = [];
  for (let p = 0; p < o.partitionCount; p++) {
    const set: string[] = [];
    for (let r = 0; r < Math.min(o.replicas, eligible.length); r++) set.push(eligible[(p + r) % eligible.length]!);
    partitions.push(set);
  }
  const shortfall = eligible.length < o.replicas ? errorFrom(COMMON_ERRORS.INVALID_OPTION, `replicas ${o.replicas} > members ${eligible.length}`) : null;
  return {
    table: PartitionTable.trusted({ epoch: (previous?.epoch ?? 0) + 1, partitionCount: o.partitionCount, replicas: o.replicas, members: members.map((m) => ({ ...m })), partitions }),
    shortfall,
  };
}

export function diffTables(old: PartitionTable | null, next: PartitionTable): MigrationPlan {
  const moves: PartitionMove[] = [];
  const evictions: PartitionEviction[] = [];
  for (let p = 0; p < next.partitionCount; p++) {
    const before = old?.replicasOf(p) ?? [];
    const after = next.replicasOf(p);
    after.forEach((id, i) => {
      const role = i === 0 ? 'primary' : 'backup';
      const had = before.indexOf(id);
      if (had === i || (had > 0 && i > 0)) return;
      const from = had >= 0 ? id : (before.find((b) => next.member(b) && after.includes(b)) ?? before[0] ?? null);
      moves.push({ partition: p, to: id, role, from });
    });
    for (const id of before) if (!after.includes(id)) evictions.push({ partition: p, member: id });
  }
  return { fromEpoch: old?.epoch ?? 0, toEpoch: next.epoch, moves, evictions };
}
