// Integration: a coordinator that lost its state, and the file store's compare-and-swap.
// - A coordinator restarted without a data dir under a running cluster adopts the table the nodes hold (they offer it
//   on EPOCH_AHEAD): no partition moves, no node flushes, no key is lost, and the epoch sequence continues.
// - Two coordinators of different clusters never mix (CLUSTER_MISMATCH).
// - FileStateStore: concurrent CAS from the same expected epoch: exactly one wins; load() leaves live writers' temp files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStateStore, startCoordinator, type CoordinatorState, type RunningCoordinator } from '../src/coordinator/index.js';
import { CoordinatorClient } from '../src/control/index.js';
import { startNode, type RunningNode } from '../src/node/index.js';
import { Ringleader } from '../src/client/index.js';

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const FAST = { planDebounceMs: 0, heartbeatMs: 100, suspectAfterMs: 1500, deadAfterMs: 3000, checkIntervalMs: 20, placement: { partitionCount: 32, replicas: 2 } };

test('a coordinator restarted without a data dir adopts the nodes\' table: nothing moves, nothing is flushed', async (t) => {
  let coord: RunningCoordinator = await startCoordinator({ port: 0, ...FAST });
  const port = coord.port;
  t.after(() => coord.close());
  const nodes: RunningNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  for (let i = 0; i < 3; i++) nodes.push(await startNode({ name: `rec-${i}`, coordinators: [coord.url], server: { port: 0 }, leaveTimeoutMs: 200 }));
  await waitFor(() => coord.coordinator.members().every((m) => m.state === 'active') && coord.coordinator.members().length === 3, 'three active members');
  // One node restarted once: its incarnation is 2, which the recovered coordinator must learn from its messages.
  const port2 = nodes[2]!.port;
  await nodes[2]!.close();
  nodes[2] = await startNode({ name: 'rec-2', coordinators: [coord.url], server: { port: port2 }, leaveTimeoutMs: 200 });
  await waitFor(() => coord.coordinator.members().every((m) => m.state === 'active') && coord.coordinator.members().find((m) => m.name === 'rec-2')?.incarnation === 2, 'rec-2 back as incarnation 2');
  await coord.coordinator.flush();
  const epoch = coord.coordinator.epoch;
  await waitFor(() => nodes.every((n) => n.view.epoch === epoch), 'nodes on the last epoch');
  const before = coord.coordinator.table.toJSON();
  const clusterId = coord.coordinator.clusterId;

  const client = await Ringleader.connect({ coordinators: [coord.url] });
  t.after(() => client.close());
  for (let i = 0; i < 200; i++) await client.set(`k${i}`, `v${i}`);
  const keysBefore = nodes.map((n) => n.server.store!.dbsize());

  // The coordinator dies and comes back empty on the same port (no data dir).
  await coord.close();
  coord = await startCoordinator({ port, ...FAST });
  assert.equal(coord.coordinator.epoch, 0);
  await waitFor(() => coord.coordinator.epoch >= epoch, 'the coordinator to adopt the nodes\' epoch');
  assert.equal(coord.coordinator.clusterId, clusterId, 'the cluster id is the nodes\'');
  // Let it run well past the adoption hold and the failure-detector deadlines: nobody is declared dead.
  await new Promise((r) => setTimeout(r, FAST.deadAfterMs + 500));
  await coord.coordinator.flush();
  const after = coord.coordinator.table.toJSON();
  assert.deepEqual(after.partitions, before.partitions, 'no partition moved');
  assert.deepEqual(after.members.map((m) => m.id), before.members.map((m) => m.id));
  assert.ok(coord.coordinator.members().every((m) => m.state === 'active'), JSON.stringify(coord.coordinator.members()));
  assert.equal(coord.coordinator.members().find((m) => m.name === 'rec-2')!.incarnation, 2, 'the incarnation is learnt, not reset');
  assert.ok(keysBefore.reduce((a, b) => a + b, 0) >= 200, 'the nodes hold every key');
  assert.deepEqual(nodes.map((n) => n.server.store!.dbsize()), keysBefore, 'no node flushed its data');
  for (let i = 0; i < 200; i++) assert.equal(await client.get(`k${i}`), `v${i}`);

  // The epoch sequence continues from the adopted one: a new member gets epoch > adopted, and nodes apply it.
  const adopted = coord.coordinator.epoch;
  nodes.push(await startNode({ name: 'rec-3', coordinators: [coord.url], server: { port: 0 }, leaveTimeoutMs: 200 }));
  await waitFor(() => nodes.every((n) => n.view.epoch > adopted && n.view.table!.members.length === 4), 'nodes to apply the next epoch');
});

test('two clusters never mix: a heartbeat or a table from another cluster gets CLUSTER_MISMATCH', async (t) => {
  const a = await startCoordinator({ port: 0, ...FAST, clusterId: 'cluster-a' });
  t.after(() => a.close());
  const api = new CoordinatorClient({ coordinators: [a.url], maxAttempts: 1 });
  const joined = await api.join({ name: 'x', address: '127.0.0.1:7001' });
  assert.equal(joined.clusterId, 'cluster-a');
  await assert.rejects(api.heartbeat(joined.id, 0, joined.incarnation, undefined, 'cluster-b'), (e: { code?: string }) => e.code === 'CLUSTER_MISMATCH');
  const table = { ...a.coordinator.table.toJSON(), epoch: 50 };
  await assert.rejects(api.recover({ clusterId: 'cluster-b', id: joined.id, incarnation: 1, table }), (e: { code?: string }) => e.code === 'CLUSTER_MISMATCH');
  assert.ok(a.coordinator.epoch < 50, 'nothing adopted');
  // same cluster, older table: not adopted; garbage: INVALID_REQUEST
  assert.deepEqual(await api.recover({ clusterId: 'cluster-a', id: joined.id, incarnation: 1, table: { ...table, epoch: 0 } }), { epoch: a.coordinator.epoch, adopted: false });
  await assert.rejects(api.recover({ clusterId: 'cluster-a', id: joined.id, incarnation: 1, table: { ...table, partitions: [] } } as never), (e: { code?: string }) => e.code === 'INVALID_REQUEST' || e.code === 'TABLE_INVALID');
  await assert.rejects(startCoordinator({ port: 0, clusterId: 'bad id!' }), /clusterId/);
});

function state(epoch: number): CoordinatorState {
  return { format: 2, epoch, table: null, target: null, members: [] };
}

test('FileStateStore: concurrent compare-and-swap from the same epoch: exactly one wins, every round', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-cas-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = new FileStateStore(dir);
  const b = new FileStateStore(dir);
  let expected: number | null = null;
  for (let round = 1; round <= 40; round++) {
    const results: PromiseSettledResult<void>[] = await Promise.allSettled([a.compareAndSet(expected, state(round)), b.compareAndSet(expected, state(round))]);
    const won: number = results.filter((r) => r.status === 'fulfilled').length;
    assert.equal(won, 1, `round ${round}: ${won} writers won`);
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code: string }).code, 'STATE_CONFLICT');
    expected = round;
    assert.equal((await a.load())!.epoch, round);
  }
  // a writer that expects an old epoch always loses, and the stored state stays
  await assert.rejects(b.compareAndSet(3, state(99)), (e: { code?: string }) => e.code === 'STATE_CONFLICT');
  assert.equal((await b.load())!.epoch, 40);
  assert.deepEqual(readdirSync(dir), ['members.json'], 'no claim or temp file stays behind');
});

test('FileStateStore: a claim left by a dead writer is taken over; load() keeps live writers\' temp files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-cas-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FileStateStore(dir);
  await store.compareAndSet(null, state(1));
  // a process that is alive (a sleeping child) and one that is gone
  const live = spawn('sleep', ['30']);
  t.after(() => live.kill('SIGKILL'));
  const dead = spawn('true');
  await new Promise((r) => dead.on('exit', r));
  writeFileSync(join(dir, `members.json.tmp-${live.pid}-0`), 'partial');
  writeFileSync(join(dir, `members.json.tmp-${dead.pid}-0`), 'partial');
  // the dead writer claimed epoch 1 -> 2 and died before renaming
  writeFileSync(join(dir, 'members.json.cas-1'), `${dead.pid} ${(await import('node:os')).hostname()} abc\n`);
  const fresh = new FileStateStore(dir);
  assert.equal((await fresh.load())!.epoch, 1);
  const files = readdirSync(dir);
  assert.ok(files.includes(`members.json.tmp-${live.pid}-0`), 'a live writer\'s temp file is kept');
  assert.ok(!files.includes(`members.json.tmp-${dead.pid}-0`), 'a dead writer\'s temp file is removed');
  await fresh.compareAndSet(1, state(2));
  assert.equal((await fresh.load())!.epoch, 2);
  // a claim held by a live process is respected
  writeFileSync(join(dir, 'members.json.cas-2'), `${live.pid} ${(await import('node:os')).hostname()} abc\n`);
  await assert.rejects(fresh.compareAndSet(2, state(3)), (e: { code?: string }) => e.code === 'STATE_CONFLICT');
  assert.equal((await fresh.load())!.epoch, 2);
});
