import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../testing/manual-clock.js';
import { isRingleaderError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import { entryCost, Store, type EvictionPolicy, type ReplicatedOp, type StoreOptions, type WriteEvent } from './index.js';

function setup(options: Partial<StoreOptions> = {}) {
  const clock = new ManualClock();
  const store = new Store({ partitionCount: 4, timeSnapshot: 'call', ...options }, clock);
  const events: WriteEvent[] = [];
  store.onWrite((e) => void events.push(e));
  return { clock, store, events };
}

const isTypeError = (pattern: RegExp) => (e: unknown) => e instanceof TypeError && pattern.test(e.message);

/** Everything observable about a store that a refused call must leave alone. */
function state(store: Store) {
  return {
    digests: Array.from({ length: store.options.partitionCount }, (_, p) => store.digest(p)),
    used: store.memoryUsed,
    stats: store.stats(),
  };
}

// ---------------------------------------------------------------- roles

test('partitions are primary by default; setPartitionRole switches and validates', () => {
  const { store } = setup();
  assert.equal(store.partitionRole(0), 'primary');
  store.setPartitionRole(2, 'copy');
  assert.equal(store.partitionRole(2), 'copy');
  assert.equal(store.partitionRole(1), 'primary');
  store.setPartitionRole(2, 'copy'); // idempotent
  store.setPartitionRole(2, 'primary');
  assert.equal(store.partitionRole(2), 'primary');
  for (const p of [-1, 4, 1.5, NaN, '0' as unknown as number]) {
    assert.throws(() => store.setPartitionRole(p, 'copy'), isTypeError(/setPartitionRole: partition must be an integer in \[0, 4\)/));
    assert.throws(() => store.partitionRole(p), isTypeError(/partitionRole: partition must be/));
  }
  assert.throws(() => store.setPartitionRole(0, 'backup' as 'copy'), isTypeError(/role must be 'primary' or 'copy', got backup/));
  assert.equal(store.partitionRole(0), 'primary');
});

test('a read of an expired key on a copy answers "missing" but deletes nothing and emits nothing', () => {
  const { clock, store, events } = setup();
  store.setPartitionRole(1, 'copy');
  const t = clock.now();
  assert.equal(store.applyReplicated(1, { kind: 'set', key: 'k', value: 'v', expiresAt: t + 10 }), true);
  assert.equal(store.get(1, 'k'), 'v');
  assert.equal(store.pttl(1, 'k'), 10);
  clock.advance(11);
  const before = state(store);
  assert.equal(store.get(1, 'k'), undefined);
  assert.equal(store.exists(1, 'k'), false);
  assert.equal(store.touch(1, 'k'), false);
  assert.equal(store.type(1, 'k'), 'none');
  assert.equal(store.pttl(1, 'k'), -2);
  assert.equal(store.expireTime(1, 'k'), -2);
  assert.equal(store.strlen(1, 'k'), 0);
  assert.equal(store.getRange(1, 'k', 0, -1), '');
  assert.equal(store.getEx(1, 'k'), undefined);
  assert.deepEqual([...store.partitionKeys(1)], []);
  assert.deepEqual(store.scan(0, 100).keys, []);
  assert.equal(store.partitionSize(1), 1, 'the entry is still there');
  assert.equal(store.dbsize(), 1);
  assert.deepEqual(store.digest(1), before.digests[1]);
  assert.equal(store.memoryUsed, before.used);
  assert.equal(store.stats().expiredKeys, 0);
  assert.deepEqual(events, []);
});

test('active expiry never touches a copy and does not count its keys as volatile', () => {
  const { clock, store, events } = setup();
  const t = clock.now();
  store.setPartitionRole(1, 'copy');
  for (let i = 0; i < 3000; i++) store.applyReplicated(1, { kind: 'set', key: `c${i}`, value: 'x', expiresAt: t + 5 });
  store.set(0, 'p', 'x', { expiresAt: t + 5 });
  assert.equal(store.stats().volatileKeys, 1, 'only the primary key is volatile');
  clock.advance(10);
  assert.equal(store.activeExpireCycle(1000), 1);
  assert.equal(store.activeExpireCycle(1000), 0, 'nothing left to examine: the cycle ends at once');
  assert.equal(store.partitionSize(1), 3000);
  assert.deepEqual(events.map((e) => [e.kind, e.partition, e.key]), [['set', 0, 'p'], ['expired', 0, 'p']]);
});

test('the write methods refuse a copy partition with a TypeError and change nothing', () => {
  const { clock, store, events } = setup();
  store.setPartitionRole(3, 'copy');
  store.applyReplicated(3, { kind: 'set', key: 'k', value: '1', expiresAt: 0 });
  store.applyReplicated(3, { kind: 'set', key: 'old', value: '1', expiresAt: clock.now() - 1 });
  const before = state(store);
  const writes: [string, () => unknown][] = [
    ['set', () => store.set(3, 'k', 'v')],
    ['set over a hidden expired key', () => store.set(3, 'old', 'v')],
    ['setGet', () => store.setGet(3, 'k', 'v')],
    ['del', () => store.del(3, 'k')],
    ['getDel', () => store.getDel(3, 'k')],
    ['getEx with a TTL', () => store.getEx(3, 'k', { persist: true })],
    ['expire', () => store.expire(3, 'k', clock.now() + 100)],
    ['persist', () => store.persist(3, 'k')],
    ['incrBy', () => store.incrBy(3, 'k', 1)],
    ['incrByFloat', () => store.incrByFloat(3, 'k', 1.5)],
    ['append', () => store.append(3, 'k', 'x')],
    ['setRange', () => store.setRange(3, 'k', 0, 'x')],
    ['importEntries', () => store.importEntries(3, [{ key: 'n', value: 'v', expiresAt: 0 }])],
  ];
  for (const [name, write] of writes) {
    assert.throws(write, isTypeError(/partition 3 is a copy: it is written only through applyReplicated/), name);
  }
  assert.deepEqual(state(store), before);
  assert.deepEqual(events, []);
  assert.equal(store.getEx(3, 'k'), '1', 'GETEX without a TTL change is a read');
});

test('the write methods name a partition index out of range', () => {
  const { store } = setup();
  assert.throws(() => store.set(4, 'k', 'v'), isTypeError(/write: partition must be an integer in \[0, 4\), got 4/));
  assert.throws(() => store.del(-1, 'k'), isTypeError(/got -1/));
});

test('copy → primary: keys whose TTL passed expire as usual, lazily and actively, with expired events', () => {
  const { clock, store, events } = setup();
  const t = clock.now();
  store.setPartitionRole(2, 'copy');
  for (const [key, expiresAt] of [['lazy', t + 5], ['active', t + 5], ['later', t + 100], ['none', 0]] as const) {
    store.applyReplicated(2, { kind: 'set', key, value: 'v', expiresAt });
  }
  clock.advance(10);
  assert.equal(store.stats().volatileKeys, 0);
  store.setPartitionRole(2, 'primary');
  assert.equal(store.stats().volatileKeys, 3, 'TTL keys rejoin the volatile array');
  assert.equal(store.get(2, 'lazy'), undefined);
  assert.deepEqual(events.map((e) => [e.kind, e.key]), [['expired', 'lazy']]);
  assert.equal(store.activeExpireCycle(1000), 1);
  assert.deepEqual(events.map((e) => [e.kind, e.key]), [['expired', 'lazy'], ['expired', 'active']]);
  assert.equal(store.pttl(2, 'later'), 90);
  assert.equal(store.pttl(2, 'none'), -1);
  assert.equal(store.set(2, 'none', 'w'), true, 'writable again');
  assert.equal(store.stats().expiredKeys, 2);
});

test('primary → copy → primary keeps the data, the TTLs and the accounting', () => {
  for (const policy of ['allkeys-lru', 'volatile-ttl', 'noeviction'] as const) {
    const { clock, store } = setup({ evictionPolicy: policy });
    const t = clock.now();
    for (let i = 0; i < 50; i++) store.set(1, `k${i}`, 'v'.repeat(i), i % 2 === 0 ? { expiresAt: t + 1000 } : undefined);
    const before = state(store);
    store.setPartitionRole(1, 'copy');
    assert.equal(store.stats().volatileKeys, 0);
    store.setPartitionRole(1, 'primary');
    assert.deepEqual(state(store), before, policy);
    assert.equal(store.pttl(1, 'k0'), 1000);
  }
});

// ---------------------------------------------------------------- eviction and copies

const VALUE = 'x'.repeat(100);
const COST = entryCost('k000', VALUE);
const key = (i: number) => `k${String(i).padStart(3, '0')}`;
const isOom = (e: unknown) => isRingleaderError(e) && e.code === 'OOM';

for (const policy of ['allkeys-lru', 'volatile-ttl'] as const satisfies readonly EvictionPolicy[]) {
  test(`${policy}: eviction skips copy entries, and a write OOMs when only copy entries are left`, () => {
    const { clock, store, events } = setup({ evictionPolicy: policy, maxMemoryBytes: COST * 10 });
    const ttl = { expiresAt: clock.now() + 60_000 };
    store.setPartitionRole(1, 'copy');
    for (let i = 0; i < 6; i++) assert.equal(store.applyReplicated(1, { kind: 'set', key: key(i), value: VALUE, ...ttl }), true);
    for (let i = 6; i < 10; i++) store.set(0, key(i), VALUE, ttl);
    for (let i = 10; i < 14; i++) store.set(0, key(i), VALUE, ttl); // evicts four primary keys
    const evicted = events.filter((e) => e.kind === 'evicted');
    assert.equal(evicted.length, 4);
    assert.ok(evicted.every((e) => e.partition === 0), 'only primary keys');
    assert.equal(store.partitionSize(1), 6);
    assert.equal(store.partitionSize(0), 4);
    store.flushAll();
    store.setPartitionRole(1, 'copy');
    for (let i = 0; i < 10; i++) store.applyReplicated(1, { kind: 'set', key: key(i), value: VALUE, ...ttl });
    assert.throws(() => store.set(0, 'p', VALUE, ttl), isOom, 'terminates with OOM');
    assert.equal(store.partitionSize(1), 10);
  });
}

test('applyReplicated evicts keys of primary partitions to make room, with evicted events', () => {
  const { store, events } = setup({ maxMemoryBytes: COST * 4 });
  store.setPartitionRole(1, 'copy');
  for (let i = 0; i < 4; i++) store.set(0, key(i), VALUE);
  assert.equal(store.applyReplicated(1, { kind: 'set', key: key(9), value: VALUE, expiresAt: 0 }), true);
  assert.deepEqual(events.slice(4).map((e) => [e.kind, e.partition, e.key]), [['evicted', 0, key(0)]]);
  assert.ok(store.memoryUsed <= COST * 4);
});

test('applyReplicated returns false and changes nothing when the copies alone would pass maxmemory', () => {
  const { store } = setup({ maxMemoryBytes: COST * 4 });
  store.setPartitionRole(1, 'copy');
  for (let i = 0; i < 2; i++) store.set(0, key(i), VALUE);
  for (let i = 2; i < 5; i++) assert.equal(store.applyReplicated(1, { kind: 'set', key: key(i), value: VALUE, expiresAt: 0 }), true);
  const before = state(store);
  assert.equal(store.applyReplicated(1, { kind: 'set', key: key(2), value: VALUE.repeat(5), expiresAt: 0 }), false, 'growing a copy key');
  assert.equal(store.applyReplicated(1, { kind: 'set', key: 'new', value: 'y'.repeat(COST), expiresAt: 0 }), false, 'a new key');
  const after = state(store);
  assert.deepEqual(after.digests, before.digests, 'nothing evicted, copy unchanged');
  assert.equal(after.used, before.used);
  assert.equal(after.stats.oomRejections, 2);
  assert.equal(store.applyReplicated(1, { kind: 'set', key: key(2), value: 'short', expiresAt: 0 }), true, 'a shrinking write fits');
});

test('applyReplicated under noeviction, and a value over maxValueBytes, return false', () => {
  const { store } = setup({ maxMemoryBytes: COST * 2, evictionPolicy: 'noeviction', maxValueBytes: 1000 });
  store.setPartitionRole(1, 'copy');
  store.set(0, key(0), VALUE);
  assert.equal(store.applyReplicated(1, { kind: 'set', key: key(1), value: VALUE, expiresAt: 0 }), true);
  const before = state(store);
  assert.equal(store.applyReplicated(1, { kind: 'set', key: key(2), value: VALUE, expiresAt: 0 }), false);
  assert.equal(store.applyReplicated(1, { kind: 'set', key: key(1), value: 'z'.repeat(1001), expiresAt: 0 }), false);
  assert.deepEqual(state(store).digests, before.digests);
  assert.equal(store.exists(0, key(0)), true);
});

test('the bytes of copies are tracked through drops and role switches (what applyReplicated may not evict)', () => {
  const { store } = setup({ maxMemoryBytes: COST * 4 });
  const fill = (p: number) => {
    for (let i = 0; i < 4; i++) assert.equal(store.applyReplicated(p, { kind: 'set', key: key(i), value: VALUE, expiresAt: 0 }), true);
    assert.equal(store.applyReplicated(p, { kind: 'set', key: key(9), value: VALUE, expiresAt: 0 }), false, 'full of copies');
  };
  store.setPartitionRole(1, 'copy');
  fill(1);
  assert.equal(store.dropPartition(1), 4);
  fill(1);
  store.setPartitionRole(1, 'primary'); // its keys are evictable now
  store.setPartitionRole(2, 'copy');
  for (let i = 0; i < 4; i++) assert.equal(store.applyReplicated(2, { kind: 'set', key: key(i), value: VALUE, expiresAt: 0 }), true);
  assert.equal(store.partitionSize(1), 0, 'the old copy, now primary, was evicted to make room');
  store.setPartitionRole(2, 'primary');
  store.setPartitionRole(2, 'copy');
  assert.equal(store.applyReplicated(2, { kind: 'set', key: key(9), value: VALUE, expiresAt: 0 }), false);
  for (let i = 0; i < 4; i++) store.applyReplicated(2, { kind: 'del', key: key(i) });
  assert.equal(store.memoryUsed, 0);
  fill(2);
});

// ---------------------------------------------------------------- applyReplicated

/** A clock that fails the test if it is read. */
const noClock: Clock = {
  now: () => assert.fail('the clock was read'),
  monotonic: () => assert.fail('the clock was read'),
  setTimeout: () => assert.fail('a timer was set'),
  setInterval: () => assert.fail('a timer was set'),
};

test('applyReplicated: set replaces the whole key with its TTL, del removes, expire sets or clears the TTL', () => {
  const store = new Store({ partitionCount: 2, maxMemoryBytes: 1_000_000, timeSnapshot: 'call' }, noClock);
  const events: WriteEvent[] = [];
  store.onWrite((e) => void events.push(e));
  store.setPartitionRole(0, 'copy');
  const ops: [ReplicatedOp, string | undefined, number][] = [
    // op, then the value and the expireTime (-1 none, -2 missing) read back
    [{ kind: 'set', key: 'a', value: 'one', expiresAt: 5_000_000_000_000 }, 'one', 5_000_000_000_000],
    [{ kind: 'set', key: 'a', value: Buffer.from('two'), expiresAt: 0 }, 'two', -1],
    [{ kind: 'expire', key: 'a', expiresAt: 6_000_000_000_000 }, 'two', 6_000_000_000_000],
    [{ kind: 'expire', key: 'a', expiresAt: 0 }, 'two', -1],
    [{ kind: 'expire', key: 'missing', expiresAt: 7 }, undefined, -2],
    [{ kind: 'del', key: 'a' }, undefined, -2],
    [{ kind: 'del', key: 'a' }, undefined, -2],
    [{ kind: 'set', key: 'a', value: '', expiresAt: 0 }, '', -1],
  ];
  for (const [op, value, expireTime] of ops) {
    assert.equal(store.applyReplicated(0, op), true, op.kind);
    const k = op.key === 'missing' ? 'missing' : 'a';
    // Reads of a key with a TTL compare with the clock: read the raw state through the digest-free path instead.
    const [entry] = readAll(store, 0).filter((e) => e.key === k);
    assert.equal(entry === undefined ? undefined : String(entry.value), value, JSON.stringify(op));
    assert.equal(entry === undefined ? -2 : entry.expiresAt === 0 ? -1 : entry.expiresAt, expireTime, JSON.stringify(op));
  }
  assert.deepEqual(events, [], 'no write events');
  assert.equal(store.stats().volatileKeys, 0);
});

/** All entries of a copy partition (a copy's snapshot reader reads no clock). */
function readAll(store: Store, p: number) {
  const reader = store.snapshotReader(p, { maxEntries: 1000 });
  const out = [];
  for (let b = reader.next(); b !== null; b = reader.next()) out.push(...b);
  return out;
}

test('applyReplicated never deletes for a past expiresAt: the primary sends the delete', () => {
  const { clock, store, events } = setup();
  store.setPartitionRole(0, 'copy');
  const past = clock.now() - 1000;
  assert.equal(store.applyReplicated(0, { kind: 'set', key: 'a', value: 'v', expiresAt: past }), true);
  assert.equal(store.applyReplicated(0, { kind: 'set', key: 'b', value: 'v', expiresAt: 0 }), true);
  assert.equal(store.applyReplicated(0, { kind: 'expire', key: 'b', expiresAt: past }), true);
  assert.equal(store.partitionSize(0), 2);
  assert.equal(store.exists(0, 'a'), false);
  assert.equal(store.exists(0, 'b'), false);
  assert.deepEqual(readAll(store, 0).map((e) => [e.key, e.expiresAt]), [['a', past], ['b', past]]);
  assert.equal(store.applyReplicated(0, { kind: 'del', key: 'a' }), true);
  assert.equal(store.partitionSize(0), 1);
  assert.deepEqual(events, []);
});

test('applyReplicated accounts memory exactly as the primary does for the same writes', () => {
  const { clock, store: primary } = setup();
  const { store: copy } = setup();
  copy.setPartitionRole(0, 'copy');
  copy.onWrite(() => assert.fail('a copy emits nothing'));
  const t = clock.now();
  primary.onWrite((e) => {
    if (e.kind === 'set') copy.applyReplicated(0, { kind: 'set', key: e.key, value: e.value!, expiresAt: e.expiresAt });
    if (e.kind === 'del') copy.applyReplicated(0, { kind: 'del', key: e.key });
    if (e.kind === 'expire') copy.applyReplicated(0, { kind: 'expire', key: e.key, expiresAt: e.expiresAt });
  });
  primary.set(0, 'a', 'x'.repeat(300), { expiresAt: t + 50 });
  primary.append(0, 'a', 'y'.repeat(60));
  primary.set(0, 'b', Buffer.from('12'));
  primary.incrBy(0, 'b', 40);
  primary.expire(0, 'b', t + 99);
  primary.set(0, 'c', 'gone');
  primary.del(0, 'c');
  assert.equal(copy.memoryUsed, primary.memoryUsed);
  assert.deepEqual(copy.partitionStats(0), primary.partitionStats(0));
  assert.deepEqual(copy.digest(0), primary.digest(0));
  assert.equal(copy.stats().keys, 2);
  // APPEND past 4 KB makes a Buffer with spare capacity on the primary; the copy holds the bytes as a plain SET
  // would, so it never needs more memory than its primary.
  primary.append(0, 'a', 'z'.repeat(6000));
  assert.deepEqual(copy.digest(0), primary.digest(0));
  assert.equal(copy.partitionStats(0).bytes - primary.partitionStats(0).bytes, entryCost('a', 'x'.repeat(6360)) - entryCost('a', primary.get(0, 'a')!));
  assert.ok(copy.memoryUsed < primary.memoryUsed);
});

test('garbage input to applyReplicated gets a TypeError naming the problem and changes nothing', () => {
  const { store } = setup();
  store.setPartitionRole(1, 'copy');
  store.applyReplicated(1, { kind: 'set', key: 'k', value: 'v', expiresAt: 0 });
  const before = state(store);
  const bad: [number, unknown, RegExp][] = [
    [1, null, /expected an object, got null/],
    [1, 'set k v', /expected an object, got string/],
    [1, { kind: 'drop', key: '' }, /kind must be 'set', 'del' or 'expire', got drop/],
    [1, { kind: 'SET', key: 'k', value: 'v', expiresAt: 0 }, /kind must be/],
    [1, { kind: 'evicted', key: 'k' }, /kind must be/],
    [1, { key: 'k' }, /kind must be/],
    [1, { kind: 'del' }, /key must be a latin1 string, got undefined/],
    [1, { kind: 'del', key: 7 }, /key must be a latin1 string, got number/],
    [1, { kind: 'del', key: 'k\u0100' }, /one char per byte/],
    [1, { kind: 'set', key: 'k', value: 'v' }, /expiresAt must be a non-negative safe integer/],
    [1, { kind: 'set', key: 'k', value: 'v', expiresAt: -1 }, /expiresAt must be/],
    [1, { kind: 'set', key: 'k', value: 'v', expiresAt: 1.5 }, /expiresAt must be/],
    [1, { kind: 'set', key: 'k', value: 'v', expiresAt: NaN }, /expiresAt must be/],
    [1, { kind: 'set', key: 'k', value: 'v', expiresAt: '5' }, /expiresAt must be/],
    [1, { kind: 'set', key: 'k', value: 'v', expiresAt: 2 ** 53 }, /expiresAt must be/],
    [1, { kind: 'set', key: 'k', value: 42, expiresAt: 0 }, /value of a set must be a string, a Buffer or a TypedValue, got number/],
    [1, { kind: 'set', key: 'k', value: new Uint16Array(2), expiresAt: 0 }, /value of a set must be/],
    [1, { kind: 'set', key: 'k', expiresAt: 0 }, /value of a set must be/],
    [1, { kind: 'expire', key: 'k' }, /expiresAt must be/],
    [1, { kind: 'expire', key: 'k', expiresAt: -5 }, /expiresAt must be/],
    [4, { kind: 'del', key: 'k' }, /applyReplicated: partition must be an integer in \[0, 4\), got 4/],
    [-1, { kind: 'del', key: 'k' }, /partition must be an integer/],
    [0.5, { kind: 'del', key: 'k' }, /partition must be an integer/],
    [0, { kind: 'del', key: 'k' }, /partition 0 is a primary; setPartitionRole\(0, 'copy'\) first/],
  ];
  for (const [p, op, message] of bad) {
    assert.throws(() => store.applyReplicated(p, op as ReplicatedOp), isTypeError(message), JSON.stringify(op));
  }
  assert.deepEqual(state(store), before);
});

// ---------------------------------------------------------------- snapshotReader

function fillCopy(store: Store, p: number, n: number, value = (i: number) => `v${i}`) {
  store.setPartitionRole(p, 'copy');
  for (let i = 0; i < n; i++) store.applyReplicated(p, { kind: 'set', key: key(i), value: value(i), expiresAt: 0 });
}

test('snapshotReader batches are bounded by maxEntries and by value bytes, at least one entry each', () => {
  const { store } = setup();
  fillCopy(store, 0, 10, (i) => 'x'.repeat(i === 5 ? 500 : 10));
  const sizes = (o: { maxEntries?: number; maxBytes?: number }) => {
    const r = store.snapshotReader(0, o);
    const out: number[][] = [];
    for (let b = r.next(); b !== null; b = r.next()) out.push(b.map((e) => e.value.length));
    assert.equal(r.next(), null, 'stays done');
    return out;
  };
  assert.deepEqual(sizes({ maxEntries: 4 }).map((b) => b.length), [4, 4, 2]);
  assert.deepEqual(sizes({ maxEntries: 100, maxBytes: 30 }), [[10, 10, 10], [10, 10], [500], [10, 10, 10], [10]]);
  assert.deepEqual(sizes({ maxEntries: 2, maxBytes: 1 }).map((b) => b.length), Array(10).fill(1));
  assert.deepEqual(sizes({}).map((b) => b.length), [10], 'defaults');
  const empty = store.snapshotReader(3);
  assert.equal(empty.next(), null);
});

test('snapshotReader follows the live Map: inserts visited, deletes skipped, updates keep their place', () => {
  const { store } = setup();
  fillCopy(store, 0, 6);
  const r = store.snapshotReader(0, { maxEntries: 2 });
  const seen: [string, string][] = [];
  const take = () => {
    const b = r.next();
    if (b !== null) for (const e of b) seen.push([e.key, String(e.value)]);
    return b;
  };
  take(); // k000, k001
  store.applyReplicated(0, { kind: 'del', key: key(2) });
  store.applyReplicated(0, { kind: 'set', key: key(3), value: 'updated', expiresAt: 0 });
  store.applyReplicated(0, { kind: 'set', key: 'new', value: 'n', expiresAt: 0 });
  store.applyReplicated(0, { kind: 'del', key: key(0) });
  store.applyReplicated(0, { kind: 'set', key: key(0), value: 'again', expiresAt: 0 }); // re-inserted: at the end
  while (take() !== null);
  assert.deepEqual(seen, [
    [key(0), 'v0'], [key(1), 'v1'], [key(3), 'updated'], [key(4), 'v4'], [key(5), 'v5'], ['new', 'n'], [key(0), 'again'],
  ]);
});

test('snapshotReader: an entry held back by maxBytes is returned as it is when returned, or not at all if deleted', () => {
  const { store } = setup();
  fillCopy(store, 0, 4, () => 'x'.repeat(10));
  const r = store.snapshotReader(0, { maxBytes: 15 });
  assert.deepEqual(r.next()!.map((e) => e.key), [key(0)]); // key(1) was pulled from the iterator and held back
  store.applyReplicated(0, { kind: 'set', key: key(1), value: 'changed', expiresAt: 42 });
  assert.deepEqual(r.next(), [{ key: key(1), value: 'changed', expiresAt: 42 }]);
  store.applyReplicated(0, { kind: 'del', key: key(3) }); // key(3) is held back now
  assert.deepEqual(r.next()!.map((e) => e.key), [key(2)]);
  assert.equal(r.next(), null);
});

test('snapshotReader skips expired keys on a primary and returns them, TTL included, on a copy', () => {
  const { clock, store } = setup();
  const t = clock.now();
  store.set(0, 'live', 'v', { expiresAt: t + 100 });
  store.set(0, 'dead', 'v', { expiresAt: t + 5 });
  store.set(0, 'forever', 'v');
  clock.advance(10);
  const read = (p: number) => {
    const r = store.snapshotReader(p);
    const out = [];
    for (let b = r.next(); b !== null; b = r.next()) out.push(...b);
    return out;
  };
  assert.deepEqual(read(0), [{ key: 'live', value: 'v', expiresAt: t + 100 }, { key: 'forever', value: 'v', expiresAt: 0 }]);
  assert.equal(store.partitionSize(0), 3, 'reading deletes nothing');
  store.setPartitionRole(0, 'copy');
  assert.deepEqual(read(0).map((e) => e.key), ['live', 'dead', 'forever']);
});

test('snapshotReader validates its partition and options', () => {
  const { store } = setup();
  assert.throws(() => store.snapshotReader(9), isTypeError(/snapshotReader: partition must be an integer in \[0, 4\), got 9/));
  for (const maxEntries of [0, -1, 1.5, 1_000_001, NaN]) {
    assert.throws(() => store.snapshotReader(0, { maxEntries }), isTypeError(/SnapshotReaderOptions.maxEntries must be an integer in \[1, 1000000\]/));
  }
  for (const maxBytes of [0, -1, 2.5, Infinity]) {
    assert.throws(() => store.snapshotReader(0, { maxBytes }), isTypeError(/SnapshotReaderOptions.maxBytes must be a positive safe integer/));
  }
});

// ---------------------------------------------------------------- digest

test('digest: 16 hex chars, order-independent, same for string and Buffer forms of the same bytes', () => {
  const { store } = setup();
  assert.deepEqual(store.digest(0), { keys: 0, digest: '0000000000000000' });
  store.setPartitionRole(1, 'copy');
  store.setPartitionRole(2, 'copy');
  const entries = Array.from({ length: 20 }, (_, i) => ({ key: `key${i}`, value: `value ${i} \u00ff\u0000`, expiresAt: i % 3 === 0 ? 0 : 1e12 + i }));
  for (const e of entries) store.applyReplicated(1, { kind: 'set', ...e });
  for (const e of [...entries].reverse()) store.applyReplicated(2, { kind: 'set', ...e, value: Buffer.from(e.value, 'latin1') });
  const d = store.digest(1);
  assert.match(d.digest, /^[0-9a-f]{16}$/);
  assert.equal(d.keys, 20);
  assert.deepEqual(store.digest(2), d);
  // A value the store keeps as a Buffer (grown past 4 KB by APPEND) digests like the same bytes as a string.
  store.set(0, 'big', 'a'.repeat(3000));
  store.append(0, 'big', 'b'.repeat(3000));
  store.setPartitionRole(3, 'copy');
  store.applyReplicated(3, { kind: 'set', key: 'big', value: 'a'.repeat(3000) + 'b'.repeat(3000), expiresAt: 0 });
  assert.equal(typeof store.get(0, 'big'), 'object', 'kept as a Buffer');
  assert.deepEqual(store.digest(0), store.digest(3));
});

test('digest covers the key, the value, the TTL and the boundary between key and value', () => {
  const { store } = setup();
  for (let p = 0; p < 4; p++) store.setPartitionRole(p, 'copy');
  const digestOf = (op: ReplicatedOp) => {
    store.dropPartition(0);
    store.applyReplicated(0, op);
    return store.digest(0).digest;
  };
  const base = digestOf({ kind: 'set', key: 'ab', value: 'c', expiresAt: 1e12 });
  const variants = [
    digestOf({ kind: 'set', key: 'a', value: 'bc', expiresAt: 1e12 }),
    digestOf({ kind: 'set', key: 'ab', value: 'd', expiresAt: 1e12 }),
    digestOf({ kind: 'set', key: 'ab', value: 'c', expiresAt: 1e12 + 1 }),
    digestOf({ kind: 'set', key: 'ab', value: 'c', expiresAt: 1e12 + 2 ** 32 }),
    digestOf({ kind: 'set', key: 'ab', value: 'c', expiresAt: 0 }),
    digestOf({ kind: 'set', key: 'ac', value: 'c', expiresAt: 1e12 }),
  ];
  assert.equal(new Set([base, ...variants]).size, 7);
  assert.equal(digestOf({ kind: 'set', key: 'ab', value: 'c', expiresAt: 1e12 }), base, 'deterministic');
  assert.throws(() => store.digest(4), isTypeError(/digest: partition must be/));
});
