import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import clusterKeySlot from 'cluster-key-slot';
import { crc16, keySlot, keySlotOfBytes, SLOT_COUNT } from './slot.js';

test('crc16 matches the XMODEM check value', () => {
  assert.equal(crc16(Buffer.from('123456789')), 0x31c3);
});

const vectors: Array<[string, number]> = [
  ['123456789', 0x31c3 % SLOT_COUNT],
  ['foo', 12182],
  ['bar', 5061],
  ['{user1000}.following', 3443],
  ['{user1000}.followers', 3443],
  ['foo{}{bar}', 8363],
  ['foo{{bar}}zap', 4015],
  ['foo{bar}{zap}', 5061],
  ['', 0],
  ['{', keySlot(Buffer.from('{'))],
  // An empty tag hashes the whole key, even when another `}` follows (checked with redis-server 7.0
  // `CLUSTER KEYSLOT`); the cluster-key-slot package answers 0 and 15495 for these two.
  ['{}}', 14790],
  ['{}a}', 4370],
];

for (const [key, slot] of vectors) {
  test(`slot of ${JSON.stringify(key)} is ${slot} as string and as bytes`, () => {
    assert.equal(keySlot(key), slot);
    assert.equal(keySlotOfBytes(Buffer.from(key)), slot);
  });
}

test('hash-tagged keys share a slot', () => {
  assert.equal(keySlot('{user1}:a'), keySlot('{user1}:b'));
});

test('non-UTF-8 binary keys hash by their bytes', () => {
  const key = Buffer.from([0xff, 0xfe, 0x7b, 0x61, 0x7d, 0x00]);
  assert.equal(keySlot(key), keySlot(Buffer.from('a')));
  assert.equal(keySlot(Buffer.from([0xff, 0x00, 0x80])), clusterKeySlot(Buffer.from([0xff, 0x00, 0x80])));
});

/**
 * Where the cluster-key-slot package is wrong: a key whose first `{` opens an empty tag (`{}`) with another `}` later
 * (Redis hashes the whole key; the package hashes something else). Those keys are checked by the vectors above.
 */
const referenceIsWrong = (k: Buffer): boolean => {
  const open = k.indexOf(0x7b);
  return open >= 0 && k[open + 1] === 0x7d && k.indexOf(0x7d, open + 2) >= 0;
};

test('property: keySlot agrees with the cluster-key-slot reference for strings and bytes', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('{a}b', '{}x', 'x{y}')), (s) => {
      if (referenceIsWrong(Buffer.from(s))) return;
      assert.equal(keySlot(s), clusterKeySlot(s));
      assert.equal(keySlotOfBytes(Buffer.from(s)), clusterKeySlot(Buffer.from(s)));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      if (referenceIsWrong(Buffer.from(bytes))) return;
      assert.equal(keySlot(bytes), clusterKeySlot(Buffer.from(bytes)));
    }),
    { numRuns: 2000 },
  );
});
