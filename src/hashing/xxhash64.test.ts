import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { xxhash64 } from './xxhash64.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

// Published vectors (xxHash reference / python-xxhash README), re-checked against libxxhash 0.8.1.
const VECTORS: Array<[input: Uint8Array, seed: bigint, hex: string]> = [
  [utf8(''), 0n, 'ef46db3751d8e999'],
  [utf8('a'), 0n, 'd24ec4f1a98c6e5b'],
  [utf8('abc'), 0n, '44bc2cf5ad770999'],
  [utf8('xxhash'), 0n, '32dd38952c4bc720'],
  [utf8('xxhash'), 20141025n, 'b559b98d844e0635'],
  [utf8('Nobody inspects the spammish repetition'), 0n, 'fbcea83c8a378bf1'],
  [utf8('0123456789abcdef0123456789abcdef'), 0n, '642a94958e71e6c5'],
  [Uint8Array.from({ length: 100 }, (_, i) => i), 123456789012345n, '1318001187369309'],
];

test('xxhash64 matches the published vectors', () => {
  for (const [input, seed, hex] of VECTORS) assert.equal(xxhash64(input, seed).toString(16).padStart(16, '0'), hex, `input of ${input.length} bytes, seed ${seed}`);
});

// A direct BigInt transcription of the XXH64 spec: slow, obviously correct, the oracle for the 32-bit-halves version.
const M = (1n << 64n) - 1n;
const [P1, P2, P3, P4, P5] = [0x9e3779b185ebca87n, 0xc2b2ae3d27d4eb4fn, 0x165667b19e3779f9n, 0x85ebca77c2b2ae63n, 0x27d4eb2f165667c5n];
const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, v: bigint) => (rotl((acc + v * P2) & M, 31n) * P1) & M;
const merge = (h: bigint, v: bigint) => (((h ^ round(0n, v)) * P1 + P4) & M);
function reference(b: Uint8Array, seed: bigint): bigint {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = b.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & M, v2 = (seed + P2) & M, v3 = seed, v4 = (seed - P1) & M;
    for (; i + 32 <= len; i += 32) {
      v1 = round(v1, dv.getBigUint64(i, true));
      v2 = round(v2, dv.getBigUint64(i + 8, true));
      v3 = round(v3, dv.getBigUint64(i + 16, true));
      v4 = round(v4, dv.getBigUint64(i + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else h = (seed + P5) & M;
  h = (h + BigInt(len)) & M;
  for (; i + 8 <= len; i += 8) h = ((rotl(h ^ round(0n, dv.getBigUint64(i, true)), 27n) * P1 + P4) & M);
  if (i + 4 <= len) {
    h = ((rotl(h ^ ((BigInt(dv.getUint32(i, true)) * P1) & M), 23n) * P2 + P3) & M);
    i += 4;
  }
  for (; i < len; i++) h = (rotl(h ^ ((BigInt(b[i]!) * P5) & M), 11n) * P1) & M;
  h = ((h ^ (h >> 33n)) * P2) & M;
  h = ((h ^ (h >> 29n)) * P3) & M;
  return h ^ (h >> 32n);
}

test('xxhash64 agrees with a BigInt transcription of the spec for any bytes and seed', () => {
  for (const [input, seed, hex] of VECTORS) assert.equal(reference(input, seed).toString(16).padStart(16, '0'), hex, 'the oracle itself matches the vectors');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.bigInt({ min: 0n, max: M }), (bytes, seed) => {
      assert.equal(xxhash64(bytes, seed), reference(bytes, seed));
    }),
    { numRuns: 500 },
  );
});
