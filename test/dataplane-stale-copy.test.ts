// Scenario (issue 8's correctness bug): a node X joins and becomes primary of some partitions, those partitions are
// overwritten and deleted through X, then X leaves gracefully. An old copy kept from before X joined must never be
// served again: reads return the latest values only and deleted keys stay deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../src/hashing/index.js';
import { partitionOfSlot } from '../src/partitioning/index.js';
import { forEachConcurrent, preload, readAll } from '../src/testing/workload.js';
import { finish, keyRange, startScenario } from './dataplane-helpers.js';

test('a node that joins, takes partitions, receives overwrites and deletes, then leaves: latest values only, deleted keys absent', { timeout: 120_000 }, async (t) => {
  const s = await startScenario(t, { nodes: 3, replicas: 2, partitions: 32 });
  const keys = keyRange('stale', 6000);
  assert.equal(await preload(s.history, s.rl, keys, { concurrency: 300 }), 0, 'preload');
  const before = await s.cluster.table();

  const x = await s.cluster.addNode('node-X');
  const during = await s.cluster.table();
  const taken = new Set(during.primariesOf(x.id));
  assert.ok(taken.size > 0, `node-X became primary of some partitions (epoch ${during.epoch})`);
  for (const p of taken) t.diagnostic(`partition ${p}: primary ${before.primaryOf(p)?.slice(0, 8)} → X; copies before ${before.copiesOf(p).map((c) => `${c.member.slice(0, 8)}:${c.state}`).join(',')}`);
  const inTaken = keys.filter((k) => taken.has(partitionOfSlot(keySlot(k), during.partitionCount)));
  t.diagnostic(`${inTaken.length} keys in the ${taken.size} partitions node-X took`);

  // Step 1: X serves what was written before it joined.
  const firstRead = await readAll(s.history, s.io, inTaken, 300);
  assert.equal(firstRead.failed, 0);
  // Step 2: through X, overwrite half of those keys (alternating clients) and delete the other half.
  await forEachConcurrent(inTaken, 200, async (key, i) => {
    const kv = i % 4 < 2 ? s.io : s.rl;
    if (i % 2 === 0) {
      const value = s.history.uniqueValue(`${kv.name}-over`);
      await s.history.run('write', key, value, () => kv.set(key, value, 0), { process: `${kv.name}-over` });
    } else {
      await s.history.run('delete', key, null, () => kv.del(key), { process: `${kv.name}-del` });
    }
  });
  // Step 3: X leaves gracefully.
  assert.equal(await s.cluster.stopNode('node-X'), 0, 'node-X exits 0 on SIGTERM');
  const after = await s.cluster.waitStable();
  for (const p of [...taken].slice(0, 5)) t.diagnostic(`partition ${p} after X left: primary ${after.primaryOf(p)?.slice(0, 8)}`);
  // Step 4: every key, through both clients, then the full end check (which reads everything again).
  await readAll(s.history, s.io, keys, 300);
  await finish(t, s, keys);
});
