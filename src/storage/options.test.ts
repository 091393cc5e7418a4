import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STORE_OPTIONS, parseBytes, recommendedHeapLimitMb, resolveStoreOptions, Store } from './index.js';

test('parseBytes reads redis.conf sizes', () => {
  const cases: Array<[string, number]> = [
    ['0', 0], ['1048576', 1048576], ['1k', 1000], ['1kb', 1024], ['256mb', 256 * 1024 * 1024], ['256MB', 256 * 1024 * 1024],
    ['2m', 2_000_000], ['1gb', 1024 ** 3], ['3G', 3e9], ['10b', 10], [' 64mb ', 64 * 1024 * 1024],
  ];
  for (const [text, want] of cases) assert.equal(parseBytes(text), want, text);
  for (const bad of ['', 'mb', '-1mb', '1.5gb', '10tb', '1 0', '99999999999999999gb', 'abc']) {
    assert.throws(() => parseBytes(bad), TypeError, bad);
  }
});

test('resolveStoreOptions fills defaults and names the bad option', () => {
  assert.deepEqual(resolveStoreOptions(), { ...DEFAULT_STORE_OPTIONS });
  assert.equal(resolveStoreOptions({ maxMemoryBytes: 100 }).maxMemoryBytes, 100);
  assert.ok(Object.isFrozen(DEFAULT_STORE_OPTIONS));
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ partitionCount: 0 }, /partitionCount/],
    [{ partitionCount: 16385 }, /partitionCount/],
    [{ maxMemoryBytes: -1 }, /maxMemoryBytes/],
    [{ maxMemoryBytes: 1.5 }, /maxMemoryBytes/],
    [{ evictionPolicy: 'allkeys-lfu' }, /evictionPolicy/],
    [{ maxValueBytes: 512 * 1024 * 1024 + 1 }, /maxValueBytes/],
    [{ evictionSamples: 0 }, /evictionSamples/],
  ];
  for (const [o, re] of bad) assert.throws(() => new Store(o), (e: unknown) => e instanceof TypeError && re.test(e.message));
});

test('recommendedHeapLimitMb leaves room for garbage above maxmemory', () => {
  assert.equal(recommendedHeapLimitMb(0), undefined);
  assert.equal(recommendedHeapLimitMb(parseBytes('256mb')), 448);
  assert.equal(recommendedHeapLimitMb(parseBytes('64mb')), 160);
});
