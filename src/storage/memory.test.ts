import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ENTRY_OVERHEAD_BYTES, Store } from './index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heap(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

// Guards the calibration in memory.ts: if an Entry grows a field or values stop being flat strings, the accounting
// would under-count real memory and maxmemory would no longer bound the process.
/** Fills a store and returns [real heap bytes, accounted bytes]; in its own function so the store dies on return. */
function measure(n: number, withTtl: boolean): [number, number] {
  const socket = Buffer.alloc(4096, 'v');
  const before = heap();
  const store = new Store({ partitionCount: 64 });
  for (let i = 0; i < n; i++) {
    const key = Buffer.from(`key:${String(i).padStart(12, '0')}`, 'latin1').toString('latin1');
    const value = socket.subarray(i & 1023, (i & 1023) + 100);
    store.set(i & 63, key, value, withTtl ? { expiresAt: Date.now() + 3_600_000 + i } : undefined);
    if (i % 7 === 0) store.append(i & 63, key, 'tail'); // concatenations must not leave ropes behind
  }
  assert.equal(store.dbsize(), n);
  return [heap() - before, store.memoryUsed];
}

test('accounted bytes cover the real heap of the entries (calibration of ENTRY_OVERHEAD_BYTES)', (t) => {
  const n = 100_000;
  for (const withTtl of [false, true]) {
    const [real, accounted] = measure(n, withTtl);
    const perKey = `real ${(real / n).toFixed(1)} vs accounted ${(accounted / n).toFixed(1)} B/key (overhead ${ENTRY_OVERHEAD_BYTES}), TTL ${withTtl}`;
    t.diagnostic(perKey);
    assert.ok(real <= accounted, `under-counted: ${perKey}`);
    assert.ok(real >= accounted * 0.75, `accounting far too high: ${perKey}`);
  }
});

/** Fills one collection of `n` elements through the store; returns [real heap bytes, accounted bytes]. */
function measureCollection(type: 'hash' | 'set' | 'zset', n: number): [number, number] {
  const before = heap();
  const store = new Store({ partitionCount: 4 });
  const id = (i: number): string => Buffer.from(`e:${String(i).padStart(14, '0')}`, 'latin1').toString('latin1');
  const value = (): string => Buffer.from('value-16-bytes!!', 'latin1').toString('latin1');
  for (let i = 0; i < n; i += 1000) {
    store.mutate(1, 'c', type, true, 0, (c) => {
      for (let j = i; j < i + 1000; j++) {
        if (c.type === 'hash') c.set(id(j), value());
        else if (c.type === 'set') c.add(id(j));
        else c.add(id(j), (j * 7) % 1_000_003);
      }
    }, undefined);
  }
  return [heap() - before, store.memoryUsed];
}

test('accounted bytes cover the real heap of hashes, sets and sorted sets (calibration in collections.ts)', (t) => {
  const n = 200_000;
  for (const type of ['hash', 'set', 'zset'] as const) {
    const [real, accounted] = measureCollection(type, n);
    const per = `${type}: real ${(real / n).toFixed(1)} vs accounted ${(accounted / n).toFixed(1)} B/element`;
    t.diagnostic(per);
    assert.ok(real <= accounted, `under-counted: ${per}`);
    assert.ok(real >= accounted * 0.7, `accounting far too high: ${per}`);
  }
});
