/**
 * XXH64 (xxHash, 64-bit) of a byte string, as a bigint in [0, 2^64). Synchronous and dependency-free, so the
 * planner needs no async WASM start-up. Verified against the reference vectors in xxhash64.test.ts.
 *
 * Arithmetic runs on 32-bit halves (hi, lo) held in locals: measured ~5x faster than BigInt arithmetic for the
 * short keys the ring hashes (see docs/BENCHMARKS.md, placement).
 */
export type Hash64 = (bytes: Uint8Array) => bigint;

// The five 64-bit primes of XXH64, split into 32-bit halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

/** A 64-bit value as two unsigned 32-bit halves; one instance per hash call (no shared scratch). */
class U64 {
  h = 0;
  l = 0;
  set(h: number, l: number): this {
    this.h = h >>> 0;
    this.l = l >>> 0;
    return this;
  }
  add(h: number, l: number): this {
    const lo = this.l + (l >>> 0);
    this.l = lo >>> 0;
    this.h = (this.h + (h >>> 0) + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    return this;
  }
  /** this = this * (h:l) mod 2^64. */
  mul(bh: number, bl: number): this {
    const ah = this.h, al = this.l;
    const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
    const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    const lo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
    const hi = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(ah, bl) + Math.imul(al, bh);
    this.l = lo;
    this.h = hi >>> 0;
    return this;
  }
  rotl(r: number): this {
    const h = this.h, l = this.l;
    if (r === 32) return this.set(l, h);
    if (r > 32) {
      r -= 32;
      this.h = ((l << r) | (h >>> (32 - r))) >>> 0;
      this.l = ((h << r) | (l >>> (32 - r))) >>> 0;
    } else {
      this.h = ((h << r) | (l >>> (32 - r))) >>> 0;
      this.l = ((l << r) | (h >>> (32 - r))) >>> 0;
    }
    return this;
  }
  xor(h: number, l: number): this {
    this.h = (this.h ^ h) >>> 0;
    this.l = (this.l ^ l) >>> 0;
    return this;
  }
  /** this ^= this >>> s, for 32 <= s < 64 or 0 < s < 32. */
  xorShr(s: number): this {
    if (s >= 32) return this.xor(0, this.h >>> (s - 32));
    return this.xor(this.h >>> s, ((this.l >>> s) | (this.h << (32 - s))) >>> 0);
  }
}

function u32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** acc = rotl(acc + input * P2, 31) * P1 */
function round(acc: U64, t: U64, inH: number, inL: number): void {
  t.set(inH, inL).mul(P2H, P2L);
  acc.add(t.h, t.l).rotl(31).mul(P1H, P1L);
}

function mergeRound(h: U64, v: U64, t: U64, z: U64): void {
  z.set(0, 0);
  round(z, t, v.h, v.l);
  h.xor(z.h, z.l).mul(P1H, P1L).add(P4H, P4L);
}

/** XXH64 of `bytes` with an optional 64-bit seed. */
export function xxhash64(bytes: Uint8Array, seed = 0n): bigint {
  const len = bytes.length;
  const sh = Number((seed >> 32n) & 0xffffffffn), sl = Number(seed & 0xffffffffn);
  const h = new U64();
  const t = new U64();
  let i = 0;
  if (len >= 32) {
    const v1 = new U64().set(sh, sl).add(P1H, P1L).add(P2H, P2L);
    const v2 = new U64().set(sh, sl).add(P2H, P2L);
    const v3 = new U64().set(sh, sl);
    // seed - P1 = seed + (2^64 - P1)
    const v4 = new U64().set(sh, sl).add(~P1H, ~P1L).add(0, 1);
    const limit = len - 32;
    while (i <= limit) {
      round(v1, t, u32(bytes, i + 4), u32(bytes, i));
      round(v2, t, u32(bytes, i + 12), u32(bytes, i + 8));
      round(v3, t, u32(bytes, i + 20), u32(bytes, i + 16));
      round(v4, t, u32(bytes, i + 28), u32(bytes, i + 24));
      i += 32;
    }
    const a = new U64().set(v1.h, v1.l).rotl(1);
    h.set(a.h, a.l);
    a.set(v2.h, v2.l).rotl(7);
    h.add(a.h, a.l);
    a.set(v3.h, v3.l).rotl(12);
    h.add(a.h, a.l);
    a.set(v4.h, v4.l).rotl(18);
    h.add(a.h, a.l);
    mergeRound(h, v1, t, a);
    mergeRound(h, v2, t, a);
    mergeRound(h, v3, t, a);
    mergeRound(h, v4, t, a);
  } else {
    h.set(sh, sl).add(P5H, P5L);
  }
  h.add(Math.floor(len / 0x100000000), len >>> 0);
  const k = new U64();
  while (i + 8 <= len) {
    k.set(0, 0);
    round(k, t, u32(bytes, i + 4), u32(bytes, i));
    h.xor(k.h, k.l).rotl(27).mul(P1H, P1L).add(P4H, P4L);
    i += 8;
  }
  if (i + 4 <= len) {
    t.set(0, u32(bytes, i)).mul(P1H, P1L);
    h.xor(t.h, t.l).rotl(23).mul(P2H, P2L).add(P3H, P3L);
    i += 4;
  }
  while (i < len) {
    t.set(0, bytes[i]!).mul(P5H, P5L);
    h.xor(t.h, t.l).rotl(11).mul(P1H, P1L);
    i++;
  }
  h.xorShr(33).mul(P2H, P2L).xorShr(29).mul(P3H, P3L).xorShr(32);
  return (BigInt(h.h) << 32n) | BigInt(h.l);
}
