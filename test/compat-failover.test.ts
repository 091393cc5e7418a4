// Redis Cluster clients through a failover, with real processes (LocalCluster: coordinator + 4 nodes, replicas 2):
// ioredis's Cluster client and `redis-cli -c` keep serving after kill -9 of a node that was primary of some
// partitions. Keys whose primary died are written and read again through both once the coordinator promoted their
// backups (ioredis follows the new CLUSTER SLOTS / MOVED; redis-cli -c follows MOVED from a surviving node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LocalCluster } from '../src/testing/local-cluster.js';
import { ioredisClusterFor } from '../src/testing/workload.js';
import { keySlot } from '../src/hashing/index.js';
import { partitionOfSlot } from '../src/partitioning/index.js';

const exec = promisify(execFile);

test('ioredis Cluster and redis-cli -c keep serving after kill -9 of a primary', { timeout: 150_000 }, async (t) => {
  const cluster = await LocalCluster.start({ nodes: 4, partitions: 32, replicas: 2 });
  t.after(() => cluster.close());
  const io = ioredisClusterFor(cluster.running.map((n) => n.port));
  t.after(() => io.disconnect());
  const keys = Array.from({ length: 200 }, (_, i) => `cfo:${i}`);
  assert.deepEqual(new Set(await Promise.all(keys.map((k) => io.set(k, `${k}:v1`)))), new Set(['OK']));

  const victim = cluster.node('node-3');
  const before = await cluster.table();
  const partitionOf = (k: string): number => partitionOfSlot(keySlot(k), before.partitionCount);
  const orphaned = keys.filter((k) => before.primaryOf(partitionOf(k)) === victim.id);
  assert.ok(orphaned.length > 0, 'some keys have their primary on the victim');

  // A light ioredis load runs through the kill; its failures during the failover are reported, not asserted.
  let running = true;
  const during = { ok: 0, failed: 0, firstError: '' };
  const loop = (async () => {
    let i = 0;
    while (running) {
      const k = keys[i++ % keys.length]!;
      try {
        await (i % 2 === 0 ? io.set(k, `${k}:load${i}`) : io.get(k));
        during.ok++;
      } catch (err) {
        during.failed++;
        during.firstError ||= String(err);
      }
    }
  })();
  try {
    await cluster.waitFor('the ioredis load to run', () => during.ok >= 100, 30_000);
    const t0 = performance.now();
    await cluster.kill9('node-3');
    const after = await cluster.waitStable(60_000, { settled: false });
    t.diagnostic(`kill -9 -> every partition served by a survivor: ${(performance.now() - t0).toFixed(0)} ms (epoch ${after.epoch})`);
    await cluster.waitFor('200 more ioredis ops after the failover', () => during.ok >= 300, 30_000);
  } finally {
    running = false;
    await loop;
  }
  t.diagnostic(`ioredis load through the failover: ${during.ok} ok, ${during.failed} failed${during.firstError ? ` (first: ${during.firstError})` : ''}`);

  // After the failover: keys whose primary died (up to 20) are written and read through ioredis.
  const table = await cluster.table();
  for (const k of orphaned.slice(0, 20)) {
    assert.notEqual(table.primaryOf(partitionOf(k)), victim.id);
    assert.equal(await io.set(k, `${k}:v2`), 'OK', `ioredis SET ${k}`);
    assert.equal(await io.get(k), `${k}:v2`, `ioredis GET ${k}`);
  }

  // redis-cli -c against a surviving node that is not the key's new primary: it follows MOVED there.
  const key = orphaned[0]!;
  const newPrimary = table.primaryOf(partitionOf(key));
  const survivor = cluster.running.find((n) => n.id !== newPrimary && n.id !== victim.id)!;
  const cli = async (...args: string[]): Promise<string> => (await exec('redis-cli', ['-c', '-p', String(survivor.port), ...args], { timeout: 15_000 })).stdout.trim();
  assert.equal(await cli('SET', key, 'from-redis-cli'), 'OK');
  assert.equal(await cli('GET', key), 'from-redis-cli');
  assert.equal(await io.get(key), 'from-redis-cli', 'ioredis sees the write redis-cli made');
});
