import { HashRing, partitionKey } from './ring.js';
import { xxhash64, type Hash64 } from './xxhash64.js';

/** A member as bounded-load placement sees it. `zone` null means "no zone" (all such members share one group). */
export interface PlacementMember {
  readonly id: string;
  readonly zone: string | null;
  /** Relative weight (> 0): scales both the virtual node count and the load cap. */
  readonly capacity: number;
}

export interface BoundedLoadOptions {
  partitionCount: number;
  /** Copies per partition wanted (primary + backups). */
  replicas: number;
  /** Virtual nodes per unit of capacity. */
  virtualNodes: number;
  /** Cap per member = ceil(fair share x loadFactor), for primaries and for backups separately. */
  loadFactor: number;
  hash?: Hash64 | undefined;
}

export interface Placement {
  /** sets[p]: member indices (into the input array), primary first; distinct members. */
  sets: number[][];
  /** Copies that could not be placed (fewer members than replicas). */
  missing: number;
}

/** Virtual nodes of a member: round(virtualNodes x capacity), clamped to [1, 64 x virtualNodes]. */
export function virtualNodesFor(capacity: number, virtualNodes: number): number {
  return Math.min(64 * virtualNodes, Math.max(1, Math.round(virtualNodes * capacity)));
}

/**
 * Consistent hashing with bounded loads (the seed's algorithm): partition p hashes onto the ring and walks clockwise
 * to the first member under its cap ceil(share x loadFactor); backups keep walking, skipping members already in the
 * set, preferring a zone the set does not use yet. Pure and deterministic; needs no previous placement, so a member
 * change moves whatever the ring moves (see `balanced` in src/partitioning for the sticky planner).
 *
 * Constraints are relaxed in order when a full walk finds nobody: zone preference first, then the cap; distinctness
 * never. Cost: O(N x V log) to build the ring plus O(P x R x walk), the walk being short while loadFactor > 1.
 */
export function boundedLoadPlacement(members: readonly PlacementMember[], o: BoundedLoadOptions): Placement {
  const P = o.partitionCount;
  const N = members.length;
  const sets: number[][] = Array.from({ length: P }, () => []);
  if (N === 0) return { sets, missing: P * o.replicas };
  const copies = Math.min(o.replicas, N);
  const hash = o.hash ?? xxhash64;
  const ring = new HashRing(members.map((m) => ({ id: m.id, virtualNodes: virtualNodesFor(m.capacity, o.virtualNodes) })), hash);
  const totalWeight = members.reduce((s, m) => s + m.capacity, 0);
  const primaryCap = members.map((m) => Math.ceil(((P * m.capacity) / totalWeight) * o.loadFactor - 1e-9));
  const backupCap = members.map((m) => Math.ceil(((P * (copies - 1) * m.capacity) / totalWeight) * o.loadFactor - 1e-9));
  const zoneIds = new Map<string, number>();
  const zone = members.map((m) => {
    const key = m.zone ?? '';
    let z = zoneIds.get(key);
    if (z === undefined) zoneIds.set(key, (z = zoneIds.size));
    return z;
  });
  const zoneCount = zoneIds.size;
  const primaries = new Int32Array(N);
  const backups = new Int32Array(N);
  const size = ring.size;
  const owners = ring.owners;
  // Members still under their cap, per zone and role: a walk is only started when it can succeed, so a
  // constraint nobody can meet (e.g. a lone zone already full) never costs a full turn of the ring per partition.
  const openPrimary = new Int32Array(zoneCount);
  const openBackup = new Int32Array(zoneCount);
  for (let m = 0; m < N; m++) {
    if (primaryCap[m]! > 0) openPrimary[zone[m]!]!++;
    if (backupCap[m]! > 0) openBackup[zone[m]!]!++;
  }

  for (let p = 0; p < P; p++) {
    const start = ring.successor(BigInt.asUintN(64, hash(partitionKey(p))));
    const set = sets[p]!;
    const zonesUsed: number[] = [];
    for (let r = 0; r < copies; r++) {
      const counts = r === 0 ? primaries : backups;
      const caps = r === 0 ? primaryCap : backupCap;
      const open = r === 0 ? openPrimary : openBackup;
      let openElsewhere = 0;
      let openTotal = 0;
      for (let z = 0; z < zoneCount; z++) {
        openTotal += open[z]!;
        if (!zonesUsed.includes(z)) openElsewhere += open[z]!;
      }
      for (const m of set) if (counts[m]! < caps[m]!) openTotal--;
      // pass 0: new zone and under cap; pass 1: under cap; pass 2: any member not in the set.
      const firstPass = openElsewhere > 0 ? 0 : openTotal > 0 ? 1 : 2;
      let chosen = -1;
      for (let pass = firstPass; pass <= 2 && chosen < 0; pass++) {
        for (let step = 0; step < size; step++) {
          const m = owners[(start + step) % size]!;
          if (set.includes(m)) continue;
          if (pass <= 1 && counts[m]! >= caps[m]!) continue;
          if (pass === 0 && zonesUsed.includes(zone[m]!)) continue;
          chosen = m;
          break;
        }
      }
      // copies <= N, so pass 2 always finds a member not yet in the set.
      set.push(chosen);
      counts[chosen]!++;
      if (counts[chosen] === caps[chosen]) open[zone[chosen]!]!--;
      if (!zonesUsed.includes(zone[chosen]!)) zonesUsed.push(zone[chosen]!);
    }
  }
  return { sets, missing: P * (o.replicas - copies) };
}
