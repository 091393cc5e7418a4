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
