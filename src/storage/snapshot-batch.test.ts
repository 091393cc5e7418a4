// The binary snapshot batch: codec round trips, garbage input (every problem a SnapshotBatchError, never another
// throw), limits, and Store.applySnapshotBatch against applyReplicated (same copy, same accounting).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../testing/manual-clock.js';
import type { Clock } from '../shared/clock.js';
import { encodeCollection, HashValue, SetValue, ZSetValue } from './collections.js';
import {
  decodeSnapshotBatch, DEFAULT_SNAPSHOT_BATCH_LIMITS, encodeSnapshotBatch, SNAPSHOT_BATCH_HEADER_BYTES, SNAPSHOT_ENTRY_HEADER_BYTES,
  SnapshotBatchError, validateSnapshotBatch, type SnapshotBatchEntry,
} from './snapshot-batch.js';
import { Store, TypedValue } from './index.js';

const hash = new HashValue();
hash.set('f', 'v');
hash.set('g', 'w\u00ff');
const set = new SetValue();
set.add('a');
set.add('17');
const zset = new ZSetValue();
zset.add('m', 1.5);
zset.add('n', -Infinity);

/** A batch by hand: [type, key, value bytes, expiresAt] per entry; `count` overrides the header. */
function handmade(entries: Array<[number, string, Buffer, number]>, count = entries.length, version = 1): Buffer {
  const parts: Buffer[] = [Buffer.from([version]), Buffer.alloc(4)];
  parts[1]!.writeUInt32LE(count, 0);
  for (const [type, key, value, exp] of entries) {
    const h = Buffer.alloc(SNAPSHOT_ENTRY_HEADER_BYTES);
    h[0] = type;
    h.writeUInt32LE(key.length, 1);
    h.writeUInt32LE(value.length, 5);
    h.writeDoubleLE(exp, 9);
    parts.push(h, Buffer.from(key, 'latin1'), value);
  }
  return Buffer.concat(parts);
}

test('round trip: strings (binary-safe), hashes, sets, sorted sets, TTLs', () => {
  const entries: SnapshotBatchEntry[] = [
    { key: 'k\u00ff', type: 'string', value: 'v', expiresAt: 0 },
    { key: '', type: 'string', value: Buffer.from([0, 13, 10, 255]), expiresAt: 1_700_000_000_000 },
    { key: 'h', type: 'hash', value: encodeCollection(hash), expiresAt: 5 },
    { key: 's', type: 'set', value: encodeCollection(set), expiresAt: 0 },
    { key: 'z', type: 'zset', value: encodeCollection(zset), expiresAt: Number.MAX_SAFE_INTEGER },
  ];
  const b = encodeSnapshotBatch(entries);
  const decoded = decodeSnapshotBatch(b);
  assert.deepStrictEqual(decoded.map((e) => [e.key, e.type, e.expiresAt]), entries.map((e) => [e.key, e.type, e.expiresAt]));
  decoded.forEach((d, i) => {
    const v = entries[i]!.value;
    assert.deepStrictEqual(d.value, typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v));
  });
  assert.deepStrictEqual(decodeSnapshotBatch(encodeSnapshotBatch([])), []);
});

test('property: any entries round-trip', () => {
  const entry = fc.record({
    key: fc.uint8Array({ maxLength: 30 }).map((k) => Buffer.from(k).toString('latin1')),
    type: fc.constant('string' as const),
    value: fc.uint8Array({ maxLength: 300 }).map((v) => Buffer.from(v)),
    expiresAt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  });
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 40 }), (entries) => {
      assert.deepStrictEqual(decodeSnapshotBatch(encodeSnapshotBatch(entries)), entries.map((e) => ({ ...e })));
    }),
  );
});

test('garbage is refused with a SnapshotBatchError naming the problem', () => {
  const ok = handmade([[0, 'k', Buffer.from('v'), 0]]);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /shorter than its header/],
    ['header only, truncated', Buffer.from([1, 1, 0]), /shorter than its header/],
    ['unknown version', handmade([], 0, 2), /version 2, expected 1/],
    ['count past what the bytes allow', handmade([], 1000), /count 1000 larger than 5 bytes allow/],
    ['count larger than the entries', Buffer.concat([handmade([[0, 'k', Buffer.from('v'), 0]], 2), Buffer.alloc(16)]), /entry 1: truncated header/],
    ['trailing bytes', Buffer.concat([ok, Buffer.from([0])]), /1 trailing bytes/],
    ['unknown type', handmade([[9, 'k', Buffer.from('v'), 0]]), /entry 0: unknown type 9/],
    ['value past the end', ok.subarray(0, ok.length - 1), /entry 0: 2 key and value bytes past the end/],
    ['negative expiry', handmade([[0, 'k', Buffer.from('v'), -1]]), /expiresAt -1 is not an integer/],
    ['fractional expiry', handmade([[0, 'k', Buffer.from('v'), 1.5]]), /expiresAt 1.5/],
    ['NaN expiry', handmade([[0, 'k', Buffer.from('v'), NaN]]), /expiresAt NaN/],
    ['expiry past 2^53', handmade([[0, 'k', Buffer.from('v'), 2 ** 60]]), /not an integer in \[0, 2\^53\)/],
    ['a hash that does not decode', handmade([[1, 'h', Buffer.from([1, 0, 0, 0, 9]), 0]]), /entry 0: invalid hash encoding/],
    ['an empty set', handmade([[2, 's', Buffer.from([0, 0, 0, 0]), 0]]), /entry 0: empty set/],
    ['a zset with a NaN score', handmade([[3, 'z', (() => {
      const b = Buffer.alloc(4 + 8 + 4 + 1);
      b.writeUInt32LE(1, 0);
      b.writeDoubleLE(NaN, 4);
      b.writeUInt32LE(1, 12);
      b[16] = 109;
      return b;
    })(), 0]]), /NaN score/],
  ];
  for (const [name, b, pattern] of cases) {
    assert.throws(() => validateSnapshotBatch(b), (e: unknown) => e instanceof SnapshotBatchError && pattern.test(e.message), name);
  }
});

test('limits: entries, key and value bytes', () => {
  const b = handmade([[0, 'key', Buffer.alloc(10), 0], [0, 'k2', Buffer.alloc(3), 0]]);
  const limits = { ...DEFAULT_SNAPSHOT_BATCH_LIMITS };
  assert.throws(() => validateSnapshotBatch(b, { ...limits, maxEntries: 1 }), /2 entries, more than 1/);
  assert.throws(() => validateSnapshotBatch(b, { ...limits, maxKeyBytes: 2 }), /entry 0: key of 3 bytes, more than 2/);
  assert.throws(() => validateSnapshotBatch(b, { ...limits, maxValueBytes: 9 }), /entry 0: value of 10 bytes, more than 9/);
  assert.equal(validateSnapshotBatch(b, { maxEntries: 2, maxKeyBytes: 3, maxValueBytes: 10 }).count, 2);
  // A length field that claims gigabytes is refused by the bytes check, never allocated.
  const huge = handmade([[0, 'k', Buffer.from('v'), 0]]);
  huge.writeUInt32LE(0xffffffff, SNAPSHOT_BATCH_HEADER_BYTES + 5);
  assert.throws(() => validateSnapshotBatch(huge), /more than|past the end/);
});

test('property: random bytes and mutated batches never throw anything but SnapshotBatchError', () => {
  const valid = encodeSnapshotBatch([
    { key: 'a', type: 'string', value: 'xyz', expiresAt: 7 },
    { key: 'h', type: 'hash', value: encodeCollection(hash), expiresAt: 0 },
    { key: 'z', type: 'zset', value: encodeCollection(zset), expiresAt: 0 },
  ]);
  const check = (b: Buffer): void => {
    try {
      validateSnapshotBatch(b);
    } catch (e) {
      if (!(e instanceof SnapshotBatchError)) throw e;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => check(Buffer.from(bytes))));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(valid.length), (flips, cut) => {
      const b = Buffer.from(valid);
      for (const [i, v] of flips) b[i] = v;
      check(b);
      check(b.subarray(0, cut));
    }),
  );
});

// ---------------------------------------------------------------- Store.applySnapshotBatch

/** A clock that fails the test when read. */
const noClock: Clock = {
  now: () => assert.fail('applySnapshotBatch read the clock'),
  monotonic: () => assert.fail('applySnapshotBatch read the clock'),
  setTimeout: (fn, ms) => new ManualClock().setTimeout(fn, ms),
  setInterval: (fn, ms) => new ManualClock().setInterval(fn, ms),
};

test('applySnapshotBatch gives the same copy and accounting as applyReplicated, without reading the clock', () => {
  const primary = new Store({ partitionCount: 2, timeSnapshot: 'call' }, new ManualClock(1000));
  for (let i = 0; i < 50; i++) primary.set(0, `k${i}`, i % 3 === 0 ? Buffer.from(`v${i}\u00ff`, 'latin1') : `v${i}`, i % 2 === 0 ? { expiresAt: 5000 + i } : undefined);
  primary.putCollection(0, 'h', hash.clone(), 0);
  primary.putCollection(0, 's', set.clone(), 9000);
  primary.putCollection(0, 'z', zset.clone(), 0);
  const bulk = new Store({ partitionCount: 2 }, noClock);
  const oneByOne = new Store({ partitionCount: 2 }, noClock);
  for (const s of [bulk, oneByOne]) s.setPartitionRole(0, 'copy');
  // A key the stream already brought (replaced whole by the batch) and a key the batch does not hold (kept).
  for (const s of [bulk, oneByOne]) {
    s.applyReplicated(0, { kind: 'set', key: 'k1', value: 'from the stream, longer than the batch value', expiresAt: 3 });
    s.applyReplicated(0, { kind: 'set', key: 'other', value: 'o', expiresAt: 0 });
  }
  const reader = primary.snapshotReader(0, { maxEntries: 7 });
  const mirror = primary.snapshotReader(0, { maxEntries: 7 });
  let keys = 0;
  for (let b = reader.nextBatch(); b !== null; b = reader.nextBatch()) {
    const r = bulk.applySnapshotBatch(0, b);
    assert.ok(r !== null);
    keys += r.keys;
    for (const e of mirror.next()!) assert.ok(oneByOne.applyReplicated(0, { kind: 'set', key: e.key, value: e.value, expiresAt: e.expiresAt }));
  }
  assert.equal(mirror.next(), null);
  assert.equal(keys, 53);
  assert.deepStrictEqual(bulk.digest(0), oneByOne.digest(0));
  assert.equal(bulk.memoryUsed, oneByOne.memoryUsed);
  assert.deepStrictEqual(bulk.partitionStats(0), oneByOne.partitionStats(0));
  assert.equal(bulk.dbsize(), 54);
  assert.equal(bulk.stats().keys, 54);
  // The copy equals the primary plus the key only the stream brought.
  const check = new Store({ partitionCount: 2 }, noClock);
  check.setPartitionRole(0, 'copy');
  const r2 = primary.snapshotReader(0);
  for (let b = r2.nextBatch(); b !== null; b = r2.nextBatch()) check.applySnapshotBatch(0, b);
  check.applyReplicated(0, { kind: 'set', key: 'other', value: 'o', expiresAt: 0 });
  assert.deepStrictEqual(check.digest(0), bulk.digest(0));
  assert.equal(bulk.type(0, 'z'), 'zset');
  assert.equal(bulk.type(0, 'h'), 'hash');
});

test('applySnapshotBatch: a malformed batch changes nothing; a primary partition or bad index is a TypeError', () => {
  const store = new Store({ partitionCount: 2 }, noClock);
  store.setPartitionRole(0, 'copy');
  store.applyReplicated(0, { kind: 'set', key: 'a', value: 'b', expiresAt: 0 });
  const before = [store.digest(0), store.memoryUsed, store.dbsize()];
  const good = encodeSnapshotBatch([{ key: 'x', type: 'string', value: 'y', expiresAt: 0 }]);
  const bad = Buffer.concat([good, Buffer.from([0])]);
  assert.throws(() => store.applySnapshotBatch(0, bad), SnapshotBatchError);
  assert.deepStrictEqual([store.digest(0), store.memoryUsed, store.dbsize()], before);
  assert.throws(() => store.applySnapshotBatch(1, good), /partition 1 is a primary/);
  assert.throws(() => store.applySnapshotBatch(2, good), /applySnapshotBatch: partition must be an integer/);
});

test('applySnapshotBatch under maxmemory: evicts primary keys to make room, refuses (null) what copies alone cannot hold', () => {
  const entries = Array.from({ length: 20 }, (_, i): SnapshotBatchEntry => ({ key: `c${i}`, type: 'string', value: 'x'.repeat(100), expiresAt: 0 }));
  const batch = encodeSnapshotBatch(entries);
  const perKey = 200 + 3 + 100;
  // Room for the copy only by evicting the primary partition's keys.
  const store = new Store({ partitionCount: 2, maxMemoryBytes: perKey * 25, evictionPolicy: 'allkeys-lru', timeSnapshot: 'call' }, new ManualClock(1000));
  for (let i = 0; i < 20; i++) store.set(1, `p${i}`, 'x'.repeat(100));
  store.setPartitionRole(0, 'copy');
  assert.deepStrictEqual(store.applySnapshotBatch(0, batch), { keys: 20, bytes: 20 * 103 - 10 });
  assert.equal(store.partitionSize(0), 20);
  assert.ok(store.stats().evictions > 0);
  assert.ok(store.memoryUsed <= perKey * 25);
  // Copies alone over the budget: refused.
  const small = new Store({ partitionCount: 2, maxMemoryBytes: perKey * 10, timeSnapshot: 'call' }, new ManualClock(1000));
  small.setPartitionRole(0, 'copy');
  assert.equal(small.applySnapshotBatch(0, batch), null);
  assert.ok(small.memoryUsed <= perKey * 10);
  assert.equal(small.stats().oomRejections, 1);
  // A string value over maxValueBytes: refused whole.
  const tight = new Store({ partitionCount: 2, maxValueBytes: 50 }, noClock);
  tight.setPartitionRole(0, 'copy');
  assert.equal(tight.applySnapshotBatch(0, batch), null);
  assert.equal(tight.dbsize(), 0);
});

test('applySnapshotBatch never passes maxmemory with collections whose accounted size dwarfs their encoding', () => {
  // 1000 one- to three-byte set members: ~7 KB encoded, ~60 KB accounted.
  const big = new SetValue();
  for (let i = 0; i < 1000; i++) big.add(String(i));
  const batch = encodeSnapshotBatch([{ key: 's', type: 'set', value: encodeCollection(big), expiresAt: 0 }]);
  assert.ok(big.bytes > 5 * batch.length);
  const store = new Store({ partitionCount: 1, maxMemoryBytes: 30_000, timeSnapshot: 'call' }, new ManualClock(1000));
  store.setPartitionRole(0, 'copy');
  assert.equal(store.applySnapshotBatch(0, batch), null);
  assert.ok(store.memoryUsed <= 30_000, `used ${store.memoryUsed}`);
  const roomy = new Store({ partitionCount: 1, maxMemoryBytes: 100_000, timeSnapshot: 'call' }, new ManualClock(1000));
  roomy.setPartitionRole(0, 'copy');
  assert.deepStrictEqual(roomy.applySnapshotBatch(0, batch), { keys: 1, bytes: 1 + batch.length - 5 - 17 - 1 });
  assert.equal(roomy.memoryUsed, 200 + 1 + big.bytes);
});

test('nextBatch encodes the same entries as next, collections included', () => {
  const store = new Store({ partitionCount: 1, timeSnapshot: 'call' }, new ManualClock(1000));
  store.set(0, 'a', 'x');
  store.set(0, 'b', Buffer.from([0, 1, 2]), { expiresAt: 9999 });
  store.putCollection(0, 'h', hash.clone(), 0);
  const a = store.snapshotReader(0, { maxEntries: 2 });
  const b = store.snapshotReader(0, { maxEntries: 2 });
  for (;;) {
    const x = a.next();
    const y = b.nextBatch();
    if (x === null) {
      assert.equal(y, null);
      break;
    }
    const decoded = decodeSnapshotBatch(y!);
    assert.deepStrictEqual(decoded.map((d) => [d.key, d.expiresAt, d.type]), x.map((e) => [e.key, e.expiresAt, e.value instanceof TypedValue ? e.value.type : 'string']));
    decoded.forEach((d, i) => {
      const v = x[i]!.value;
      assert.deepStrictEqual(d.value, v instanceof TypedValue ? v.bytes : typeof v === 'string' ? Buffer.from(v, 'latin1') : v);
    });
  }
});
