import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HashRing, virtualNodeKey } from './ring.js';
import { xxhash64 } from './xxhash64.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('virtual node keys are injective over (member id, index)', () => {
  fc.assert(
    fc.property(fc.string(), fc.nat(), fc.string(), fc.nat(), (a, i, b, j) => {
      fc.pre(a !== b || i !== j);
      assert.notEqual(hex(virtualNodeKey(a, i)), hex(virtualNodeKey(b, j)));
    }),
  );
  // The classic ambiguity of concatenated keys: "ab"+"1" vs "a"+"b1"-like splits.
  assert.notEqual(hex(virtualNodeKey('a1', 1)), hex(virtualNodeKey('a', 11)));
});

test('equal hashes order by member id then vnode, whatever the input order', () => {
  const constant = () => 42n;
  const members = [{ id: 'c', virtualNodes: 2 }, { id: 'a', virtualNodes: 2 }, { id: 'b', virtualNodes: 1 }];
  const ring = new HashRing(members, constant);
  assert.deepEqual([...ring.owners].map((i) => members[i]!.id), ['a', 'a', 'b', 'c', 'c']);
  const reversed = [...members].reverse();
  const ring2 = new HashRing(reversed, constant);
  assert.deepEqual([...ring2.owners].map((i) => reversed[i]!.id), ['a', 'a', 'b', 'c', 'c']);
});

test('successor finds the first point at or after a hash, wrapping around', () => {
  const ring = new HashRing([{ id: 'm', virtualNodes: 50 }], xxhash64);
  const pts = [...ring.points];
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i - 1]! <= pts[i]!, 'points sorted');
  assert.equal(ring.successor(0n), 0);
  assert.equal(ring.successor(pts[3]!), 3);
  assert.equal(ring.successor(pts[3]! + 1n), 4);
  assert.equal(ring.successor(pts[pts.length - 1]! + 1n), 0);
});

test('refuses a member with no virtual node', () => {
  assert.throws(() => new HashRing([{ id: 'x', virtualNodes: 0 }]), TypeError);
});
