/**
 * Collections in the store: WRONGTYPE both ways, memory accounting that follows every change, TTL and eviction of
 * a hash like a string, write events that rebuild an equal copy (digest over type and content), and the lazy
 * TypedValue's contract.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../testing/manual-clock.js';
import { isRingleaderError } from '../shared/errors.js';
import {
  entryCost, HASH_FIELD_OVERHEAD_BYTES, HashValue, SetValue, Store, TypedValue, ZSetValue, type ReplicatedOp, type StoreOptions, type WriteEvent,
} from './index.js';

function setup(options: Partial<StoreOptions> = {}) {
  const clock = new ManualClock();
  const store = new Store({ partitionCount: 4, timeSnapshot: 'call', ...options }, clock);
  const events: WriteEvent[] = [];
  // Contract: a collection's TypedValue is read during the call (it is sealed afterwards).
  store.onWrite((e) => {
    if (e.value instanceof TypedValue) void e.value.bytes;
    events.push(e);
  });
  return { clock, store, events };
}

const wrongType = (e: unknown): boolean => isRingleaderError(e) && e.code === 'WRONGTYPE' && e.message === 'Operation against a key holding the wrong kind of value';

function hset(store: Store, p: number, key: string, ...pairs: string[]): number {
  // What the commands reserve: every byte plus the per-field overhead (an upper bound of the growth).
  const reserve = pairs.reduce((n, s) => n + s.length, 0) + (pairs.length / 2) * HASH_FIELD_OVERHEAD_BYTES;
  return store.mutate(p, key, 'hash', true, reserve, (h) => {
    let n = 0;
    for (let i = 0; i < pairs.length; i += 2) if (h.set(pairs[i]!, pairs[i + 1]!)) n++;
    return n;
  }, 0);
}

/** Sum of every live entry's cost, from the outside. */
function accounted(store: Store): number {
  let sum = 0;
  for (let p = 0; p < store.options.partitionCount; p++) {
    for (const batch of store.exportPartition(p)) {
      for (const e of batch) {
        const v = store.peek(p, e.key)!;
        sum += entryCost(e.key, v);
      }
    }
  }
  return sum;
}

test('WRONGTYPE both ways: string commands on a hash, collection access on a string; SET replaces any type', () => {
  const { store } = setup();
  hset(store, 0, 'h', 'f', 'v');
  for (const f of [
    () => store.get(0, 'h'), () => store.strlen(0, 'h'), () => store.getRange(0, 'h', 0, 1), () => store.append(0, 'h', 'x'),
    () => store.incrBy(0, 'h', 1), () => store.incrByFloat(0, 'h', 1), () => store.setRange(0, 'h', 0, 'x'), () => store.getDel(0, 'h'),
    () => store.getEx(0, 'h'), () => store.setGet(0, 'h', 'x'), () => store.readCollection(0, 'h', 'set'),
    () => store.mutate(0, 'h', 'zset', true, 0, () => 0, 0),
  ]) assert.throws(f, wrongType);
  assert.equal(store.type(0, 'h'), 'hash');
  assert.equal(store.getIfString(0, 'h'), undefined, 'MGET reads a collection as missing');
  store.set(0, 's', 'v');
  assert.throws(() => store.readCollection(0, 's', 'hash'), wrongType);
  assert.throws(() => hset(store, 0, 's', 'f', 'v'), wrongType);
  assert.equal(store.get(0, 's'), 'v', 'a refused command changed nothing');
  store.set(0, 'h', 'now a string');
  assert.equal(store.type(0, 'h'), 'string');
  assert.equal(store.memoryUsed, accounted(store));
});

test('property: accounted bytes follow every collection change and return to 0 when everything is gone', () => {
  const key = fc.constantFrom('a', 'b', 'c');
  const elem = fc.constantFrom('x', 'y', 'zz', '', 'w'.repeat(100));
  const op = fc.oneof(
    fc.tuple(fc.constant('hset'), key, elem, elem), fc.tuple(fc.constant('hdel'), key, elem, elem),
    fc.tuple(fc.constant('sadd'), key, elem, elem), fc.tuple(fc.constant('srem'), key, elem, elem),
    fc.tuple(fc.constant('zadd'), key, elem, elem), fc.tuple(fc.constant('zrem'), key, elem, elem),
    fc.tuple(fc.constant('set'), key, elem, elem), fc.tuple(fc.constant('del'), key, elem, elem),
    fc.tuple(fc.constant('store'), key, elem, elem),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
    const { store } = setup();
    for (const [kind, k, a, b] of ops) {
      try {
        if (kind === 'hset') hset(store, 1, k, a, b);
        else if (kind === 'hdel') store.mutate(1, k, 'hash', false, 0, (h) => h.delete(a), false);
        else if (kind === 'sadd') store.mutate(1, k, 'set', true, 1000, (s) => s.add(a), false);
        else if (kind === 'srem') store.mutate(1, k, 'set', false, 0, (s) => s.delete(a), false);
        else if (kind === 'zadd') store.mutate(1, k, 'zset', true, 1000, (z) => z.add(a, b.length), false);
        else if (kind === 'zrem') store.mutate(1, k, 'zset', false, 0, (z) => z.delete(a), false);
        else if (kind === 'set') store.set(1, k, a);
        else if (kind === 'del') store.del(1, k);
        else {
          const s = new SetValue();
          if (a !== '') s.add(a);
          store.putCollection(1, k, s);
        }
      } catch (e) {
        assert.ok(wrongType(e), String(e));
      }
      assert.equal(store.memoryUsed, accounted(store));
      assert.equal(store.partitionStats(1).bytes, store.memoryUsed);
    }
    for (const k of ['a', 'b', 'c']) store.del(1, k);
    assert.equal(store.memoryUsed, 0);
  }));
});

test('a hash with a TTL expires like a string: lazily on access and by the active cycle, with `expired` events', () => {
  const { clock, store, events } = setup();
  hset(store, 2, 'h1', 'f', 'v');
  hset(store, 2, 'h2', 'f', 'v');
  assert.equal(store.expire(2, 'h1', clock.now() + 100), true);
  assert.equal(store.expire(2, 'h2', clock.now() + 100), true);
  assert.equal(store.pttl(2, 'h1'), 100);
  assert.equal(store.stats().volatileKeys, 2);
  clock.advance(101);
  assert.equal(store.readCollection(2, 'h1', 'hash'), undefined, 'expired on access');
  assert.equal(store.activeExpireCycle(10), 1, 'the active cycle removes the other');
  assert.deepEqual(events.filter((e) => e.kind === 'expired').map((e) => e.key).sort(), ['h1', 'h2']);
  assert.equal(store.memoryUsed, 0);
  // A write to a hash keeps its TTL.
  hset(store, 2, 'h3', 'f', 'v');
  store.expire(2, 'h3', clock.now() + 1000);
  hset(store, 2, 'h3', 'g', 'w');
  assert.equal(store.pttl(2, 'h3'), 1000);
});

test('hashes are evicted like strings under maxmemory (allkeys-lru), never above the limit; noeviction refuses with OOM and changes nothing', () => {
  const { store, events } = setup({ maxMemoryBytes: 20_000, evictionPolicy: 'allkeys-lru' });
  for (let i = 0; i < 200; i++) {
    hset(store, i % 4, `h${i}`, 'field', 'x'.repeat(100), 'other', 'y'.repeat(50));
    assert.ok(store.memoryUsed <= 20_000, `used ${store.memoryUsed}`);
  }
  assert.ok(events.some((e) => e.kind === 'evicted' && e.key.startsWith('h')), 'hashes were evicted');
  assert.ok(store.readCollection(199 % 4, 'h199', 'hash') !== undefined, 'the newest hash is there');
  assert.equal(store.memoryUsed, accounted(store));

  const full = setup({ maxMemoryBytes: 2_000, evictionPolicy: 'noeviction' });
  hset(full.store, 0, 'h', 'f', 'v');
  const before = full.store.memoryUsed;
  assert.throws(() => hset(full.store, 0, 'h', 'big', 'z'.repeat(5000)), (e: unknown) => isRingleaderError(e) && e.code === 'OOM');
  assert.equal(full.store.memoryUsed, before);
  assert.equal(full.store.readCollection(0, 'h', 'hash')!.size, 1, 'the refused write changed nothing');
});

/** The replication layer's mapping of events to ops. */
function toOp(e: WriteEvent): ReplicatedOp | undefined {
  if (e.kind === 'set') return { kind: 'set', key: e.key, value: e.value!, expiresAt: e.expiresAt };
  if (e.kind === 'del' || e.kind === 'expired' || e.kind === 'evicted') return { kind: 'del', key: e.key };
  if (e.kind === 'expire') return { kind: 'expire', key: e.key, expiresAt: e.expiresAt };
  return undefined;
}

test('a copy fed with the write events of collection changes (and a snapshot) has the primary\'s digest', () => {
  const { clock, store } = setup();
  const copy = new Store({ partitionCount: 4, timeSnapshot: 'call' }, clock);
  copy.setPartitionRole(3, 'copy');
  hset(store, 3, 'before', 'a', '1');
  // Snapshot first (typed entries), then the stream, applied in order as the replicator does.
  for (const batch of [...store.exportPartition(3)]) for (const e of batch) copy.applyReplicated(3, { kind: 'set', ...e });
  store.onWrite((e) => {
    const op = toOp(e);
    if (op !== undefined) assert.equal(copy.applyReplicated(e.partition, op), true);
  });
  hset(store, 3, 'h', 'f', 'v', 'g', 'w');
  store.mutate(3, 'h', 'hash', false, 0, (h) => h.delete('f'), false);
  store.mutate(3, 's', 'set', true, 100, (s) => s.add('m'), false);
  store.mutate(3, 'z', 'zset', true, 100, (z) => (z.add('a', 1), z.add('b', -Infinity)), false);
  store.mutate(3, 'z', 'zset', false, 0, (z) => z.add('a', 7), false);
  store.expire(3, 'z', clock.now() + 5000);
  store.putCollection(3, 'stored', new ZSetValue());
  const stored = new SetValue();
  stored.add('x');
  store.putCollection(3, 'stored', stored, clock.now() + 9000);
  store.mutate(3, 's', 'set', false, 0, (s) => s.delete('m'), false);
  assert.deepEqual(copy.digest(3), store.digest(3));
  assert.equal(copy.memoryUsed, store.memoryUsed);
  assert.deepEqual([...copy.readCollection(3, 'z', 'zset')!.scores], [['b', -Infinity], ['a', 7]]);
  assert.equal(copy.type(3, 's'), 'none', 'the emptied set is gone on both');
});

test('the digest covers type and content, not the order fields were written in', () => {
  const a = setup().store;
  const b = setup().store;
  hset(a, 0, 'k', 'f', '1', 'g', '2');
  hset(b, 0, 'k', 'g', '2', 'f', '1');
  assert.deepEqual(a.digest(0), b.digest(0));
  hset(b, 0, 'k', 'g', '3');
  assert.notDeepEqual(a.digest(0), b.digest(0), 'a changed value changes the digest');
  const c = setup().store;
  c.mutate(0, 'k', 'set', true, 100, (s) => (s.add('f'), s.add('g')), false);
  const d = setup().store;
  d.mutate(0, 'k', 'zset', true, 100, (z) => (z.add('f', 0), z.add('g', 0)), false);
  assert.notDeepEqual(c.digest(0), d.digest(0), 'a set and a zset of the same members differ');
});

test('a write event\'s TypedValue encodes lazily and is sealed after the call; decoding gives an equal collection', () => {
  const store = new Store({ partitionCount: 1 });
  let kept: TypedValue | undefined;
  store.onWrite((e) => {
    kept = e.value as TypedValue;
  });
  store.mutate(0, 'h', 'hash', true, 100, (h) => h.set('f', 'v'), false);
  assert.throws(() => kept!.bytes, /must be read during the listener call/);
  const h = new HashValue();
  h.set('f\u00ff', 'v');
  const back = TypedValue.of(h).toCollection() as HashValue;
  assert.deepEqual([...back.map], [['f\u00ff', 'v']]);
  assert.equal(back.bytes, h.bytes);
});

test('property: a copy built from snapshot batches interleaved with the stream (whole values and patches) equals the primary', () => {
  const key = fc.constantFrom('h1', 'h2', 's1', 's2', 'z1', 'z2');
  const elem = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
  const step = fc.oneof(
    fc.tuple(fc.constant('write' as const), key, elem, fc.boolean(), fc.integer({ min: -3, max: 3 })),
    fc.tuple(fc.constant('batch' as const), key, elem, fc.boolean(), fc.integer()),
  );
  let patches = 0;
  fc.assert(fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
    const { store } = setup();
    const copy = new Store({ partitionCount: 4, timeSnapshot: 'call' });
    copy.setPartitionRole(0, 'copy');
    const write = (k: string, m: string, add: boolean, n: number): void => {
      if (k.startsWith('h')) store.mutate(0, k, 'hash', add, 100, (h) => (add ? h.set(m, String(n)) : h.delete(m)), false);
      else if (k.startsWith('s')) store.mutate(0, k, 'set', add, 100, (s) => (add ? s.add(m) : s.delete(m)), false);
      else store.mutate(0, k, 'zset', add, 100, (z) => (add ? z.add(m, n) : z.delete(m)), false);
    };
    // Collections of a few elements before the copy starts.
    for (const k of ['h1', 's1', 'z1', 'z2']) for (const m of ['a', 'b', 'c', 'd']) write(k, m, true, m.charCodeAt(0));
    store.onWrite((e) => {
      if (e.value instanceof TypedValue && e.value.patch) patches++;
      const op = toOp(e);
      if (op !== undefined) assert.equal(copy.applyReplicated(0, op), true);
    });
    const reader = store.snapshotReader(0, { maxEntries: 1 });
    for (const [kind, k, m, add, n] of steps) {
      if (kind === 'write') write(k, m, add, n);
      else for (const x of reader.next() ?? []) copy.applyReplicated(0, { kind: 'set', ...x });
    }
    for (let b = reader.next(); b !== null; b = reader.next()) for (const x of b) copy.applyReplicated(0, { kind: 'set', ...x });
    assert.deepEqual(copy.digest(0), store.digest(0));
    assert.equal(copy.memoryUsed, store.memoryUsed);
  }), { numRuns: 300 });
  assert.ok(patches > 100, `patches travelled (${patches})`);
});

test('a change to a big collection travels as a patch of that change, not the whole value', () => {
  const { store, events } = setup();
  store.mutate(1, 'z', 'zset', true, 100_000, (z) => {
    for (let i = 0; i < 1000; i++) z.add(`m${i}`, i);
  }, undefined);
  events.length = 0;
  store.mutate(1, 'z', 'zset', false, 100, (z) => (z.add('m5', -1), z.delete('m6')), false);
  assert.equal(events.length, 1);
  const v = events[0]!.value as TypedValue;
  assert.ok(v instanceof TypedValue && v.patch, 'a patch');
  assert.ok(v.length < 64, `${v.length} bytes for two changes`);
  store.mutate(1, 'z', 'zset', false, 100, (z) => z.add('m7', 7), false);
  assert.equal(events.length, 1, 'no change, no event');
});
