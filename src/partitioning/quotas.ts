/**
 * Splits `total` units among members in proportion to `weights`, each member getting floor or ceil of its exact
 * share and never more than `maxEach[m]` (shares above a max are water-filled onto the others). The members that get
 * the ceil are chosen by `rank` (lower first): the planner ranks by what a member already holds, so the rounding lands
 * where it moves nothing. Pure; sum of the result = min(total, sum of maxEach).
 */
export function splitQuotas(total: number, weights: readonly number[], maxEach: ArrayLike<number>, rank: (a: number, b: number) => number): Int32Array {
  const n = weights.length;
  const quota = new Int32Array(n);
  if (n === 0 || total <= 0) return quota;
  const share = new Float64Array(n);
  const fixed = new Uint8Array(n);
  let remaining = total;
  // Water-filling: members whose share exceeds their max are pinned at the max, the rest re-shared.
  for (;;) {
    let w = 0;
    for (let m = 0; m < n; m++) if (!fixed[m]) w += weights[m]!;
    if (w <= 0) break;
    let pinned = false;
    for (let m = 0; m < n; m++) {
      if (fixed[m]) continue;
      const s = (remaining * weights[m]!) / w;
      if (s >= maxEach[m]!) {
        fixed[m] = 1;
        share[m] = maxEach[m]!;
        remaining -= maxEach[m]!;
        pinned = true;
      } else share[m] = s;
    }
    if (!pinned) break;
  }
  let sum = 0;
  const eligible: number[] = [];
  for (let m = 0; m < n; m++) {
    let s = share[m]!;
    const r = Math.round(s);
    if (Math.abs(s - r) < 1e-9) s = r; // float noise must not turn an exact share into a rounding candidate
    quota[m] = Math.floor(s);
    sum += quota[m]!;
    if (s > quota[m]! && quota[m]! < maxEach[m]!) eligible.push(m);
  }
  let extra = Math.min(total, sumOf(maxEach)) - sum;
  eligible.sort(rank);
  for (const m of eligible) {
    if (extra <= 0) break;
    quota[m]!++;
    extra--;
  }
  // Only float error can leave units here; hand them out in rank order within the max.
  if (extra > 0) {
    const all = Array.from({ length: n }, (_, m) => m).sort(rank);
    for (let i = 0; extra > 0 && i < all.length * 2; i++) {
      const m = all[i % all.length]!;
      if (quota[m]! < maxEach[m]!) {
        quota[m]!++;
        extra--;
      }
    }
  }
  return quota;
}

function sumOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}
