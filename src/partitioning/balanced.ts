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
}

export interface BalanceResult {
  sets: number[][];
  /** Copies left unplaced (only in degenerate cases; see fill). */
  missing: number;
}

/**
 * The `balanced` strategy: sticky, minimal-move, exactly balanced placement in two phases.
 *
 * 1. Holders (what costs a data transfer): every member gets floor/ceil of its weighted share of all P x copies
 *    copies. Copies on surviving members stay put; a member above its quota drops its surplus (backups first, those
 *    sharing a zone with another holder first); the open slots go to members below quota, biggest deficit first,
 *    preferring a zone the partition does not use yet.
 * 2. Roles (free: a role change moves no data): every member gets floor/ceil of its weighted share of the P
 *    primaries, chosen among the partitions it already holds. Starting from the current primaries, surplus is moved
 *    along augmenting paths (A primary of p held also by B, B primary of q held also by C, ... ending at a member
 *    below quota), so a promotion replaces a transfer wherever the holder sets allow it.
 *
 * So a leave transfers exactly the leaver's copies and a join exactly the joiner's share. Ceil quotas go to the
 * members already holding the most, so rounding moves nothing. Deterministic: every choice breaks ties by index.
 */
export function balance(input: BalanceInput): BalanceResult {
  const { ids, zone, weight, copies, sets } = input;
  const N = ids.length;
  const P = sets.length;
  if (N === 0) return { sets: sets.map(() => []), missing: 0 };

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
    // Spread first: a partition that already lost a copy is touched again only when nothing else is left, since
    // two open slots in one partition may not both be fillable by the few members short of copies.
    const dropped = new Uint8Array(P);
    for (let round = 0; round < 6; round++) {
      const tier = round % 3;
      const spread = round < 3;
      for (let p = P - 1; p >= 0; p--) {
        const set = sets[p]!;
        if (spread && dropped[p]) continue;
        for (let pos = set.length - 1; pos >= 0; pos--) {
          const m = set[pos]!;
          if (overBy[m]! === 0) continue;
          if (spread && dropped[p]) break;
          if (tier < 2 && pos === 0) continue;
          if (tier === 0 && !zoneDuplicated(set, pos)) continue;
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
  for (let p = 0; p < P && totalDeficit > 0; p++) {
    const set = sets[p]!;
    while (set.length < copies && totalDeficit > 0) {
      // Is some member in a zone the set does not use still short? Then insist on such a zone.
      let usedZoneDeficit = 0;
      const usedZones: number[] = [];
      for (const m of set) if (!usedZones.includes(zone[m]!)) usedZones.push(zone[m]!);
      for (const z of usedZones) usedZoneDeficit += zoneDeficit[z]!;
      const needNewZone = totalDeficit - usedZoneDeficit > 0;
      let chosen = -1;
      while (heap.size > 0) {
        const m = heap.pop();
        if (set.includes(m) || (needNewZone && usedZones.includes(zone[m]!))) {
          skipped.push(m);
          continue;
        }
        chosen = m;
        break;
      }
      for (const m of skipped) heap.push(m);
      skipped.length = 0;
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
  const primaryCount = new Int32Array(N);
  const primary = new Int32Array(P).fill(-1);
  sets.forEach((set, p) => {
    if (set.length > 0) {
      primary[p] = set[0]!;
      primaryCount[set[0]!]!++;
    }
  });
  const placed = primary.reduce((s, m) => s + (m >= 0 ? 1 : 0), 0);
  // Ceil primary quotas prefer members whose copy quota got the ceil: their backups then land on floor/ceil too.
  const copyCeil = new Int32Array(N);
  const totalWeight = weight.reduce((x, y) => x + y, 0);
  for (let m = 0; m < N; m++) copyCeil[m] = held[m]! > (P * copies * weight[m]!) / totalWeight + 1e-9 ? 1 : 0;
  const pQuota = splitQuotas(placed, weight, held, (a, b) => copyCeil[b]! - copyCeil[a]! || primaryCount[b]! - primaryCount[a]! || a - b);
  // Plain floor/ceil of each primary share, the bounds a rounding trade (see rebalanceRoles) must respect.
  const pFloor = new Int32Array(N);
  const pCeil = new Int32Array(N);
  for (let m = 0; m < N; m++) {
    const share = (placed * weight[m]!) / totalWeight;
    pFloor[m] = Math.floor(share + 1e-9);
    pCeil[m] = Math.min(held[m]!, Math.ceil(share - 1e-9));
  }
  rebalanceRoles(sets, primary, primaryCount, pQuota, pFloor, pCeil, N, copies, zone);
  sets.forEach((set, p) => {
    const m = primary[p]!;
    if (m < 0 || set[0] === m) return;
    set.splice(set.indexOf(m), 1);
    set.unshift(m);
  });
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
 * Moves primaries along augmenting paths until every member is within its quota. A path starts at a member over
 * quota and follows "primary of p -> another holder of p" edges to a member under quota; flipping it changes no
 * holder set. If no path exists (sparse holder sets, P close to N), the primary moves to a member under quota by
 * taking the place of the partition's last backup, which in turn takes that member's place in one of its backup
 * partitions: two transfers that keep every copy count.
 */
function rebalanceRoles(sets: number[][], primary: Int32Array, count: Int32Array, quota: Int32Array, floor: Int32Array, ceil: Int32Array, N: number, copies: number, zone: readonly number[]): void {
  const P = sets.length;
  // Direct swaps first (paths of length one), in one pass: most surplus goes this way, and each BFS below would
  // otherwise rescan the over-quota member's partitions from the start.
  for (let p = 0; p < P; p++) {
    const u = primary[p]!;
    if (u < 0 || count[u]! <= quota[u]!) continue;
    for (const v of sets[p]!) {
      if (v !== u && count[v]! < quota[v]!) {
        primary[p] = v;
        count[u]!--;
        count[v]!++;
        break;
      }
    }
  }
  let over = false;
  for (let m = 0; m < N && !over; m++) over = count[m]! > quota[m]!;
  if (!over) return;
  // Partitions held by each member, fixed during this phase except for the fallback (built only when needed).
  const heldBy: number[][] = Array.from({ length: N }, () => []);
  for (let p = 0; p < P; p++) for (const m of sets[p]!) heldBy[m]!.push(p);
  const visited = new Int32Array(N).fill(-1);
  const parentMember = new Int32Array(N);
  const parentPart = new Int32Array(N);
  const queue = new Int32Array(N);
  let stamp = 0;
  for (let a = 0; a < N; a++) {
    while (count[a]! > quota[a]!) {
      stamp++;
      let head = 0, tail = 0;
      queue[tail++] = a;
      visited[a] = stamp;
      let found = -1;
      search: while (head < tail) {
        const u = queue[head++]!;
        for (const p of heldBy[u]!) {
          if (primary[p] !== u) continue;
          for (const v of sets[p]!) {
            if (v === u || visited[v] === stamp) continue;
            visited[v] = stamp;
            parentMember[v] = u;
            parentPart[v] = p;
            if (count[v]! < quota[v]!) {
              found = v;
              break search;
            }
            queue[tail++] = v;
          }
        }
      }
      if (found >= 0) {
        for (let v = found; v !== a; v = parentMember[v]!) primary[parentPart[v]!] = v;
        count[a]!--;
        count[found]!++;
        continue;
      }
      // No free path. If `a` may hold one more than its quota (its quota is a floor) and some member under quota
      // got a ceil, trade the rounding instead of data: both stay within floor/ceil, at the price of their backup
      // counts being one off (only happens with sparse holder sets, P close to N).
      if (count[a]! <= ceil[a]!) {
        let donor = -1;
        for (let m = 0; m < N; m++) if (count[m]! < quota[m]! && quota[m]! - 1 >= floor[m]!) { donor = m; break; }
        if (donor >= 0) {
          quota[donor]!--;
          quota[a]!++;
          continue;
        }
      }
      // Fallback: hand a primary of `a` to the lowest-index member under quota, by transfer.
      let under = -1;
      for (let m = 0; m < N; m++) if (count[m]! < quota[m]!) { under = m; break; }
      if (under < 0) return;
      const p = heldBy[a]!.find((q) => primary[q] === a && !sets[q]!.includes(under));
      if (p === undefined) return;
      const set = sets[p]!;
      if (set.length >= copies) {
        // Make room: drop the last holder b that is not `a` (with one copy per partition, `a` itself). To keep
        // copy counts, b takes `under`'s place in a partition where `under` is a backup (zone-neutral if possible).
        let drop = set.length - 1;
        if (copies > 1) while (set[drop] === a) drop--;
        const b = set[drop]!;
        set.splice(drop, 1);
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
    }
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
