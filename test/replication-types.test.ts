// Hashes, sets and sorted sets in the partition data plane over real sockets: a learner synced (SNAPT snapshot
// batches + OP T stream entries) while a writer keeps mutating collections ends identical to its primary by
// RL.DIGEST (which covers each key's type and content), and a backup then promoted serves the same collections.
// In-process nodes with hand-made tables and real ioredis connections (test/replication-fixture.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { all, digest, P, startTestNodes, syncedAll, table, waitFor, type TestNode } from './replication-fixture.js';

async function sameCopies(a: TestNode, b: TestNode): Promise<boolean> {
  for (let p = 0; p < P; p++) {
    const [x, y] = await Promise.all([digest(a, p), digest(b, p)]);
    if (x[1] !== y[1] || x[5] !== y[5] || x[4] !== y[4]) return false;
  }
  return true;
}

test('a learner synced while hashes, sets and sorted sets are mutated ends identical to its primary (digest), and serves them after promotion', async (t) => {
  // Small snapshot batches: the sync takes many turns, so the writer's entries interleave with it.
  const [a, c] = await startTestNodes(t, ['a', { syncBatchEntries: 3 }], ['c', { syncBatchEntries: 3 }]);
  const nodes = [a, c];
  const t1 = table(1, nodes, all(() => [[a, 'primary']]), all(() => 1));
  for (const n of nodes) n.apply(t1);

  // Collections on every partition before the learner starts (its snapshot carries them as SNAPT batches).
  const keys = Array.from({ length: 60 }, (_, i) => `c:${i}`);
  for (const [i, k] of keys.entries()) {
    if (i % 3 === 0) await a.redis.hset(`h{${k}}`, 'f0', 'v0', 'f1', String(i));
    if (i % 3 === 1) await a.redis.sadd(`s{${k}}`, 'a', 'b', String(i));
    if (i % 3 === 2) await a.redis.zadd(`z{${k}}`, 1, 'a', 2.5, 'b', i, 'c');
  }
  await a.redis.set('plain', 'string');
  await a.redis.hset('ttl:h', 'f', 'v');
  await a.redis.pexpire('ttl:h', 600_000);

  let writing = true;
  let n = 0;
  const writer = (async () => {
    try {
      while (writing) {
        const k = keys[n++ % keys.length]!;
        const i = n;
        // Every kind of collection write: field/member adds and removals, counters, scores, STORE forms, deletes.
        await a.redis.hset(`h{${k}}`, `f${i % 5}`, `v${i}`);
        if (i % 4 === 0) await a.redis.hdel(`h{${k}}`, `f${(i + 1) % 5}`);
        await a.redis.hincrby(`h{${k}}`, 'n', 1);
        await a.redis.sadd(`s{${k}}`, `m${i % 7}`);
        if (i % 3 === 0) await a.redis.srem(`s{${k}}`, `m${(i + 2) % 7}`);
        await a.redis.zadd(`z{${k}}`, i, `m${i % 6}`);
        await a.redis.zincrby(`z{${k}}`, 0.5, 'a');
        if (i % 5 === 0) await a.redis.zremrangebyrank(`z{${k}}`, 0, 0);
        if (i % 11 === 0) await a.redis.del(`s{${k}}`);
        if (i % 13 === 0) await a.redis.zunionstore(`z{${k}}`, 2, `z{${k}}`, `s{${k}}`);
      }
    } finally {
      writing = false;
    }
  })();
  const t2 = table(2, nodes, all(() => [[a, 'primary'], [c, 'learner']]), all(() => 1));
  for (const x of nodes) x.apply(t2);
  await waitFor('c synced every partition', syncedAll(c));
  await waitFor('the writer ran across the sync', () => n > 200 || !writing);
  writing = false;
  await writer;
  t.diagnostic(`writer rounds ${n}`);
  await waitFor('c equal to a', () => sameCopies(a, c));
  const keyCount = (await Promise.all(all((p) => digest(a, p)))).reduce((s, d) => s + d[4], 0);
  assert.ok(keyCount >= 60, `the copies hold the collections (${keyCount} keys)`);

  // Promote c (term 2): it serves the same collections with their types and TTLs.
  const t3 = table(3, nodes, all(() => [[c, 'primary'], [a, 'backup']]), all(() => 2));
  for (const x of [c, a]) x.apply(t3);
  await waitFor('c serves every partition', () => c.view.owned.every((o) => o === 1));
  const k = keys[0]!;
  assert.equal(await c.redis.type(`h{${k}}`), 'hash');
  assert.equal(await c.redis.type(`s{${keys[1]!}}`).then((x) => x === 'set' || x === 'none'), true);
  assert.equal(await c.redis.type(`z{${keys[2]!}}`), 'zset');
  assert.equal(await c.redis.hget('ttl:h', 'f'), 'v');
  const ttl = await c.redis.pttl('ttl:h');
  assert.ok(ttl > 500_000 && ttl <= 600_000, `the hash's TTL travelled (pttl ${ttl})`);
  assert.equal(await c.redis.get('plain'), 'string');
  // A write on the new primary streams back to a (now its backup) as a typed entry.
  await c.redis.zadd('after', 1, 'x');
  await c.redis.hset('after:h', 'f', 'v');
  await waitFor('a follows c', () => sameCopies(a, c));
});
