// The test harness itself: LocalCluster's faults do what they say, and close() leaves no process behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LocalCluster, resolveLocalClusterOptions } from '../src/testing/local-cluster.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** The state letter of /proc/<pid>/stat (R, S, T = stopped...). */
const procState = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0]!;

test('resolveLocalClusterOptions refuses bad options, naming them', () => {
  assert.throws(() => resolveLocalClusterOptions({ nodes: -1 }), /nodes/);
  assert.throws(() => resolveLocalClusterOptions({ replicas: 9 }), /replicas/);
  assert.throws(() => resolveLocalClusterOptions({ partitions: 0 }), /partitions/);
  assert.throws(() => resolveLocalClusterOptions({ heartbeatMs: 1 }), /heartbeatMs/);
  assert.equal(resolveLocalClusterOptions({}).nodes, 3);
});

test('LocalCluster: pause/resume, restart under the same name and port, coordinator restart, kill -9; close() leaves no process', { timeout: 120_000 }, async (t) => {
  // `ready`, not `settled`: this tests the harness, not whether copies get built.
  const c = await LocalCluster.start({ nodes: 2, partitions: 16, replicas: 2, suspectAfterMs: 3000, deadAfterMs: 6000, startWait: 'ready' });
  const ready = { settled: false };
  t.after(() => c.close());
  const pids: number[] = [c.coordinator.pid, ...c.nodes.map((n) => n.proc.pid)];
  const first = await c.table();
  assert.equal(first.json.members.length, 2);
  assert.ok(first.hasPrimaries());

  const n1 = c.node('node-1');
  c.pause('node-1');
  await c.waitFor('node-1 stopped', () => procState(n1.proc.pid) === 'T', 5000);
  c.resume('node-1');
  await c.waitFor('node-1 running again', () => procState(n1.proc.pid) !== 'T', 5000);

  const inc = (await c.members()).members.find((m) => m.name === 'node-1')!.incarnation;
  const restarted = await c.restartNode('node-1');
  pids.push(restarted.proc.pid);
  assert.equal(restarted.port, n1.port, 'same port');
  assert.equal(restarted.id, n1.id, 'same id (same name)');
  assert.notEqual(restarted.proc.pid, n1.proc.pid);
  assert.equal(alive(n1.proc.pid), false, 'the old process is gone');
  await c.waitFor('a new incarnation of node-1', async () => ((await c.members()).members.find((m) => m.name === 'node-1')?.incarnation ?? 0) > inc);
  await c.waitStable(60_000, ready);

  const before = await c.table();
  await c.restartCoordinator();
  pids.push(c.coordinator.pid);
  assert.equal((await c.table()).epoch, before.epoch, 'the coordinator resumed its epoch from the data dir');

  await c.kill9('node-2');
  const after = await c.waitStable(60_000, ready);
  assert.deepEqual(after.json.members.map((m) => m.name), ['node-1']);
  assert.equal(await c.nodeKeyCount('node-1'), 0);

  await c.close();
  await c.waitFor('every process gone', () => pids.every((p) => !alive(p)), 5000);
});
