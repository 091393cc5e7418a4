import { xxhash64, type Hash64 } from './xxhash64.js';

/** One member as the ring sees it: a stable id (ties break by it) and its number of virtual nodes (>= 1). */
export interface RingMember {
  readonly id: string;
  readonly virtualNodes: number;
}

const encoder = new TextEncoder();

/**
 * The key of virtual node `i` of member `id`: [id length u16][id UTF-8][i u32 LE]. Injective: two different
 * (id, i) pairs never produce the same bytes, so only a real hash collision can put two vnodes on one point.
 */
export function virtualNodeKey(id: string, i: number): Uint8Array {
  const idBytes = encoder.encode(id);
  const out = new Uint8Array(2 + idBytes.length + 4);
  out[0] = idBytes.length & 0xff;
  out[1] = (idBytes.length >>> 8) & 0xff;
  out.set(idBytes, 2);
  new DataView(out.buffer).setUint32(2 + idBytes.length, i >>> 0, true);
  return out;
}

/** The ring position key of partition `p`: "partition" + p as u32 LE. */
export function partitionKey(p: number): Uint8Array {
  const out = new Uint8Array(13);
  out.set(encoder.encode('partition'), 0);
  new DataView(out.buffer).setUint32(9, p >>> 0, true);
  return out;
}

/**
 * An immutable consistent-hash ring of members x virtual nodes on a 64-bit hash. Points are sorted by
 * (hash, member id, vnode index), so equal hashes order the same way whatever order members were given in.
 */
export class HashRing {
  /** Sorted point hashes. */
  readonly points: BigUint64Array;
  /** owners[i]: index into `members` of point i. */
  readonly owners: Int32Array;
  readonly members: readonly RingMember[];

  constructor(members: readonly RingMember[], hash: Hash64 = xxhash64) {
    this.members = members;
    let total = 0;
    for (const m of members) {
      if (!Number.isInteger(m.virtualNodes) || m.virtualNodes < 1) throw new TypeError(`virtualNodes of ${m.id} must be an integer >= 1`);
      total += m.virtualNodes;
    }
    // Hash each vnode key (one buffer per member, index rewritten in place), keep the hash as two 32-bit halves
    // for a numeric sort: bigint comparisons and per-vnode key allocation cost ~4x more (measured at N=1000, V=40).
    const hashes = new BigUint64Array(total);
    const hi = new Float64Array(total);
    const lo = new Float64Array(total);
    const owner = new Int32Array(total);
    const vnode = new Int32Array(total);
    const rank = new Int32Array(members.length);
    members
      .map((m, i) => [m.id, i] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .forEach(([, i], r) => (rank[i] = r));
    let k = 0;
    members.forEach((m, mi) => {
      const key = virtualNodeKey(m.id, 0);
      const view = new DataView(key.buffer);
      for (let i = 0; i < m.virtualNodes; i++, k++) {
        view.setUint32(key.length - 4, i >>> 0, true);
        const h = BigInt.asUintN(64, hash(key));
        hashes[k] = h;
        hi[k] = Number(h >> 32n);
        lo[k] = Number(h & 0xffffffffn);
        owner[k] = mi;
        vnode[k] = i;
      }
    });
    const order = new Int32Array(total);
    for (let i = 0; i < total; i++) order[i] = i;
    order.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || rank[owner[a]!]! - rank[owner[b]!]! || vnode[a]! - vnode[b]!);
    this.points = new BigUint64Array(total);
    this.owners = new Int32Array(total);
    for (let to = 0; to < total; to++) {
      const from = order[to]!;
      this.points[to] = hashes[from]!;
      this.owners[to] = owner[from]!;
    }
  }

  get size(): number {
    return this.points.length;
  }

  /** Index of the first point with hash >= h, wrapping to 0 past the end. The ring must not be empty. */
  successor(h: bigint): number {
    let lo = 0, hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.points.length ? 0 : lo;
  }
}
