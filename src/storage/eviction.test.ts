import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../testing/manual-clock.js';
import { isRingleaderError } from '../shared/errors.js';
import { entryCost, Store, type EvictionPolicy, type StoreValue } from './index.js';

const COST = entryCost('k000', 'x'.repeat(100)); // every key below has this size

function filled(policy: EvictionPolicy, keys: number) {
  const clock = new ManualClock();
  const store = new Store({ partitionCount: 4, maxMemoryBytes: COST * keys, evictionPolicy: policy, timeSnapshot: 'call' }, clock);
  return { clock, store };
}

const key = (i: number) => `k${String(i).padStart(3, '0')}`;
const isOom = (e: unknown) => isRingleaderError(e) && e.code === 'OOM' && e.message === "command not allowed when used memory > 'maxmemory'.";

test('allkeys-lru evicts the least recently used keys, across partitions', () => {
  const { store } = filled('allkeys-lru', 10);
  for (let i = 0; i < 10; i++) store.set(i % 4, key(i), 'x'.repeat(100));
  assert.equal(store.memoryUsed, COST * 10);
  store.get(0, key(0)); // 0 becomes most recent
  store.touch(1, key(1));
  store.set(2, key(2), 'y'.repeat(100)); // overwrite counts as use
  for (let i = 10; i < 13; i++) store.set(i % 4, key(i), 'x'.repeat(100));
  const gone = Array.from({ length: 13 }, (_, i) => i).filter((i) => !store.exists(i % 4, key(i)));
  assert.deepEqual(gone, [3, 4, 5], 'the three oldest untouched keys went');
  assert.equal(store.stats().evictions, 3);
  assert.ok(store.memoryUsed <= COST * 10);
});

test('allkeys-lru never evicts the key being grown, and refuses a value that can never fit', () => {
  const { store } = filled('allkeys-lru', 3);
  store.set(0, key(0), 'x'.repeat(100));
  store.set(1, key(1), 'x'.repeat(100));
  store.set(2, key(2), 'x'.repeat(100));
  store.append(0, key(0), 'x'.repeat(100)); // key 0 is the oldest, but it is the one being written
  assert.equal(store.exists(0, key(0)), true);
  assert.equal(store.exists(1, key(1)), false);
  assert.throws(() => store.set(3, 'huge', 'x'.repeat(COST * 3)), isOom);
  assert.equal(store.dbsize(), 2, 'nothing evicted for a write that could never fit');
  assert.equal(store.stats().oomRejections, 1);
});

test('volatile-ttl evicts keys with the nearest expiry and never keys without TTL', () => {
  const { clock, store } = filled('volatile-ttl', 10);
  const t = clock.now();
  for (let i = 0; i < 5; i++) store.set(0, key(i), 'x'.repeat(100));
  // Samples are random: with 5 volatile keys and 5 samples, the nearest expiry is not always seen; check the trend.
  for (let i = 5; i < 10; i++) store.set(1, key(i), 'x'.repeat(100), { expiresAt: t + 1000 * (i - 4) });
  store.set(2, key(10), 'x'.repeat(100));
  store.set(2, key(11), 'x'.repeat(100));
  const persistentLeft = [0, 1, 2, 3, 4, 10, 11].filter((i) => store.exists(i < 5 ? 0 : 2, key(i))).length;
  assert.equal(persistentLeft, 7, 'keys without TTL are never evicted');
  const volatileLeft = [5, 6, 7, 8, 9].filter((i) => store.exists(1, key(i)));
  assert.equal(volatileLeft.length, 3);
  assert.ok(volatileLeft.includes(9), 'the farthest expiry survives');
  for (let i = 12; i < 15; i++) store.set(2, key(i), 'x'.repeat(100));
  assert.throws(() => store.set(2, key(15), 'x'.repeat(100)), isOom, 'no volatile key left: OOM');
  assert.equal(store.stats().volatileKeys, 0);
  assert.equal(store.dbsize(), 10);
});

test('volatile-ttl picks the smallest TTL among its samples', () => {
  const clock = new ManualClock();
  const store = new Store({ partitionCount: 1, maxMemoryBytes: COST * 1000, evictionPolicy: 'volatile-ttl', evictionSamples: 64, timeSnapshot: 'call' }, clock);
  const t = clock.now();
  for (let i = 0; i < 1000; i++) store.set(0, key(i), 'x'.repeat(100), { expiresAt: t + 1000 + i });
  const events: string[] = [];
  store.onWrite((e) => void (e.kind === 'evicted' && events.push(e.key)));
  for (let i = 0; i < 50; i++) store.set(0, `n${String(i).padStart(3, '0')}`, 'x'.repeat(100));
  assert.equal(events.length, 50);
  const evictedRanks = events.map((k) => Number(k.slice(1)));
  const mean = evictedRanks.reduce((a, b) => a + b, 0) / evictedRanks.length;
  assert.ok(mean < 100, `with 64 samples evicted keys are among the first to expire (mean rank ${mean})`);
});

test('noeviction refuses writes with OOM but allows reads, deletes and shrinking writes', () => {
  const { clock, store } = filled('noeviction', 3);
  for (let i = 0; i < 3; i++) store.set(0, key(i), 'x'.repeat(100));
  assert.throws(() => store.set(0, key(3), 'x'.repeat(100)), isOom);
  assert.throws(() => store.append(0, key(0), 'x'), isOom);
  assert.throws(() => store.incrBy(0, 'n', 1), isOom);
  assert.equal(store.get(0, key(0)), 'x'.repeat(100));
  assert.equal(store.set(0, key(0), 'short'), true, 'a write that shrinks needs no memory');
  assert.equal(store.expire(0, key(1), clock.now() + 10), true, 'a TTL change needs no memory');
  assert.equal(store.del(0, key(2)), true);
  assert.equal(store.set(0, key(3), 'x'.repeat(100)), true, 'room again after DEL');
  assert.equal(store.stats().evictions, 0);
});

test('an expired key frees its memory for a write (lazy and active)', () => {
  const { clock, store } = filled('noeviction', 2);
  store.set(0, key(0), 'x'.repeat(100), { expiresAt: clock.now() + 5 });
  store.set(0, key(1), 'x'.repeat(100), { expiresAt: clock.now() + 5 });
  clock.advance(6);
  assert.equal(store.activeExpireCycle(1), 2);
  assert.equal(store.memoryUsed, 0);
});

test('active expiry works in bounded steps and eventually removes every expired key', () => {
  const clock = new ManualClock();
  const store = new Store({ partitionCount: 8, timeSnapshot: 'call' }, clock);
  const t = clock.now();
  for (let i = 0; i < 20_000; i++) store.set(i % 8, `k${i}`, 'v', { expiresAt: i % 10 === 0 ? t + 10 : t + 1_000_000 });
  clock.advance(11);
  let removed = 0;
  let cycles = 0;
  while (removed < 2000) {
    const n = store.activeExpireCycle(1);
    // ManualClock time does not pass inside a cycle, so each cycle stops on the 10%-stale rule or after one full sweep.
    assert.ok(n <= 2000);
    removed += n;
    assert.ok(++cycles < 100, `converges (removed ${removed} in ${cycles} cycles)`);
  }
  assert.equal(store.dbsize(), 18_000);
  assert.equal(store.stats().expiredKeys, 2000);
});

test('active expiry honours its time budget', () => {
  // A clock whose monotonic time jumps 1 ms per read: a 5 ms budget allows only a few batches.
  const base = new ManualClock();
  let mono = 0;
  const clock = { ...base, now: () => base.now(), monotonic: () => (mono += 1), setTimeout: base.setTimeout.bind(base), setInterval: base.setInterval.bind(base) };
  const store = new Store({ partitionCount: 1, timeSnapshot: 'call' }, clock);
  for (let i = 0; i < 10_000; i++) store.set(0, `k${i}`, 'v', { expiresAt: base.now() + 1 });
  base.advance(2);
  const n = store.activeExpireCycle(5);
  assert.ok(n > 0 && n <= 20 * 5, `bounded by the budget: ${n}`);
});

type Op =
  | { op: 'set'; p: number; k: number; len: number; ttl: number }
  | { op: 'append'; p: number; k: number; len: number }
  | { op: 'setrange'; p: number; k: number; off: number; len: number }
  | { op: 'incr'; p: number; k: number }
  | { op: 'del'; p: number; k: number }
  | { op: 'expire'; p: number; k: number; ttl: number }
  | { op: 'tick'; ms: number }
  | { op: 'import'; p: number; n: number; len: number }
  | { op: 'drop'; p: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), p: fc.nat(3), k: fc.nat(40), len: fc.nat(600), ttl: fc.nat(50) }),
  fc.record({ op: fc.constant('append' as const), p: fc.nat(3), k: fc.nat(40), len: fc.oneof(fc.nat(300), fc.integer({ min: 2000, max: 5000 })) }),
  fc.record({ op: fc.constant('setrange' as const), p: fc.nat(3), k: fc.nat(40), off: fc.nat(2000), len: fc.nat(50) }),
  fc.record({ op: fc.constant('incr' as const), p: fc.nat(3), k: fc.nat(40) }),
  fc.record({ op: fc.constant('del' as const), p: fc.nat(3), k: fc.nat(40) }),
  fc.record({ op: fc.constant('expire' as const), p: fc.nat(3), k: fc.nat(40), ttl: fc.nat(50) }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.nat(20) }),
  fc.record({ op: fc.constant('import' as const), p: fc.nat(3), n: fc.nat(20), len: fc.nat(200) }),
  fc.record({ op: fc.constant('drop' as const), p: fc.nat(3) }),
);

test('property: random operations never leave usedBytes above maxMemoryBytes, and the accounting is exact', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<EvictionPolicy>('allkeys-lru', 'volatile-ttl', 'noeviction'),
      fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 20_000, max: 100_000 })),
      fc.array(opArb, { maxLength: 200 }),
      (policy, maxMemoryBytes, ops) => {
        const clock = new ManualClock();
        const store = new Store({ partitionCount: 4, maxMemoryBytes, evictionPolicy: policy, timeSnapshot: 'call' }, clock);
        for (const o of ops) {
          try {
            switch (o.op) {
              case 'set': store.set(o.p, `k${o.k}`, 'v'.repeat(o.len), o.ttl === 0 ? undefined : { expiresAt: clock.now() + o.ttl }); break;
              case 'append': store.append(o.p, `k${o.k}`, 'a'.repeat(o.len)); break;
              case 'setrange': store.setRange(o.p, `k${o.k}`, o.off, 's'.repeat(o.len)); break;
              case 'incr': store.incrBy(o.p, `k${o.k}`, 1); break;
              case 'del': store.del(o.p, `k${o.k}`); break;
              case 'expire': store.expire(o.p, `k${o.k}`, clock.now() + o.ttl); break;
              case 'tick': clock.advance(o.ms); store.activeExpireCycle(1); break;
              case 'import': store.importEntries(o.p, Array.from({ length: o.n }, (_, i) => ({ key: `i${i}`, value: 'x'.repeat(o.len), expiresAt: 0 }))); break;
              case 'drop': store.dropPartition(o.p); break;
            }
          } catch (e) {
            if (!(isRingleaderError(e) && (e.code === 'OOM' || e.code === 'NOT_INTEGER'))) throw e;
          }
          if (maxMemoryBytes > 0) assert.ok(store.memoryUsed <= maxMemoryBytes, `${store.memoryUsed} > ${maxMemoryBytes} after ${JSON.stringify(o)}`);
          if (policy === 'noeviction') assert.equal(store.stats().evictions, 0);
        }
        // The running counters equal a recount of what is stored, once every TTL has run out and been collected.
        clock.advance(1000);
        while (store.activeExpireCycle(1) > 0);
        assert.equal(store.stats().volatileKeys, 0);
        let bytes = 0;
        let keys = 0;
        for (let p = 0; p < 4; p++) {
          let partBytes = 0;
          let partKeys = 0;
          for (const batch of store.exportPartition(p)) {
            for (const e of batch) {
              partBytes += entryCost(e.key, e.value as StoreValue); // strings only here
              partKeys++;
            }
          }
          assert.deepEqual(store.partitionStats(p), { keys: partKeys, bytes: partBytes });
          bytes += partBytes;
          keys += partKeys;
        }
        assert.equal(bytes, store.memoryUsed);
        assert.equal(keys, store.dbsize());
      },
    ),
    { numRuns: 300 },
  );
});

test('after a read of every key, one eviction gives at most 64 second chances (bounded pause), then evicts', () => {
  const { store } = filled('allkeys-lru', 1000);
  for (let i = 0; i < 1000; i++) store.set(0, key(i), 'x'.repeat(100));
  for (let i = 0; i < 1000; i++) store.get(0, key(i));
  const evicted: string[] = [];
  store.onWrite((e) => void (e.kind === 'evicted' && evicted.push(e.key)));
  store.set(1, 'new', 'x'.repeat(101 - 'new'.length + 3)); // same cost as one key
  assert.deepEqual(evicted, [key(64)], 'keys 0..63 got their second chance; the 65th goes');
  store.set(1, 'ne2', 'x'.repeat(101));
  assert.deepEqual(evicted, [key(64), key(129)], 'the next 64 referenced keys get theirs too');
});
