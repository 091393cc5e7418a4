import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../testing/manual-clock.js';
import { Store, type ExportedEntry, type WriteEvent } from './index.js';

function setup(partitionCount = 16) {
  const clock = new ManualClock();
  return { clock, store: new Store({ partitionCount, timeSnapshot: 'call' }, clock) };
}

test('export, drop and import round-trip a partition with values and TTLs', () => {
  const { clock, store } = setup();
  const t = clock.now();
  for (let i = 0; i < 2500; i++) store.set(5, `k${i}`, `v${i}`, i % 3 === 0 ? { expiresAt: t + 1000 + i } : undefined);
  store.set(5, 'dead', 'x', { expiresAt: t + 1 });
  store.set(6, 'other', 'y');
  clock.advance(2);
  const before = store.partitionStats(5);
  const batches = [...store.exportPartition(5, 1000)];
  assert.deepEqual(batches.map((b) => b.length), [1000, 1000, 500], 'batches of at most 1000, expired key skipped');
  const entries: ExportedEntry[] = batches.flat();
  assert.equal(new Set(entries.map((e) => e.key)).size, 2500);
  assert.equal(store.dropPartition(5), 2501);
  assert.deepEqual(store.partitionStats(5), { keys: 0, bytes: 0 });
  assert.equal(store.dbsize(), 1);
  assert.equal(store.get(5, 'k1'), undefined);

  const target = new Store({ partitionCount: 16, timeSnapshot: 'call' }, clock);
  assert.equal(target.importEntries(5, entries), 2500);
  assert.equal(target.partitionStats(5).keys, 2500);
  assert.equal(target.partitionStats(5).bytes, before.bytes - entryBytes('dead', 'x'), 'the same bytes minus the expired entry');
  for (let i = 0; i < 2500; i += 97) {
    assert.equal(target.get(5, `k${i}`), `v${i}`);
    assert.equal(target.pttl(5, `k${i}`), i % 3 === 0 ? 1000 + i - 2 : -1);
  }
  assert.equal(target.stats().volatileKeys, Math.ceil(2500 / 3));
});

function entryBytes(key: string, value: string): number {
  const s = new Store({ partitionCount: 1 });
  s.set(0, key, value);
  return s.memoryUsed;
}

test('import skips entries that expired in transit', () => {
  const { clock, store } = setup();
  const n = store.importEntries(0, [
    { key: 'a', value: '1', expiresAt: clock.now() - 1 },
    { key: 'b', value: '2', expiresAt: 0 },
    { key: 'c', value: '3', expiresAt: clock.now() + 10 },
  ]);
  assert.equal(n, 2);
  assert.equal(store.exists(0, 'a'), false);
  assert.equal(store.pttl(0, 'c'), 10);
});

test('per-partition and global accounting agree after mixed writes', () => {
  const { store } = setup(4);
  for (let i = 0; i < 400; i++) store.set(i % 4, `k${i}`, 'x'.repeat(i));
  for (let i = 0; i < 400; i += 3) store.del(i % 4, `k${i}`);
  for (let i = 1; i < 400; i += 5) store.append(i % 4, `k${i}`, 'yy');
  let bytes = 0;
  let keys = 0;
  for (let p = 0; p < 4; p++) {
    bytes += store.partitionStats(p).bytes;
    keys += store.partitionStats(p).keys;
  }
  assert.equal(bytes, store.memoryUsed);
  assert.equal(keys, store.dbsize());
  store.flushAll();
  assert.equal(store.memoryUsed, 0);
  assert.equal(store.dbsize(), 0);
});

test('write events arrive in order with full values, and nothing is built without listeners', () => {
  const { clock, store } = setup(4);
  const seen: WriteEvent[] = [];
  const off = store.onWrite((e) => seen.push(e));
  const t = clock.now();
  store.set(1, 'a', 'x');
  store.append(1, 'a', 'y');
  store.incrBy(1, 'n', 2);
  store.expire(1, 'a', t + 10);
  store.persist(1, 'a');
  store.expire(1, 'a', t + 5);
  store.setRange(1, 'a', 1, 'Z');
  store.del(1, 'n');
  store.set(2, 'b', 'q', { expiresAt: t + 1 });
  clock.advance(2);
  store.get(2, 'b');
  store.set(3, 'c', 'c');
  store.dropPartition(3);
  const compact = seen.map((e) => [e.partition, e.kind, e.key, e.value, e.expiresAt]);
  assert.deepEqual(compact, [
    [1, 'set', 'a', 'x', 0],
    [1, 'set', 'a', 'xy', 0],
    [1, 'set', 'n', '2', 0],
    [1, 'expire', 'a', undefined, t + 10],
    [1, 'expire', 'a', undefined, 0],
    [1, 'expire', 'a', undefined, t + 5],
    [1, 'set', 'a', 'xZ', t + 5],
    [1, 'del', 'n', undefined, 0],
    [2, 'set', 'b', 'q', t + 1],
    [2, 'expired', 'b', undefined, 0],
    [3, 'set', 'c', 'c', 0],
    [3, 'drop', '', undefined, 0],
  ]);
  off();
  store.set(1, 'z', 'z');
  assert.equal(seen.length, compact.length, 'no events after unsubscribing');
});

test('scan returns every key exactly once across partitions when nothing is written', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.tuple(fc.nat(39), fc.string({ maxLength: 6 })), { maxLength: 300 }),
      fc.integer({ min: 1, max: 50 }),
      fc.boolean(),
      (partitions, writes, count, ownOdd) => {
        const store = new Store({ partitionCount: partitions }, new ManualClock());
        const expected = new Set<string>();
        const owns = ownOdd ? (p: number) => p % 2 === 1 : undefined;
        for (const [p0, k] of writes) {
          const p = p0 % partitions;
          store.set(p, `${p}/${k}`, 'v');
          if (owns === undefined || owns(p)) expected.add(`${p}/${k}`);
        }
        const got: string[] = [];
        let cursor = 0;
        let calls = 0;
        do {
          const r = store.scan(cursor, count, owns);
          got.push(...r.keys);
          cursor = r.cursor;
          assert.ok(++calls < 10_000, 'scan terminates');
        } while (cursor !== 0);
        assert.equal(got.length, expected.size, 'no duplicates');
        assert.deepEqual(new Set(got), expected);
      },
    ),
    { numRuns: 200 },
  );
});

test('scan resumes from the cursor without its cached iterator (e.g. after many concurrent scans)', () => {
  const { store } = setup(2);
  for (let i = 0; i < 500; i++) store.set(i % 2, `k${i}`, 'v');
  const seen = new Set<string>();
  let cursor = 0;
  do {
    const r = store.scan(cursor, 7);
    for (const k of r.keys) {
      assert.ok(!seen.has(k), `duplicate ${k}`);
      seen.add(k);
    }
    cursor = r.cursor;
    for (let j = 0; j < 70; j++) store.scan(0, 1 + j); // pushes this scan's iterator out of the cache
  } while (cursor !== 0);
  assert.equal(seen.size, 500);
});

test('scan keeps returning keys present for the whole scan while others are deleted and added', () => {
  const { store } = setup(3);
  for (let i = 0; i < 300; i++) store.set(i % 3, `stay${i}`, 'v');
  for (let i = 0; i < 300; i++) store.set(i % 3, `churn${i}`, 'v');
  const seen = new Set<string>();
  let cursor = 0;
  let round = 0;
  do {
    const r = store.scan(cursor, 10, undefined, (k) => k.startsWith('stay'));
    for (const k of r.keys) seen.add(k);
    cursor = r.cursor;
    store.del(round % 3, `churn${round}`);
    store.set(round % 3, `new${round}`, 'v');
    round++;
  } while (cursor !== 0);
  assert.equal(seen.size, 300);
});

/**
 * The SCAN guarantee with writes: a key present for the whole scan is returned, with random sets and deletes between
 * steps, and with the step's cached iterator dropped or kept (cases 1-3 of scan.ts).
 */
test('property: scan returns every key present throughout, with deletes and sets between steps and iterators dropped', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 30 }),
      fc.array(fc.tuple(fc.constantFrom('del', 'set', 'none'), fc.nat(600), fc.integer({ min: 0, max: 40 }), fc.boolean()), { maxLength: 200 }),
      (partitions, initial, count, steps) => {
        const store = new Store({ partitionCount: partitions }, new ManualClock());
        const at = (i: number): number => i % partitions;
        for (let i = 0; i < initial; i++) store.set(at(i), `k${i}`, 'v');
        const deleted = new Set<number>();
        const seen = new Set<string>();
        let cursor = 0;
        let calls = 0;
        do {
          const r = store.scan(cursor, count);
          for (const k of r.keys) seen.add(k);
          cursor = r.cursor;
          const [kind, from, n, drop] = steps[calls % Math.max(1, steps.length)] ?? ['none', 0, 0, false];
          if (calls < steps.length) {
            for (let i = from; i < from + n; i++) {
              if (kind === 'del' && store.del(at(i), `k${i}`)) deleted.add(i);
              if (kind === 'set') store.set(at(i), `k${i}`, 'w');
            }
            if (drop) for (let j = 0; j < 70; j++) store.scan(0, 1 + j);
          }
          assert.ok(++calls < 100_000, 'scan terminates');
        } while (cursor !== 0);
        for (let i = 0; i < initial; i++) if (!deleted.has(i)) assert.ok(seen.has(`k${i}`), `k${i} was present throughout but not returned`);
      },
    ),
    { numRuns: 200 },
  );
});

test('scan and partitionKeys skip expired keys', () => {
  const { clock, store } = setup(2);
  store.set(0, 'live', 'v');
  store.set(0, 'dying', 'v', { expiresAt: clock.now() + 1 });
  clock.advance(2);
  assert.deepEqual(store.scan(0, 100).keys, ['live']);
  assert.deepEqual([...store.partitionKeys(0)], ['live']);
});
