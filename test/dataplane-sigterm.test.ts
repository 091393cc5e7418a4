// Scenario: SIGTERM of a node that is primary of at least 20,000 keys. A graceful leave hands everything over first:
// every key written before the leave is readable afterwards (the SIGTERM test in node-cluster.test.ts only reads keys
// written after the leave).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../src/hashing/index.js';
import { partitionOfSlot } from '../src/partitioning/index.js';
import { preload } from '../src/testing/workload.js';
import { finish, letRun, runWorkloads, startScenario } from './dataplane-helpers.js';

test('SIGTERM of a node holding 20,000 keys: it exits 0 and every key stays readable, under load', { timeout: 120_000 }, async (t) => {
  const s = await startScenario(t, { nodes: 3, replicas: 2, partitions: 64 });
  const table = await s.cluster.table();
  const leaving = s.cluster.node('node-3');
  const mine = new Set(table.primariesOf(leaving.id));
  // Keys until node-3 is primary of 20,000 of them (about 60,000 in all).
  const keys: string[] = [];
  let onLeaving = 0;
  for (let i = 0; onLeaving < 20_000; i++) {
    const k = `term:${i}`;
    keys.push(k);
    if (mine.has(partitionOfSlot(keySlot(k), table.partitionCount))) onLeaving++;
  }
  assert.equal(await preload(s.history, s.io, keys, { concurrency: 300, valueBytes: 64 }), 0, 'preload');
  const held = await s.cluster.nodeKeyCount('node-3');
  assert.ok(held >= 20_000, `node-3 holds ${held} keys before it leaves`);
  t.diagnostic(`${keys.length} keys written; node-3 holds ${held}`);

  const load = runWorkloads(s, { keys: keys.slice(0, 2000), workers: 2, writeFraction: 0.4, deleteFraction: 0.1, maxOpsPerSec: 150 });
  try {
    await letRun(s.cluster, load, 100);
    const started = performance.now();
    assert.equal(await s.cluster.stopNode('node-3'), 0, 'node-3 exits 0 on SIGTERM');
    t.diagnostic(`node-3 left in ${(performance.now() - started).toFixed(0)} ms`);
    await s.cluster.waitStable();
    await letRun(s.cluster, load, 100);
  } finally {
    await load.stop();
  }
  await finish(t, s, keys);
});
