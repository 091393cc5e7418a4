import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hashKey, nextCursor, ONE_BUCKET_MAX, ScanMap, ScanSet } from './scan-table.js';

test('nextCursor visits every bucket of a table once, in reverse-binary order, and ends at 0', () => {
  for (const nb of [1, 2, 8, 1024]) {
    const seen: number[] = [];
    let v = 0;
    do {
      seen.push(v & (nb - 1));
      v = nextCursor(v, nb - 1);
    } while (v !== 0);
    assert.equal(seen.length, nb);
    assert.equal(new Set(seen).size, nb);
  }
  assert.deepEqual([0, 4, 2, 6, 1, 5, 3].map((v) => nextCursor(v, 7)), [4, 2, 6, 1, 5, 3, 7]);
});

test('hashKey spreads similar keys over the low bits (used as bucket numbers)', () => {
  const counts = new Array<number>(64).fill(0);
  for (let i = 0; i < 64_000; i++) counts[hashKey(`f:${i}`) & 63]!++;
  assert.ok(Math.min(...counts) > 800 && Math.max(...counts) < 1200, `bucket counts ${Math.min(...counts)}..${Math.max(...counts)}`);
  const long = 'x'.repeat(1000);
  assert.notEqual(hashKey(`${long}a`), hashKey(`${long}b`), 'long keys: the end counts');
  assert.notEqual(hashKey(`a${long}`), hashKey(`b${long}`), 'long keys: the start counts');
});

test('a ScanMap behaves as a Map: get, set, delete, size and iteration over growth and shrinking', () => {
  const m = new ScanMap<number>();
  const model = new Map<string, number>();
  for (let i = 0; i < 5000; i++) {
    m.set(`k${i}`, i);
    model.set(`k${i}`, i);
  }
  assert.ok(m.bucketCount > 1);
  m.set('k7', -7);
  model.set('k7', -7);
  for (let i = 0; i < 5000; i += 3) assert.equal(m.delete(`k${i}`), model.delete(`k${i}`));
  assert.equal(m.delete('nope'), false);
  assert.equal(m.size, model.size);
  assert.deepEqual(new Map(m), model);
  assert.deepEqual([...m.keys()].sort(), [...model.keys()].sort());
  assert.deepEqual([...m.values()].sort(), [...model.values()].sort());
  for (const k of [...model.keys()]) m.delete(k);
  assert.equal(m.size, 0);
  assert.equal(m.bucketCount, 1);
  assert.equal(m.get('k1'), undefined);
});

test('up to ONE_BUCKET_MAX elements a ScanSet keeps insertion order and a scan answers everything with cursor 0', () => {
  const s = new ScanSet();
  const order = Array.from({ length: ONE_BUCKET_MAX }, (_, i) => `m${(i * 37) % ONE_BUCKET_MAX}`);
  for (const m of order) s.add(m);
  assert.deepEqual([...s], order);
  const got: string[] = [];
  assert.equal(s.scan(12345, 1, (m) => got.push(m)), 0);
  assert.deepEqual(got, order);
  s.add('one more');
  assert.ok(s.bucketCount > 1);
});

test('a full scan of a big ScanMap without writes returns every element exactly once', () => {
  const m = new ScanMap<string>();
  for (let i = 0; i < 20_000; i++) m.set(`f${i}`, `v${i}`);
  const seen = new Map<string, string>();
  let cursor = 0;
  let steps = 0;
  do {
    cursor = m.scan(cursor, 10, (k, v) => {
      assert.ok(!seen.has(k), `returned twice: ${k}`);
      seen.set(k, v);
    });
    steps++;
  } while (cursor !== 0);
  assert.equal(seen.size, 20_000);
  assert.ok(steps > 100, `the scan went in steps (${steps})`);
});

/**
 * The guarantee: an element present from the start to the end of a full iteration is returned at least once, with
 * random adds and deletes (in bursts big enough to grow and shrink the table several times) between scan steps.
 */
test('property: a scan interleaved with random adds and deletes returns every element present throughout', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), from: fc.nat(6000), n: fc.integer({ min: 1, max: 3000 }) }),
    fc.record({ kind: fc.constant('del' as const), from: fc.nat(6000), n: fc.integer({ min: 1, max: 3000 }) }),
    fc.record({ kind: fc.constant('delEvery' as const), from: fc.integer({ min: 2, max: 5 }), n: fc.constant(0) }),
  );
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 4000 }), fc.array(fc.tuple(op, fc.integer({ min: 1, max: 200 })), { maxLength: 40 }), fc.boolean(),
    (initial, steps, asSet) => {
      const s = asSet ? new ScanSet() : new ScanMap<number>();
      const add = (k: string): void => void (s instanceof ScanSet ? s.add(k) : s.set(k, 1));
      for (let i = 0; i < initial; i++) add(`e${i}`);
      const present = new Set<string>([...s.keys()]);
      const everDeleted = new Set<string>();
      const returned = new Set<string>();
      const visit = (k: string): void => void returned.add(k);
      let cursor = 0;
      let i = 0;
      do {
        const [o, count] = steps[i % Math.max(1, steps.length)] ?? [{ kind: 'add' as const, from: 0, n: 0 }, 10];
        cursor = s instanceof ScanSet ? s.scan(cursor, count, visit) : s.scan(cursor, count, visit);
        if (i < steps.length) {
          if (o.kind === 'add') for (let k = o.from; k < o.from + o.n; k++) add(`e${k}`);
          else if (o.kind === 'del') for (let k = o.from; k < o.from + o.n; k++) if (s.delete(`e${k}`)) everDeleted.add(`e${k}`);
          else for (const k of [...s.keys()].filter((_, j) => j % o.from === 0)) if (s.delete(k)) everDeleted.add(k);
        }
        i++;
      } while (cursor !== 0 && i < 100_000);
      assert.notEqual(cursor, -1);
      for (const k of present) if (!everDeleted.has(k)) assert.ok(returned.has(k), `${k} was present throughout but not returned`);
      for (const k of returned) assert.ok(/^e\d+$/.test(k));
    },
  ), { numRuns: 60 });
});
