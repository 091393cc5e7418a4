// Scenario: 3 → 4 → 3 nodes with maxmemory (volatile-ttl) and TTL'd keys in the mix, under load. Keys with a TTL may be
// absent (expired or evicted), never wrong; keys without one must all be there with their last value. Only primaries
// expire and evict: a copy must not lose a key without a TTL, nor serve a value that was overwritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preload } from '../src/testing/workload.js';
import { finish, keyRange, letRun, runWorkloads, startScenario } from './dataplane-helpers.js';

test('maxmemory + TTLs, 3 → 4 → 3 under load: TTL keys absent or right, never wrong; keys without TTL all kept', { timeout: 120_000 }, async (t) => {
  const s = await startScenario(t, { nodes: 3, replicas: 2, partitions: 32, nodeArgs: ['--maxmemory', '2mb', '--maxmemory-policy', 'volatile-ttl'] });
  const perm = keyRange('perm', 3000);
  const vol = keyRange('vol', 20_000);
  await preload(s.history, s.rl, perm, { concurrency: 200, valueBytes: 100 });
  // Permanent keys: overwrites (some with short TTLs) and deletes. Volatile keys: big values with TTLs, enough to fill
  // maxmemory so that primaries evict.
  const permLoad = runWorkloads(s, { keys: perm, workers: 2, writeFraction: 0.35, deleteFraction: 0.05, ttlFraction: 0.2, ttlMs: [500, 3000], valueBytes: 100, maxOpsPerSec: 150, seed: 3 });
  const volLoad = runWorkloads(s, { keys: vol, workers: 4, writeFraction: 0.7, deleteFraction: 0, ttlFraction: 1, ttlMs: [3000, 8000], valueBytes: 8000, maxOpsPerSec: 400, seed: 4 });
  const load = { ops: () => permLoad.ops() + volLoad.ops() };
  try {
    await letRun(s.cluster, load, 1500);
    await s.cluster.addNode('node-4');
    await letRun(s.cluster, load, 600);
    const code = await s.cluster.stopNode('node-1');
    if (code !== 0) throw new Error(`node-1 exited with ${code}`);
    await s.cluster.waitStable();
    await letRun(s.cluster, load, 600);
  } finally {
    await permLoad.stop();
    await volLoad.stop();
  }
  let evicted = 0;
  let expired = 0;
  for (const n of s.cluster.running) {
    const st = await s.cluster.info(n.name, 'stats');
    evicted += Number(st.get('evicted_keys') ?? 0);
    expired += Number(st.get('expired_keys') ?? 0);
  }
  t.diagnostic(`running nodes evicted ${evicted} and expired ${expired} keys`);
  // Key counts per node move while TTLs run out: the copies check is left to the scenarios without TTLs.
  await finish(t, s, [...perm, ...vol], { copies: false, check: { evictable: 'ttl' } });
  assert.ok(evicted > 0, 'the load filled maxmemory: primaries evicted keys (else this variant tests nothing about eviction)');
});
