import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../testing/manual-clock.js';
import { isRingleaderError } from '../shared/errors.js';
import { entryCost, Store } from './index.js';

const COST = entryCost('k000', 'x'.repeat(100));
const key = (i: number) => `k${String(i).padStart(3, '0')}`;

test('setMemoryLimit: switching to allkeys-lru at run time evicts the least recently used down to the new limit', () => {
  const store = new Store({ partitionCount: 4, evictionPolicy: 'noeviction', timeSnapshot: 'call' }, new ManualClock());
  for (let i = 0; i < 20; i++) store.set(i % 4, key(i), 'x'.repeat(100));
  store.get(0, key(0)); // referenced before the switch: LRU starts with a clean list, so every entry is equal
  assert.equal(store.setMemoryLimit(COST * 10, 'allkeys-lru'), 10);
  assert.equal(store.memoryUsed, COST * 10);
  assert.equal(store.options.evictionPolicy, 'allkeys-lru');
  assert.equal(store.stats().maxMemoryBytes, COST * 10);
  // The list links every surviving entry: more writes keep evicting, never OOM.
  for (let i = 20; i < 40; i++) store.set(i % 4, key(i), 'x'.repeat(100));
  assert.equal(store.dbsize(), 10);
  assert.ok([...Array(40).keys()].slice(30).every((i) => store.exists(i % 4, key(i))), 'the newest keys stay');
});

test('setMemoryLimit: leaving allkeys-lru unlinks the entries; noeviction then refuses writes over the limit', () => {
  const store = new Store({ partitionCount: 2, maxMemoryBytes: COST * 5, evictionPolicy: 'allkeys-lru', timeSnapshot: 'call' }, new ManualClock());
  for (let i = 0; i < 5; i++) store.set(i % 2, key(i), 'x'.repeat(100));
  assert.equal(store.setMemoryLimit(COST * 5, 'noeviction'), 0);
  assert.throws(() => store.set(0, key(9), 'x'.repeat(100)), (e: unknown) => isRingleaderError(e) && e.code === 'OOM');
  store.del(1, key(1)); // removing an entry that was in the LRU list still works after the unlink
  store.set(0, key(9), 'x'.repeat(100));
  assert.equal(store.setMemoryLimit(0, 'allkeys-lru'), 0, 'unlimited: nothing to evict');
  for (let i = 10; i < 30; i++) store.set(i % 2, key(i), 'x'.repeat(100));
  assert.equal(store.dbsize(), 25);
});

test('setMemoryLimit validates like the options: a bad policy throws a TypeError and changes nothing', () => {
  const store = new Store({ partitionCount: 1 });
  assert.throws(() => store.setMemoryLimit(100, 'bogus' as never), TypeError);
  assert.throws(() => store.setMemoryLimit(-1, 'noeviction'), TypeError);
  assert.equal(store.options.evictionPolicy, 'allkeys-lru');
  assert.equal(store.stats().maxMemoryBytes, 0);
});

test('setMemoryLimit leaves copy partitions out of the CLOCK list: eviction never takes a copy\'s keys', () => {
  const store = new Store({ partitionCount: 2, evictionPolicy: 'noeviction', timeSnapshot: 'call' }, new ManualClock());
  // The copy is partition 0, so a walk over every map would put its entries first in the CLOCK list.
  store.setPartitionRole(0, 'copy');
  for (let i = 0; i < 6; i++) store.applyReplicated(0, { kind: 'set', key: key(100 + i), value: 'x'.repeat(100), expiresAt: 0 });
  for (let i = 0; i < 6; i++) store.set(1, key(i), 'x'.repeat(100));
  store.setMemoryLimit(COST * 9, 'allkeys-lru');
  assert.equal(store.partitionSize(0), 6, 'the copy keeps every key');
  assert.equal(store.partitionSize(1), 3, 'the primary partition gave way');
});
