// Redis's SCAN guarantee through a real node process and ioredis: an element present from the start to the end of a
// full iteration is returned at least once, while other elements are deleted and added between the steps (the
// structures' own property tests are src/storage/scan-table.test.ts and src/storage/partitions.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startNodeProcess, type Proc } from './node-helpers.js';

let proc: Proc;
let redis: Redis;

before(async () => {
  const n = await startNodeProcess(['--standalone', '--name', 'scan-guarantee', '--enable-flush']);
  proc = n.proc;
  redis = new Redis({ port: n.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});

after(() => {
  redis.disconnect();
  proc.kill();
});

const N = 1500;
const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));

/**
 * Runs a full scan with `step(cursor)`; between steps deletes 25 churn elements (from the front, the case that
 * skipped elements under position cursors) and adds 10 new ones. Returns what the scan returned.
 */
async function scanWithChurn(step: (cursor: string) => Promise<[string, string[]]>, del: (xs: string[]) => Promise<unknown>, add: (xs: string[]) => Promise<unknown>): Promise<Set<string>> {
  const seen = new Set<string>();
  let cursor = '0';
  let round = 0;
  do {
    const [next, items] = await step(cursor);
    for (const x of items) seen.add(x);
    cursor = next;
    await del(range(25, (i) => `churn:${round * 25 + i}`));
    await add(range(10, (i) => `new:${round * 10 + i}`));
    round++;
    assert.ok(round < 10_000, 'the scan ends');
  } while (cursor !== '0');
  return seen;
}

test('HSCAN, SSCAN and ZSCAN return every element present throughout while others are deleted and added', async () => {
  const keep = range(N, (i) => `keep:${i}`);
  const churn = range(N, (i) => `churn:${i}`);
  await redis.hset('h', Object.fromEntries([...churn, ...keep].map((f) => [f, 'v'])));
  await redis.sadd('s', ...churn, ...keep);
  await redis.zadd('z', ...[...churn, ...keep].flatMap((m, i) => [String(i), m]));

  const hash = await scanWithChurn(async (c) => {
    const [next, flat] = await redis.hscan('h', c, 'COUNT', 20);
    return [next, flat.filter((_, i) => i % 2 === 0)];
  }, (xs) => redis.hdel('h', ...xs), (xs) => redis.hset('h', Object.fromEntries(xs.map((x) => [x, 'w']))));
  const set = await scanWithChurn((c) => redis.sscan('s', c, 'COUNT', 20), (xs) => redis.srem('s', ...xs), (xs) => redis.sadd('s', ...xs));
  const zset = await scanWithChurn(async (c) => {
    const [next, flat] = await redis.zscan('z', c, 'COUNT', 20);
    return [next, flat.filter((_, i) => i % 2 === 0)];
  }, (xs) => redis.zrem('z', ...xs), (xs) => redis.zadd('z', ...xs.flatMap((x) => ['1', x])));
  for (const [name, seen] of [['HSCAN', hash], ['SSCAN', set], ['ZSCAN', zset]] as const) {
    const missing = keep.filter((k) => !seen.has(k));
    assert.deepEqual(missing, [], `${name}: elements present throughout but not returned`);
  }
});

test('SCAN returns every key present throughout while other keys are deleted and added', async () => {
  await redis.mset(Object.fromEntries(range(N, (i) => `churn:${i}`).map((k) => [k, 'v'])));
  await redis.mset(Object.fromEntries(range(N, (i) => `keep:${i}`).map((k) => [k, 'v'])));
  const seen = await scanWithChurn((c) => redis.scan(c, 'COUNT', 20), (xs) => redis.del(...xs), (xs) => redis.mset(Object.fromEntries(xs.map((x) => [x, 'w']))));
  const missing = range(N, (i) => `keep:${i}`).filter((k) => !seen.has(k));
  assert.deepEqual(missing, [], 'SCAN: keys present throughout but not returned');
});
