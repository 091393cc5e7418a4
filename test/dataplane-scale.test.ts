// Scenario: scale 3 → 4 → 5 → 3 nodes (replicas 2) under load from ioredis Cluster and the Ringleader client over
// 50,000 keys. Planned changes must lose nothing and fail no request; reads are checked during the run.
import { test } from 'node:test';
import { preload } from '../src/testing/workload.js';
import { finish, keyRange, letRun, runWorkloads, startScenario } from './dataplane-helpers.js';

test('scale 3 → 4 → 5 → 3 under load: no failed request, every acknowledged write readable, no deleted key back, copies match the table', { timeout: 150_000 }, async (t) => {
  const s = await startScenario(t, { nodes: 3, replicas: 2, partitions: 64 });
  const keys = keyRange('scale', 50_000);
  // 50,000 keys first (half through each client), then a concurrent workload on top: overwrites and deletes
  // concentrated on 1,000 hot keys (so stale reads are likely to be seen), reads over all keys.
  const half = keys.length / 2;
  const failedLoads = (await preload(s.history, s.io, keys.slice(0, half), { concurrency: 300 })) + (await preload(s.history, s.rl, keys.slice(half), { concurrency: 300 }));
  t.diagnostic(`preloaded ${keys.length} keys (${failedLoads} failed)`);
  const hot = runWorkloads(s, { keys: keys.slice(0, 1000), workers: 3, writeFraction: 0.5, deleteFraction: 0.1, maxOpsPerSec: 150, seed: 1 });
  const wide = runWorkloads(s, { keys, workers: 2, writeFraction: 0.2, deleteFraction: 0.02, maxOpsPerSec: 100, seed: 2 });
  const load = { ops: () => hot.ops() + wide.ops() };
  try {
    await letRun(s.cluster, load, 200);
    await s.cluster.addNode('node-4');
    await letRun(s.cluster, load, 200);
    await s.cluster.addNode('node-5');
    await letRun(s.cluster, load, 200);
    for (const name of ['node-1', 'node-2']) {
      const code = await s.cluster.stopNode(name);
      if (code !== 0) throw new Error(`${name} exited with ${code} on SIGTERM:\n${s.cluster.node(name).proc.tail()}`);
      await s.cluster.waitStable();
      await letRun(s.cluster, load, 200);
    }
  } finally {
    await hot.stop();
    await wide.stop();
  }
  await finish(t, s, keys);
});
