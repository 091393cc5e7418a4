import { boundedLoadPlacement, type Hash64 } from '../hashing/index.js';
import { COMMON_ERRORS, PLACEMENT_ERRORS, errorFrom } from '../protocol/errors/index.js';
import type { RingleaderError } from '../shared/errors.js';
import { balance } from './balanced.js';
import { isPlaceable, type Member } from './member.js';
import { MAX_PARTITIONS } from './partitions.js';
import { PartitionTable } from './table.js';

export { diffTables, type MigrationPlan, type PartitionMove, type PartitionEviction } from './diff.js';

export type PlacementStrategy = 'balanced' | 'consistent';
export const PLACEMENT_STRATEGIES: readonly PlacementStrategy[] = Object.freeze(['balanced', 'consistent']);

export interface PlannerOptions {
  /**
   * 'balanced' (default): sticky, minimal moves, every member within floor/ceil of its weighted share.
   * 'consistent': the seed's bounded-load ring; ignores the previous table, so a change moves what the ring moves.
   */
  strategy: PlacementStrategy;
  /** Number of partitions P, 1..16384. Changing it re-cuts slot ranges, so everything moves. */
  partitionCount: number;
  /** Total copies per partition (primary + backups), 1..8. More than the placeable members: a shortfall. */
  replicas: number;
  /**
   * Virtual nodes per member (per unit of capacity) on the ring. More evens out the ring (max/avg 1.25 cap is hit
   * less often) at O(N x V) hashing per ring build; 40 measured best for the price (docs/BENCHMARKS.md, placement).
   */
  virtualNodes: number;
  /** Bounded-load cap = ceil(fair share x loadFactor), > 1. Only the ring (strategy consistent, first placement) uses it. */
  loadFactor: number;
  /** 64-bit hash for ring positions; undefined means xxhash64. Tests inject one to force collisions. */
  hash?: Hash64 | undefined;
}

export const DEFAULT_PLANNER_OPTIONS: Readonly<PlannerOptions> = Object.freeze({
  strategy: 'balanced',
  partitionCount: 271,
  replicas: 2,
  virtualNodes: 40,
  loadFactor: 1.25,
});

/** Merges `options` over the defaults and validates; throws a TypeError naming the bad option. */
export function resolvePlannerOptions(options: Partial<PlannerOptions> = {}): PlannerOptions {
  const o: PlannerOptions = { ...DEFAULT_PLANNER_OPTIONS, ...options };
  if (!PLACEMENT_STRATEGIES.includes(o.strategy)) throw new TypeError(`strategy must be one of ${PLACEMENT_STRATEGIES.join(', ')}, got ${String(o.strategy)}`);
  if (!Number.isInteger(o.partitionCount) || o.partitionCount < 1 || o.partitionCount > MAX_PARTITIONS) throw new TypeError(`partitionCount must be an integer in 1..${MAX_PARTITIONS}, got ${o.partitionCount}`);
  if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 8) throw new TypeError(`replicas must be an integer in 1..8, got ${o.replicas}`);
  if (!Number.isInteger(o.virtualNodes) || o.virtualNodes < 1 || o.virtualNodes > 10000) throw new TypeError(`virtualNodes must be an integer in 1..10000, got ${o.virtualNodes}`);
  if (typeof o.loadFactor !== 'number' || !Number.isFinite(o.loadFactor) || o.loadFactor <= 1 || o.loadFactor > 100) throw new TypeError(`loadFactor must be a number in (1, 100], got ${o.loadFactor}`);
  if (o.hash !== undefined && typeof o.hash !== 'function') throw new TypeError('hash must be a function (bytes) => bigint');
  return o;
}

export interface PlanResult {
  table: PartitionTable;
  /** Set (REPLICAS_SHORTFALL) when the options could not be fully met; the table holds what could be placed. */
  shortfall: RingleaderError | null;
}

/**
 * The next partition table for `members`, from `previous` (null: first placement). Places copies only on members
 * in a placeable state (joining, active, suspect); the table lists every member given, sorted by id. Pure and
 * deterministic: the same previous table, member set (in any order) and options give a byte-identical table.
 * Throws a TypeError for bad options and a RingleaderError (TABLE_INVALID, DUPLICATE_MEMBER_NAME) for a member
 * list that can never form a table; an unsatisfiable replica count is reported in `shortfall`, not thrown.
 */
export function planTable(previous: PartitionTable | null, members: readonly Member[], options: Partial<PlannerOptions> = {}): PlanResult {
  const o = resolvePlannerOptions(options);
  const all = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  checkMembers(all);
  const placeable = all.filter(isPlaceable);
  const N = placeable.length;
  const P = o.partitionCount;
  const copies = Math.min(o.replicas, N);
  const index = new Map(placeable.map((m, i) => [m.id, i]));

  let sets: number[][] | null = null;
  // The previous primary of each partition when it is still placeable, else -1 (it failed or is leaving).
  let previousPrimary: Int32Array | null = null;
  if (o.strategy === 'balanced' && previous !== null && previous.partitionCount === P) {
    sets = [];
    previousPrimary = new Int32Array(P).fill(-1);
    let survivors = 0;
    for (let p = 0; p < P; p++) {
      const set: number[] = [];
      const replicas = previous.replicasOf(p);
      for (const id of replicas) {
        const i = index.get(id);
        if (i !== undefined && !set.includes(i)) set.push(i);
      }
      const first = replicas.length > 0 ? index.get(replicas[0]!) : undefined;
      if (first !== undefined) previousPrimary[p] = first;
      survivors += set.length;
      sets.push(set);
    }
    // Nobody left from the previous table: start from the ring as for a first placement.
    if (survivors === 0) sets = previousPrimary = null;
  }
  sets ??= boundedLoadPlacement(placeable, { partitionCount: P, replicas: copies, virtualNodes: o.virtualNodes, loadFactor: o.loadFactor, hash: o.hash }).sets;

  let missing = P * (o.replicas - copies);
  if (o.strategy === 'balanced' && N > 0) {
    const zoneIds = new Map<string, number>();
    const zone = placeable.map((m) => {
      const key = m.zone ?? '';
      let z = zoneIds.get(key);
      if (z === undefined) zoneIds.set(key, (z = zoneIds.size));
      return z;
    });
    const result = balance({ ids: placeable.map((m) => m.id), zone, weight: placeable.map((m) => m.capacity), copies, sets, previousPrimary });
    sets = result.sets;
    missing += result.missing;
  }

  const table = PartitionTable.trusted({
    epoch: (previous?.epoch ?? 0) + 1,
    partitionCount: P,
    replicas: o.replicas,
    members: all.map((m) => ({ ...m })),
    partitions: sets.map((set) => set.map((i) => placeable[i]!.id)),
  });
  const shortfall =
    missing > 0
      ? errorFrom(PLACEMENT_ERRORS.REPLICAS_SHORTFALL, `placed ${P * o.replicas - missing} of ${P * o.replicas} copies: ${o.replicas} replicas wanted, ${N} placeable members`, {
          wantedCopies: P * o.replicas,
          missingCopies: missing,
          replicas: o.replicas,
          placeableMembers: N,
        })
      : null;
  return { table, shortfall };
}

function checkMembers(sorted: readonly Member[]): void {
  const names = new Map<string, Member>();
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.id === m.id) throw errorFrom(PLACEMENT_ERRORS.TABLE_INVALID, `member id ${m.id} is listed twice`);
    const other = names.get(m.name);
    if (other !== undefined) throw errorFrom(PLACEMENT_ERRORS.DUPLICATE_MEMBER_NAME, `member name ${m.name} is used by ${other.address} and ${m.address}`);
    names.set(m.name, m);
    if (!(typeof m.capacity === 'number' && m.capacity > 0 && Number.isFinite(m.capacity))) {
      throw errorFrom(COMMON_ERRORS.INVALID_OPTION, `member ${m.name} has capacity ${m.capacity}; it must be a finite number > 0`);
    }
  }
}
