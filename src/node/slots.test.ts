import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { keySlotOfBytes } from '../hashing/slot.js';
import { slotOfRange } from './slots.js';

test('property: slotOfRange of a key inside a bigger buffer equals the key\'s own slot (braces around it do not count)', () => {
  const bytes = fc.uint8Array({ maxLength: 12 }).map((a) => a.map((b) => [0x7b, 0x7d, 0x61, b][b & 3]!));
  fc.assert(fc.property(bytes, bytes, bytes, (before, key, after) => {
    const buf = Buffer.concat([before, key, after]);
    assert.equal(slotOfRange(buf, before.length, before.length + key.length), keySlotOfBytes(key));
  }), { numRuns: 2000 });
});
