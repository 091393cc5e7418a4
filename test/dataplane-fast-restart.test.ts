// Scenario: a node killed with kill -9 and restarted (same name, same port) faster than the coordinator's dead deadline.
// The new process is a new incarnation with an empty store: it must never serve its old primaries empty. Reads of the
// keys it was primary of are checked while it restarts and after, through both clients. The coordinator's fast failure
// path (a refused probe after the watch closes) is turned off here: it would declare the killed node dead before the
// restart, and this scenario is about a restart the coordinator did not notice (another host, a probe that timed out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../src/hashing/index.js';
import { partitionOfSlot } from '../src/partitioning/index.js';
import { preload } from '../src/testing/workload.js';
import { finish, keyRange, letRun, runWorkloads, startScenario } from './dataplane-helpers.js';

const DEAD_AFTER_MS = 8000;

test('a node restarted faster than the dead deadline never serves its old primaries empty', { timeout: 120_000 }, async (t) => {
  const s = await startScenario(t, { nodes: 3, replicas: 2, partitions: 32, suspectAfterMs: 4000, deadAfterMs: DEAD_AFTER_MS, coordinatorArgs: ['--probe-timeout-ms', '0'] });
  const keys = keyRange('restart', 10_000);
  assert.equal(await preload(s.history, s.io, keys, { concurrency: 300 }), 0, 'preload');
  const table = await s.cluster.table();
  const victim = s.cluster.node('node-1');
  const owned = new Set(table.primariesOf(victim.id));
  const victimKeys = keys.filter((k) => owned.has(partitionOfSlot(keySlot(k), table.partitionCount)));
  t.diagnostic(`node-1 is primary of ${owned.size} partitions, ${victimKeys.length} keys`);
  const before = (await s.cluster.members()).members.find((m) => m.id === victim.id)!;

  // Readers on node-1's keys, plus a light read/write load on everything.
  const readers = runWorkloads(s, { keys: victimKeys, workers: 3, writeFraction: 0, deleteFraction: 0, maxOpsPerSec: 300, seed: 5 });
  const load = runWorkloads(s, { keys: keys.slice(0, 2000), workers: 1, writeFraction: 0.4, deleteFraction: 0.05, maxOpsPerSec: 100, seed: 6 });
  try {
    await letRun(s.cluster, readers, 100);
    const started = performance.now();
    await s.cluster.restartNode('node-1');
    const took = performance.now() - started;
    t.diagnostic(`node-1 was back (listening) ${took.toFixed(0)} ms after kill -9`);
    assert.ok(took < DEAD_AFTER_MS, `the restart (${took.toFixed(0)} ms) beat the dead deadline (${DEAD_AFTER_MS} ms)`);
    // Reads right after the restart are the ones that would see an empty store.
    await letRun(s.cluster, readers, 600);
    const after = (await s.cluster.members()).members.find((m) => m.id === victim.id);
    t.diagnostic(`node-1 incarnation ${before.incarnation} → ${after?.incarnation}, state ${after?.state}`);
    await s.cluster.waitStable(60_000);
    await letRun(s.cluster, readers, 200);
  } finally {
    await readers.stop();
    await load.stop();
  }
  // Requests may fail while node-1 is down (a crash, not a planned change); no read may be wrong.
  await finish(t, s, keys, { noFailures: false });
});
