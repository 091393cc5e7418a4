import { splitQuotas } from './quotas.js';

/** Members as the balanced planner sees them: index = position in the id-sorted list. */
export interface BalanceInput {
  /** Member ids, sorted ascending (index order is the tie-breaker everywhere). */
  ids: readonly string[];
  /** Zone group of each member (small integers; members without a zone share one group). */
  zone: readonly number[];
  weight: readonly number[];
  /** Copies per partition to place: min(replicas, members). */
  copies: number;
  /** Starting replica sets (member indices, primary first): the previous table's or the ring's. Mutated. */
  sets: number[][];
  /**
   * The previous table's primary of each partition (member index), -1 where it is gone (failed, leaving); null for
   * a first placement (sets from the ring), which is balanced exactly whatever it costs.
   */
  previousPrimary: Int32Array | null;
}

/**
 * How far past floor/ceil of its primary share a member may stay after a change (a first placement is exact),
 * at least. Moving a primary is a hand-over (a brief write pause of the partition). After a failure the dead
 * member's ~P/N primaries land on whoever held its backups; once the first placement has spread them
 * (spreadBackups) and churn has moved some, that is roughly Poisson(P/N^2) per survivor, standard deviation
 * ~sqrt(P)/N, against a share that rises by the mean. Holding every survivor to floor/ceil cost 1.2-2.6x the dead
 * member's primaries in primary changes (docs/BENCHMARKS.md, placement); two standard deviations (at least 1) keep
 * ~95% of the survivors in the band. Examples: 1 for N >= 22 at P = 271 or N >= 171 at P = 16384; 2 at N = 16,
 * P = 271; 16 at N = 16, P = 16384 (1.6% of a share of 1024).
 */
export function primarySlack(placed: number, members: number): number {
  return Math.max(1, Math.round((2 * Math.sqrt(placed)) / members));
}

/**
 * After a change, a member's primaries stay within floor(share) - w .. ceil(share) + w, with w the larger of
 * primarySlack and share/(N-1): one departure or arrival shifts every share by about share/(N-1), and a member need
 * not gain or lose a primary for that alone (with zones, a failed member's primaries can only fail over to other
 * zones, so its zone's survivors gain none). A member new to the table gets floor/ceil exactly.
 */
export function primaryBandWidth(placed: number, members: number, share: number): number {
  return Math.max(primarySlack(placed, members), members > 1 ? Math.ceil(share / (members - 1) - 1e-9) : 0);
}

/** Extra hand-overs a change may spend on balance within the band, as a fraction of the partitions that lost their primary. */
export const HANDOVER_BUDGET = 0.1;

export interface BalanceResult {
  sets: number[][];
  /** Copies left unplaced (only in degenerate cases; see fill). */
  missing: number;
}

/**
 * The `balanced` strategy: sticky, minimal-cost, balanced placement in two phases. Two costs count: a copy a member
 * did not hold is a data transfer, a primary that changes while the old one is alive is a hand-over.
 *
 * 1. Holders: every member gets floor/ceil of its weighted share of all P x copies copies. Copies on surviving
 *    members stay put; a member above its quota drops its surplus (with zones first where a member short of copies
 *    can refill the slot without doubling a zone; backups first, those sharing a zone with another holder first);
 *    the open slots go to members below quota, biggest deficit first, preferring a zone the partition does not use.
 * 2. Roles: primaries that are still holders stay; a partition that lost its primary promotes a holder that has
 *    the data. A first placement then gives every member exactly floor/ceil of its share of the P primaries; a
 *    change only moves primaries until every member is within a band around floor/ceil (primaryBandWidth), plus a
 *    small budget after a departure. Moves follow paths (A primary of p held also by B, B primary of q held also
 *    by C, ...), so a promotion replaces a transfer wherever the holder sets allow it.
 * 3. First placement only: backups are spread so that each member's primaries are backed by all others about
 *    equally (spreadBackups), so that a failure spreads its primaries evenly.
 *
 * So a leave transfers exactly the leaver's copies and changes about its primaries, and a join transfers the
 * joiner's share of copies and hands over its share of primaries. Ceil quotas go to the members already holding the
 * most, so rounding moves nothing. Deterministic: every choice breaks ties by index.
 */
export function balance(input: BalanceInput): BalanceResult {
  const { ids, zone, weight, copies, sets, previousPrimary } = input;
  const N = ids.length;
  const P = sets.length;
  if (N === 0) return { sets: sets.map(() => []), missing: 0 };

  // Who held what when this plan started: a holder from before has the data, a new copy must be synced first.
  const before = new HolderSnapshot(sets, N);

  // ---- phase 1: holders ----
  const count = new Int32Array(N);
  for (const set of sets) {
    if (set.length > copies) set.length = copies;
    for (const m of set) count[m]!++;
  }
  const zoneCount = Math.max(...zone) + 1;
  const { quota, share } = copyQuotas(P, copies, zone, zoneCount, weight, count);

  // Drop surplus copies: for each member over quota, in three preference tiers.
  const overBy = new Int32Array(N);
  let anyOver = false;
  for (let m = 0; m < N; m++) {
    overBy[m] = Math.max(0, count[m]! - quota[m]!);
    if (overBy[m]! > 0) anyOver = true;
  }
  if (anyOver) {
    const zoneDuplicated = (set: number[], pos: number): boolean => {
      for (let i = 0; i < set.length; i++) if (i !== pos && zone[set[i]!] === zone[set[pos]!]) return true;
      return false;
    };
    // What the members short of copies can take, per zone: a dropped slot should be one they can fill without
    // doubling a zone, else the fill or the spread fix below pays extra transfers (a join into one zone).
    const zoneNeed = new Int32Array(zoneCount);
    for (let m = 0; m < N; m++) zoneNeed[zone[m]!]! += Math.max(0, quota[m]! - count[m]!);
    /** A zone short of copies that `set` without position `pos` does not use, or -1. */
    const refillZone = (set: number[], pos: number): number => {
      for (let z = 0; z < zoneCount; z++) {
        if (zoneNeed[z]! <= 0) continue;
        let used = false;
        for (let i = 0; i < set.length && !used; i++) used = i !== pos && zone[set[i]!] === z;
        if (!used) return z;
      }
      return -1;
    };
    // Refillable first (with zones), then spread: a partition that already lost a copy is touched again only when
    // nothing else is left, since two open slots in one partition may not both be fillable by the few members short
    // of copies.
    const dropped = new Uint8Array(P);
    for (let round = zoneCount > 1 ? 0 : 3; round < 9; round++) {
      const tier = round % 3;
      const refill = round < 3;
      const spread = round < 6;
      for (let p = P - 1; p >= 0; p--) {
        const set = sets[p]!;
        if (spread && dropped[p]) continue;
        for (let pos = set.length - 1; pos >= 0; pos--) {
          const m = set[pos]!;
          if (overBy[m]! === 0) continue;
          if (spread && dropped[p]) break;
          if (tier < 2 && pos === 0) continue;
          if (tier === 0 && !zoneDuplicated(set, pos)) continue;
          const z = refill ? refillZone(set, pos) : -1;
          if (refill && z < 0) continue;
          if (z >= 0) zoneNeed[z]!--;
          set.splice(pos, 1);
          dropped[p] = 1;
          overBy[m]!--;
          count[m]!--;
        }
      }
    }
  }

  // Fill open slots from a max-heap of deficits (ties: lower index).
  const deficit = new Int32Array(N);
  const zoneDeficit = new Int32Array(zoneCount);
  const heap = new DeficitHeap(deficit);
  for (let m = 0; m < N; m++) {
    deficit[m] = quota[m]! - count[m]!;
    if (deficit[m]! > 0) {
      zoneDeficit[zone[m]!]! += deficit[m]!;
      heap.push(m);
    }
  }
  let totalDeficit = 0;
  for (let m = 0; m < N; m++) totalDeficit += Math.max(0, deficit[m]!);
  let missing = 0;
  const skipped: number[] = [];
  /** Slots filled in this pass, as flat (partition, member) pairs. */
  const filled: number[] = [];
  // With zones: open slots (in partitions not filled yet) each zone could take without doubling up, so the fill
  // serves first the zone with the fewest such slots to spare. Otherwise the greedy can end with members short of
  // copies whose zone every remaining partition already has, and the trades or spread fixes cost extra transfers.
  const openFor = new Int32Array(zoneCount);
  const countOpen = (p: number, sign: number): void => {
    const set = sets[p]!;
    const k = copies - set.length;
    if (k <= 0) return;
    for (let z = 0; z < zoneCount; z++) {
      let used = false;
      for (let i = 0; i < set.length && !used; i++) used = zone[set[i]!] === z;
      if (!used) openFor[z]! += sign * k;
    }
  };
  if (zoneCount > 1 && totalDeficit > 0) for (let p = 0; p < P; p++) countOpen(p, 1);
  for (let p = 0; p < P && totalDeficit > 0; p++) {
    const set = sets[p]!;
    if (zoneCount > 1) countOpen(p, -1);
    while (set.length < copies && totalDeficit > 0) {
      // Is some member in a zone the set does not use still short? Then insist on such a zone.
      let usedZoneDeficit = 0;
      const usedZones: number[] = [];
      for (const m of set) if (!usedZones.includes(zone[m]!)) usedZones.push(zone[m]!);
      for (const z of usedZones) usedZoneDeficit += zoneDeficit[z]!;
      const needNewZone = totalDeficit - usedZoneDeficit > 0;
      let target = -1;
      if (zoneCount > 1) {
        for (let z = 0; z < zoneCount; z++) {
          if (zoneDeficit[z]! <= 0 || (needNewZone && usedZones.includes(z))) continue;
          const spare = openFor[z]! - zoneDeficit[z]!;
          if (target < 0 || spare < openFor[target]! - zoneDeficit[target]!) target = z;
        }
      }
      let chosen = -1;
      for (let attempt = target >= 0 ? 0 : 1; attempt < 2 && chosen < 0; attempt++) {
        while (heap.size > 0) {
          const m = heap.pop();
          if (set.includes(m) || (needNewZone && usedZones.includes(zone[m]!)) || (attempt === 0 && zone[m] !== target)) {
            skipped.push(m);
            continue;
          }
          chosen = m;
          break;
        }
        for (const m of skipped) heap.push(m);
        skipped.length = 0;
      }
      if (chosen < 0) {
        // Every member still short already holds p. Trade with a slot filled earlier in this pass (no extra
        // transfer: both were new copies anyway), else with any backup elsewhere (one extra transfer).
        // Last resort: pull a kept copy from a later partition that still has open slots (filled after).
        chosen = heap.peekAny(deficit);
        if (!tradeFilled(sets, filled, p, chosen, zone) && !swapInto(sets, p, chosen, copies)) {
          if (shiftInto(sets, p, copies, zone)) continue;
          missing += copies - set.length;
          break;
        }
        heap.remove(chosen);
      } else {
        set.push(chosen);
        filled.push(p, chosen);
      }
      deficit[chosen]!--;
      zoneDeficit[zone[chosen]!]!--;
      totalDeficit--;
      if (deficit[chosen]! > 0) heap.push(chosen);
    }
  }

  spreadZones(sets, zone, share, copies, N);

  // ---- phase 2: roles ----
  const held = new Int32Array(N);
  for (const set of sets) for (const m of set) held[m]!++;
  const fresh = previousPrimary === null;
  const primaryCount = new Int32Array(N);
  const primary = new Int32Array(P).fill(-1);
  const wasPrimary = new Int32Array(P).fill(-1);
  // Keep every primary that is still a holder (a first placement keeps the ring's choice).
  for (let p = 0; p < P; p++) {
    const set = sets[p]!;
    const prev = fresh ? (set[0] ?? -1) : previousPrimary[p]!;
    wasPrimary[p] = prev;
    if (prev >= 0 && set.includes(prev)) {
      primary[p] = prev;
      primaryCount[prev]!++;
    }
  }
  let placed = 0;
  for (const set of sets) if (set.length > 0) placed++;
  const totalWeight = weight.reduce((x, y) => x + y, 0);
  const primaryShare = (m: number) => (placed * weight[m]!) / totalWeight;
  // Partitions that lost their primary (it failed, left, or dropped its copy): promote the holder that already has
  // the data (a copy from before this plan) and is furthest below its share. With one backup there is no choice;
  // with two or more this spreads a failed member's primaries instead of piling them on its first backups.
  let orphans = 0;
  for (let p = 0; p < P; p++) {
    const set = sets[p]!;
    if (primary[p]! >= 0 || set.length === 0) continue;
    if (wasPrimary[p]! < 0) orphans++;
    let best = -1, bestHad = false;
    for (const m of set) {
      const had = before.had(p, m);
      if (best < 0 || (had && !bestHad) || (had === bestHad && primaryCount[m]! - primaryShare(m) < primaryCount[best]! - primaryShare(best) - 1e-9)) {
        best = m;
        bestHad = had;
      }
    }
    primary[p] = best;
    primaryCount[best]!++;
  }
  // Ceil quotas: on a first placement to members whose copy quota got the ceil (their backups then land on
  // floor/ceil too); on a change to the members holding the most primaries already, so rounding moves nothing.
  const copyCeil = new Int32Array(N);
  for (let m = 0; m < N; m++) copyCeil[m] = held[m]! > (P * copies * weight[m]!) / totalWeight + 1e-9 ? 1 : 0;
  const pQuota = splitQuotas(
    placed,
    weight,
    held,
    fresh ? (a, b) => copyCeil[b]! - copyCeil[a]! || primaryCount[b]! - primaryCount[a]! || a - b : (a, b) => primaryCount[b]! - primaryCount[a]! || copyCeil[b]! - copyCeil[a]! || a - b,
  );
  // Plain floor/ceil of each primary share, the bounds a rounding trade (see rebalanceRoles) must respect, and the
  // band a change must reach: a first placement is exact, a change may leave members one past floor/ceil.
  const pFloor = new Int32Array(N);
  const pCeil = new Int32Array(N);
  const heldBefore = new Int32Array(N);
  for (let m = 0; m < N; m++) heldBefore[m] = before.count[m]!;
  const lo = new Int32Array(N);
  const hi = new Int32Array(N);
  for (let m = 0; m < N; m++) {
    const share = primaryShare(m);
    pFloor[m] = Math.floor(share + 1e-9);
    pCeil[m] = Math.min(held[m]!, Math.ceil(share - 1e-9));
    // A member new to the table (it held nothing) gets its exact quota: those hand-overs are what a join is for.
    const width = primaryBandWidth(placed, N, share);
    lo[m] = fresh || heldBefore[m] === 0 ? pQuota[m]! : Math.min(pQuota[m]!, Math.max(0, pFloor[m]! - width));
    hi[m] = fresh ? pQuota[m]! : Math.max(pQuota[m]!, Math.min(held[m]!, pCeil[m]! + width));
  }
  rebalanceRoles({ sets, before, primary, wasPrimary, count: primaryCount, orphans, quota: pQuota, lo, hi, floor: pFloor, ceil: pCeil, N, copies, zone });
  sets.forEach((set, p) => {
    const m = primary[p]!;
    if (m < 0 || set[0] === m) return;
    set.splice(set.indexOf(m), 1);
    set.unshift(m);
  });
  if (fresh && copies > 1) spreadBackups(sets, N, zone);
  return { sets, missing };
}

/**
 * Copy quotas in two levels: zones first (by total weight, at most P x ceil(copies / zones) each, so when every
 * partition must span all zones each zone gets exactly what spreading needs), then members within their zone. Ceil
 * roundings go to the zones and members holding the most already. `share` is each member's exact share.
 */
function copyQuotas(P: number, copies: number, zone: readonly number[], zoneCount: number, weight: readonly number[], count: Int32Array): { quota: Int32Array; share: Float64Array } {
  const N = zone.length;
  const zoneWeight = new Array<number>(zoneCount).fill(0);
  const zoneHeld = new Int32Array(zoneCount);
  const byZone: number[][] = Array.from({ length: zoneCount }, () => []);
  for (let m = 0; m < N; m++) {
    zoneWeight[zone[m]!]! += weight[m]!;
    zoneHeld[zone[m]!]! += count[m]!;
    byZone[zone[m]!]!.push(m);
  }
  const zoneCap = new Int32Array(zoneCount).fill(P * Math.ceil(copies / zoneCount));
  for (let z = 0; z < zoneCount; z++) zoneCap[z] = Math.min(zoneCap[z]!, P * byZone[z]!.length);
  const zoneQuota = splitQuotas(P * copies, zoneWeight, zoneCap, (a, b) => zoneHeld[b]! - zoneHeld[a]! || a - b);
  const quota = new Int32Array(N);
  const share = new Float64Array(N);
  for (let z = 0; z < zoneCount; z++) {
    const ms = byZone[z]!;
    const q = splitQuotas(zoneQuota[z]!, ms.map((m) => weight[m]!), ms.map(() => P), (a, b) => count[ms[b]!]! - count[ms[a]!]! || a - b);
    ms.forEach((m, i) => {
      quota[m] = q[i]!;
      share[m] = (zoneQuota[z]! * weight[m]!) / zoneWeight[z]!;
    });
  }
  return { quota, share };
}

/**
 * Puts `x` (short of copies, already holding p) into a slot filled earlier with some z, and z into p, when neither
 * already holds the other's partition. Prefers a trade that keeps both sets zone-spread. Updates `filled`.
 */
function tradeFilled(sets: number[][], filled: number[], p: number, x: number, zone: readonly number[]): boolean {
  if (x < 0) return false;
  const target = sets[p]!;
  for (let strict = 1; strict >= 0; strict--) {
    for (let i = filled.length - 2; i >= 0; i -= 2) {
      const q = filled[i]!, z = filled[i + 1]!;
      const set = sets[q]!;
      if (q === p || target.includes(z) || set.includes(x)) continue;
      if (strict && (set.some((m) => m !== z && zone[m] === zone[x]) || target.some((m) => zone[m] === zone[z]))) continue;
      set[set.indexOf(z)] = x;
      target.push(z);
      filled[i + 1] = x;
      filled.push(p, z);
      return true;
    }
  }
  return false;
}

/**
 * Restores zone spread where a kept replica set doubles up a zone while another zone is missing from it (after a
 * new zone appears, or zones were uneven): a holder y from a missing zone trades places with the doubled member x
 * in one of y's backup partitions q, when that keeps q as spread as before. Loads stay the same; costs two
 * transfers per fix, so it only acts when spread is broken.
 */
function spreadZones(sets: number[][], zone: readonly number[], share: Float64Array, copies: number, N: number): void {
  const zoneCount = Math.max(...zone) + 1;
  if (zoneCount < 2 || copies < 2) return;
  let heldBy: number[][] | null = null;
  const count = new Int32Array(N);
  for (const set of sets) for (const m of set) count[m]!++;
  const canGain = (m: number) => count[m]! + 1 <= Math.ceil(share[m]! - 1e-9);
  const canLose = (m: number) => count[m]! - 1 >= Math.floor(share[m]! + 1e-9);
  const zonesOf = (set: readonly number[]) => new Set(set.map((m) => zone[m]!));
  // Distinct zones of a (small) set without allocating: this runs for every partition on every plan.
  // `from` (if given) counts as `to`, to evaluate a replacement before making it.
  const zoneSpan = (set: readonly number[], from = -1, to = -1): number => {
    let n = 0;
    for (let i = 0; i < set.length; i++) {
      const zi = zone[set[i] === from ? to : set[i]!];
      let j = 0;
      while (j < i && zone[set[j] === from ? to : set[j]!] !== zi) j++;
      if (j === i) n++;
    }
    return n;
  };
  // A swap may leave its other partition as unspread as before (never worse), to be fixed on a later pass.
  for (let pass = 0, changed = true; pass < 3 && changed; pass++) {
    changed = false;
    for (let p = 0; p < sets.length; p++) {
      const set = sets[p]!;
      if (zoneSpan(set) >= Math.min(set.length, zoneCount)) continue;
      const used = zonesOf(set);
      if (heldBy === null) {
        heldBy = Array.from({ length: N }, () => []);
        sets.forEach((s, q) => s.forEach((m) => heldBy![m]!.push(q)));
      }
      // The doubled member to replace: a backup (never the primary) sharing its zone with another holder.
      let xi = -1;
      for (let i = set.length - 1; i >= 1 && xi < 0; i--) if (set.some((m, j) => j !== i && zone[m] === zone[set[i]!])) xi = i;
      if (xi < 0) continue;
      const x = set[xi]!;
      // Cheapest: one transfer, to a member of a missing zone that may hold one more copy while x may hold one less.
      if (canLose(x)) {
        let y = 0;
        while (y < N && (used.has(zone[y]!) || !canGain(y))) y++;
        if (y < N) {
          set[xi] = y;
          count[x]!--;
          count[y]!++;
          heldBy[y]!.push(p);
          heldBy[x]!.splice(heldBy[x]!.indexOf(p), 1);
          changed = true;
          continue;
        }
      }
      search: for (let y = 0; y < N; y++) {
        if (used.has(zone[y]!)) continue;
        for (const q of heldBy[y]!) {
          const other = sets[q]!;
          const yi = other.indexOf(y);
          if (yi < 1 || other.includes(x)) continue;
          // q must not lose spread: with x in y's place it spans at least as many zones as before.
          if (zone[x] !== zone[y] && zoneSpan(other, y, x) < zoneSpan(other)) continue;
          other[yi] = x;
          set[xi] = y;
          heldBy[y]!.splice(heldBy[y]!.indexOf(q), 1, p);
          heldBy[x]!.splice(heldBy[x]!.indexOf(p), 1, q);
          changed = true;
          break search;
        }
      }
    }
  }
}

/**
 * Moves a holder y of a later partition q that still has open slots into p (y keeps its count; q's slot is filled
 * later in the pass). Prefers a y whose zone p lacks. Returns false when no such q exists.
 */
function shiftInto(sets: number[][], p: number, copies: number, zone: readonly number[]): boolean {
  const target = sets[p]!;
  for (let strict = 1; strict >= 0; strict--) {
    for (let q = p + 1; q < sets.length; q++) {
      const set = sets[q]!;
      if (set.length >= copies) continue;
      for (let pos = set.length - 1; pos >= 0; pos--) {
        const y = set[pos]!;
        if (target.includes(y) || (strict && target.some((m) => zone[m] === zone[y]))) continue;
        set.splice(pos, 1);
        target.push(y);
        return true;
      }
    }
  }
  return false;
}

/**
 * Makes room for member `x` (short of copies but already holding p) by giving one of p's missing slots to a backup
 * holder y of another partition q, and x takes y's place in q. Returns false when no such q exists.
 */
function swapInto(sets: number[][], p: number, x: number, copies: number): boolean {
  if (x < 0) return false;
  const target = sets[p]!;
  for (let q = 0; q < sets.length; q++) {
    if (q === p) continue;
    const set = sets[q]!;
    if (set.length < copies || set.includes(x)) continue;
    for (let pos = set.length - 1; pos >= 1; pos--) {
      const y = set[pos]!;
      if (target.includes(y)) continue;
      set[pos] = x;
      target.push(y);
      return true;
    }
  }
  return false;
}

/**
 * First placement only (no data exists yet, so moves are free): spreads the backups of each member's primaries
 * evenly over the other members. When a member fails, its primaries go to the holders of those backups; the ring
 * puts them on the few successors of its virtual nodes (at N=64, P=16384 one survivor got 33 of 256 where the mean
 * is 4), which would cost many hand-overs to re-balance. Swaps backup B of p (primary A) with backup D of q
 * (primary C), same zone, when that lowers the sum of squares of the pair counts (A, B), (A, D), (C, D), (C, B).
 * Copy, primary and backup counts and zone spread stay as they are. A few greedy passes; deterministic.
 */
function spreadBackups(sets: number[][], N: number, zone: readonly number[]): void {
  const P = sets.length;
  const pair = new Int32Array(N * N);
  /** Partitions where m is a backup. */
  const backupOf: number[][] = Array.from({ length: N }, () => []);
  for (let p = 0; p < P; p++) {
    const set = sets[p]!;
    for (let i = 1; i < set.length; i++) {
      pair[set[0]! * N + set[i]!]!++;
      backupOf[set[i]!]!.push(p);
    }
  }
  const order = new Int32Array(N);
  for (let pass = 0; pass < 4; pass++) {
    let swaps = 0;
    for (let p = 0; p < P; p++) {
      const set = sets[p]!;
      const A = set[0]!;
      for (let i = 1; i < set.length; i++) {
        const B = set[i]!;
        const ab = pair[A * N + B]!;
        if (ab < 2) continue;
        // Candidates D by how few of A's primaries they back (ties: index), only those clearly below (A, B).
        let n = 0;
        for (let D = 0; D < N; D++) if (zone[D] === zone[B] && D !== B && pair[A * N + D]! + 1 < ab && !set.includes(D)) order[n++] = D;
        const cand = Array.from(order.subarray(0, n)).sort((x, y) => pair[A * N + x]! - pair[A * N + y]! || x - y);
        let done = false;
        for (const D of cand) {
          const ad = pair[A * N + D]!;
          for (const q of backupOf[D]!) {
            const other = sets[q]!;
            const C = other[0]!;
            if (C === A || other.includes(B)) continue;
            // Sum of squares falls when (ab - ad) + (cd - cb) > 2.
            if (ab - ad + pair[C * N + D]! - pair[C * N + B]! <= 2) continue;
            const j = other.indexOf(D);
            set[i] = D;
            other[j] = B;
            pair[A * N + B]!--;
            pair[A * N + D]!++;
            pair[C * N + D]!--;
            pair[C * N + B]!++;
            const bq = backupOf[B]!;
            bq[bq.indexOf(p)] = q;
            const dq = backupOf[D]!;
            dq[dq.indexOf(q)] = p;
            swaps++;
            done = true;
            break;
          }
          if (done) break;
        }
      }
    }
    if (swaps === 0) break;
  }
}

interface RoleState {
  sets: number[][];
  /** Holder sets when the plan started (who has the data). */
  before: HolderSnapshot;
  primary: Int32Array;
  /** The primary before this plan (-1: gone): a partition whose primary already changed moves again for free. */
  wasPrimary: Int32Array;
  count: Int32Array;
  /** Partitions whose primary is gone (failed or leaving): their change is forced, the budget is a share of it. */
  orphans: number;
  /** Exact targets (floor or ceil of each share, summing to the placed partitions). */
  quota: Int32Array;
  /** The band a plan must reach: lo <= quota <= hi (equal to quota on a first placement). */
  lo: Int32Array;
  hi: Int32Array;
  floor: Int32Array;
  ceil: Int32Array;
  N: number;
  copies: number;
  zone: readonly number[];
}

/**
 * Moves primaries until every member is within its band [lo, hi], at the fewest hand-overs, then spends a small
 * budget of hand-overs (direct moves only) on getting members from the band to their exact quota.
 *
 * A move follows "primary of p -> another holder of p" edges (flipping a path changes no holder set). An edge costs
 * one hand-over, except moving a partition whose primary already changes in this plan to a holder that has the data
 * (free). Paths are found by 0-1 BFS, cheapest first, preferring endpoints that end up at their exact quota. If no
 * path exists (sparse holder sets, P close to N), a first placement trades the ceil rounding between two members
 * (no data moves; their backup counts end one off) before it moves a primary by transfer, with a compensating backup
 * swap that keeps copy counts.
 */
function rebalanceRoles(st: RoleState): void {
  const { sets, before, primary, wasPrimary, count, quota, lo, hi, floor, ceil, N } = st;
  const P = sets.length;
  // Moving p again is free when its primary changes in this plan anyway and the new one needs no extra step: it had
  // the data, or the old primary is alive and hands over to it directly (else the old primary's backup takes over
  // first and hands over later: one more).
  const edgeCost = (p: number, v: number) => (primary[p] !== wasPrimary[p] && (v === wasPrimary[p] || wasPrimary[p]! >= 0 || before.had(p, v)) ? 0 : 1);
  // One pass of direct moves (paths of length one) for members above their band: most surplus goes this way on a
  // first placement, and each BFS below would otherwise rescan the member's partitions from the start.
  for (let p = 0; p < P; p++) {
    const u = primary[p]!;
    if (u < 0 || count[u]! <= hi[u]!) continue;
    let best = -1;
    for (const v of sets[p]!) {
      if (v === u || count[v]! >= hi[v]!) continue;
      if (best < 0 || (count[v]! < quota[v]! && count[best]! >= quota[best]!) || edgeCost(p, v) < edgeCost(p, best)) best = v;
    }
    if (best >= 0) {
      primary[p] = best;
      count[u]!--;
      count[best]!++;
    }
  }
  const heldBy: number[][] = Array.from({ length: N }, () => []);
  for (let p = 0; p < P; p++) for (const m of sets[p]!) heldBy[m]!.push(p);
  // Members below their band (a joiner) take directly from the primaries of partitions they hold: free moves
  // first, then always from the member furthest above its quota (the same hand-overs as taking from whoever comes
  // first, a far more even result).
  for (let v = 0; v < N; v++) {
    if (count[v]! >= lo[v]!) continue;
    const from = new Map<number, number[]>();
    for (const p of heldBy[v]!) {
      const u = primary[p]!;
      if (u < 0 || u === v) continue;
      let list = from.get(u);
      if (list === undefined) from.set(u, (list = []));
      list.push(p);
    }
    // Free moves last in each list (taken first).
    for (const list of from.values()) list.sort((a, b) => edgeCost(b, v) - edgeCost(a, v) || a - b);
    while (count[v]! < lo[v]!) {
      let best = -1, bestFree = false;
      for (const [u, list] of from) {
        if (list.length === 0 || count[u]! <= lo[u]!) continue;
        const free = edgeCost(list[list.length - 1]!, v) === 0;
        const gap = count[u]! - quota[u]!;
        const bestGap = best < 0 ? 0 : count[best]! - quota[best]!;
        if (best < 0 || (free && !bestFree) || (free === bestFree && (gap > bestGap || (gap === bestGap && (count[u]! > count[best]! || (count[u] === count[best] && u < best)))))) {
          best = u;
          bestFree = free;
        }
      }
      if (best < 0) break;
      const p = from.get(best)!.pop()!;
      primary[p] = v;
      count[best]!--;
      count[v]!++;
    }
  }
  const search = new PathSearch(st, heldBy, edgeCost);

  // Above the band: push to the cheapest member below its band ceiling (its quota preferred).
  for (let a = 0; a < N; a++) {
    while (count[a]! > hi[a]!) {
      const v = search.push(a, (m) => count[m]! < hi[m]!, (m) => count[m]! < quota[m]!, Infinity);
      if (v >= 0) continue;
      // A first placement only (there hi = quota): trade the ceil rounding with a member under quota if `a` may hold
      // its ceil, so both stay within floor/ceil at the price of backup counts one off.
      if (count[a]! <= ceil[a]!) {
        let donor = -1;
        for (let m = 0; m < N; m++) if (count[m]! < quota[m]! && quota[m]! - 1 >= floor[m]!) { donor = m; break; }
        if (donor >= 0) {
          quota[donor]!--;
          quota[a]!++;
          hi[donor] = Math.min(hi[donor]!, quota[donor]!);
          hi[a] = Math.max(hi[a]!, quota[a]!);
          lo[donor] = Math.min(lo[donor]!, quota[donor]!);
          continue;
        }
      }
      let under = -1;
      for (let m = 0; m < N; m++) if (count[m]! < quota[m]!) { under = m; break; }
      if (under < 0 || !moveByTransfer(st, heldBy, a, under)) break;
    }
  }
  // Below the band: pull from the cheapest member above its band floor (above its quota preferred).
  for (let v = 0; v < N; v++) {
    while (count[v]! < lo[v]!) {
      if (search.pull(v, (m) => count[m]! > lo[m]!, (m) => count[m]! > quota[m]!) >= 0) continue;
      let over = -1;
      for (let m = 0; m < N; m++) if (count[m]! > quota[m]! && (over < 0 || count[m]! - quota[m]! > count[over]! - quota[over]!)) over = m;
      if (over < 0 || !moveByTransfer(st, heldBy, over, v)) break;
    }
  }
  // Within the band: a few more hand-overs towards the exact quotas, cheapest first: HANDOVER_BUDGET x the
  // partitions that lost their primary (a failure or a leave; a join gets none: it hands over exactly what the
  // joiner takes). Free moves are always taken.
  // Hand-overs the band already forced beyond those partitions count against it.
  let changed = 0;
  for (let p = 0; p < P; p++) if (primary[p] !== wasPrimary[p]) changed++;
  let budget = st.orphans > 0 ? Math.floor(HANDOVER_BUDGET * st.orphans + 1e-9) - (changed - st.orphans) : 0;
  // Direct moves only (one edge each, a single pass over the partitions): a search per member here would rescan
  // the holder graph on every change for little gain.
  for (let p = 0; p < P; p++) {
    const u = primary[p]!;
    if (u < 0 || count[u]! <= quota[u]!) continue;
    let best = -1;
    for (const v of sets[p]!) if (v !== u && count[v]! < quota[v]! && (best < 0 || edgeCost(p, v) < edgeCost(p, best))) best = v;
    if (best < 0 || edgeCost(p, best) > budget) continue;
    budget -= edgeCost(p, best);
    primary[p] = best;
    count[u]!--;
    count[best]!++;
  }
}

/** 0-1 BFS over "primary of p -> other holder of p" edges; flips the cheapest path it finds. */
class PathSearch {
  private readonly visited: Int32Array;
  private readonly dist: Float64Array;
  private readonly parentMember: Int32Array;
  private readonly parentPart: Int32Array;
  private readonly done: Uint8Array;
  private stamp = 0;

  constructor(
    private readonly st: RoleState,
    private readonly heldBy: number[][],
    private readonly edgeCost: (p: number, v: number) => number,
  ) {
    const N = st.N;
    this.visited = new Int32Array(N).fill(-1);
    this.dist = new Float64Array(N);
    this.parentMember = new Int32Array(N);
    this.parentPart = new Int32Array(N);
    this.done = new Uint8Array(N);
  }

  /**
   * Moves one primary away from `a` along the cheapest path (at most `maxCost`) to a member accepted by `accept`,
   * among equally cheap ones one accepted by `prefer`. Returns the member that gained it, or -1.
   */
  push(a: number, accept: (m: number) => boolean, prefer: (m: number) => boolean, maxCost: number): number {
    const { sets, primary, count } = this.st;
    const found = this.search(a, maxCost, accept, prefer, (u, visit) => {
      for (const p of this.heldBy[u]!) {
        if (primary[p] !== u) continue;
        for (const v of sets[p]!) if (v !== u && visit(v, p, this.edgeCost(p, v))) return;
      }
    });
    if (found < 0) return -1;
    for (let v = found; v !== a; v = this.parentMember[v]!) primary[this.parentPart[v]!] = v;
    count[a]!--;
    count[found]!++;
    return found;
  }

  /** Moves one primary to `v` along the cheapest path from a member accepted by `accept` (`prefer` first). */
  pull(v: number, accept: (m: number) => boolean, prefer: (m: number) => boolean): number {
    const { primary, count } = this.st;
    const found = this.search(v, Infinity, accept, prefer, (w, visit) => {
      // Reverse edges: w can take p from its primary u when w holds p.
      for (const p of this.heldBy[w]!) {
        const u = primary[p]!;
        if (u >= 0 && u !== w && visit(u, p, this.edgeCost(p, w))) return;
      }
    });
    if (found < 0) return -1;
    // parentMember[u] is the member that takes u's partition parentPart[u].
    for (let u = found; u !== v; ) {
      const taker = this.parentMember[u]!;
      primary[this.parentPart[u]!] = taker;
      u = taker;
    }
    count[found]!--;
    count[v]!++;
    return found;
  }

  private search(start: number, maxCost: number, accept: (m: number) => boolean, prefer: (m: number) => boolean, edges: (u: number, visit: (v: number, p: number, cost: number) => boolean) => void): number {
    const { visited, dist, parentMember, parentPart } = this;
    const stamp = ++this.stamp;
    // Buckets by path cost (edges cost 0 or 1): a member may be queued again when a cheaper path reaches it.
    const buckets: number[][] = [[start]];
    visited[start] = stamp;
    dist[start] = 0;
    const done = this.done.fill(0);
    let best = -1, bestPreferred = false, found = -1;
    for (let d = 0; d < buckets.length && d <= maxCost && best < 0; d++) {
      const bucket = buckets[d]!;
      for (let i = 0; i < bucket.length; i++) {
        const u = bucket[i]!;
        if (done[u] || dist[u] !== d) continue;
        done[u] = 1;
        if (u !== start && accept(u)) {
          const pref = prefer(u);
          if (best < 0 || (pref && !bestPreferred)) {
            best = u;
            bestPreferred = pref;
          }
          if (pref) break;
          continue;
        }
        edges(u, (v, p, cost) => {
          const dv = d + cost;
          if (done[v] || (visited[v] === stamp && dist[v]! <= dv)) return false;
          visited[v] = stamp;
          dist[v] = dv;
          parentMember[v] = u;
          parentPart[v] = p;
          (buckets[dv] ??= []).push(v);
          // A preferred endpoint at the cost being processed, or a neighbour of the start while nothing is free: take
          // it at once. (A free edge found later from the start could have been one hand-over cheaper; free edges
          // are rare, so the search does not wait for them.)
          if (dv <= maxCost && (dv === d || (d === 0 && bucket.length === 1)) && accept(v) && prefer(v)) {
            found = v;
            return true;
          }
          return false;
        });
        if (found >= 0) {
          best = found;
          break;
        }
      }
    }
    return best;
  }
}

/**
 * No path: hands a primary of `a` to `under` by transfer. `under` takes the place of the partition's last backup b,
 * and b takes `under`'s place in one of `under`'s backup partitions (zone-neutral if possible), so copy counts stay.
 */
function moveByTransfer(st: RoleState, heldBy: number[][], a: number, under: number): boolean {
  const { sets, primary, count, copies, zone } = st;
  const p = heldBy[a]!.find((q) => primary[q] === a && !sets[q]!.includes(under));
  if (p === undefined) return false;
  const set = sets[p]!;
  if (set.length >= copies) {
    let drop = set.length - 1;
    if (copies > 1) while (set[drop] === a) drop--;
    const b = set[drop]!;
    set.splice(drop, 1);
    heldBy[b]!.splice(heldBy[b]!.indexOf(p), 1);
    if (b !== a) {
      let swapped = false;
      for (let strict = 1; strict >= 0 && !swapped; strict--) {
        for (const q of heldBy[under]!) {
          const other = sets[q]!;
          const ui = other.indexOf(under);
          if (ui < 0 || primary[q] === under || other.includes(b)) continue;
          if (strict && zone[b] !== zone[under] && (other.some((m) => m !== under && zone[m] === zone[b]) || set.some((m) => zone[m] === zone[under]))) continue;
          other[ui] = b;
          heldBy[b]!.push(q);
          heldBy[under]!.splice(heldBy[under]!.indexOf(q), 1);
          swapped = true;
          break;
        }
      }
    }
  }
  set.push(under);
  heldBy[under]!.push(p);
  primary[p] = under;
  count[a]!--;
  count[under]!++;
  return true;
}

/** Who held which partition when a plan started, flat (no per-partition arrays), and how many each member held. */
class HolderSnapshot {
  private readonly width: number;
  private readonly holders: Int32Array;
  readonly count: Int32Array;
  constructor(sets: readonly number[][], N: number) {
    let width = 0;
    for (const set of sets) width = Math.max(width, set.length);
    this.width = width;
    this.holders = new Int32Array(sets.length * width).fill(-1);
    this.count = new Int32Array(N);
    sets.forEach((set, p) => {
      for (let i = 0; i < set.length; i++) {
        this.holders[p * width + i] = set[i]!;
        this.count[set[i]!]!++;
      }
    });
  }
  had(p: number, m: number): boolean {
    for (let i = p * this.width, end = i + this.width; i < end; i++) if (this.holders[i] === m) return true;
    return false;
  }
}

/** Binary max-heap of member indices ordered by deficit (desc), then index (asc). */
class DeficitHeap {
  private readonly items: number[] = [];
  constructor(private readonly key: Int32Array) {}
  get size(): number {
    return this.items.length;
  }
  private before(a: number, b: number): boolean {
    const ka = this.key[a]!, kb = this.key[b]!;
    return ka !== kb ? ka > kb : a < b;
  }
  push(m: number): void {
    const it = this.items;
    it.push(m);
    let i = it.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(it[i]!, it[parent]!)) break;
      [it[i], it[parent]] = [it[parent]!, it[i]!];
      i = parent;
    }
  }
  pop(): number {
    const it = this.items;
    const top = it[0]!;
    const last = it.pop()!;
    if (it.length > 0) {
      it[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let best = i;
        if (l < it.length && this.before(it[l]!, it[best]!)) best = l;
        if (r < it.length && this.before(it[r]!, it[best]!)) best = r;
        if (best === i) break;
        [it[i], it[best]] = [it[best]!, it[i]!];
        i = best;
      }
    }
    return top;
  }
  /** Removes m if present (O(n); used only on the rare swap path). */
  remove(m: number): void {
    const i = this.items.indexOf(m);
    if (i < 0) return;
    const rest = this.items.filter((x) => x !== m);
    this.items.length = 0;
    for (const x of rest) this.push(x);
  }
  /** Some member with a positive deficit (the best one), or -1. */
  peekAny(deficit: Int32Array): number {
    let best = -1;
    for (const m of this.items) if (deficit[m]! > 0 && (best < 0 || this.before(m, best))) best = m;
    return best;
  }
}
