// Integration: a real coordinator on port 0, simulated members over real HTTP through src/control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoordinator, type StartCoordinatorOptions } from '../src/coordinator/index.js';
import { CoordinatorClient } from '../src/control/index.js';
import { memberIdFor } from '../src/partitioning/index.js';
import { isRingleaderError } from '../src/shared/errors.js';

async function setup(t: { after: (fn: () => Promise<void> | void) => void }, options: StartCoordinatorOptions = {}) {
  const running = await startCoordinator({ port: 0, heartbeatMs: 100, suspectAfterMs: 60_000, deadAfterMs: 120_000, planDebounceMs: 20, placement: { partitionCount: 16, replicas: 2 }, ...options });
  t.after(() => running.close());
  const client = new CoordinatorClient({ coordinators: [running.url], maxAttempts: 1 });
  return { running, client, url: running.url };
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err) => isRingleaderError(err) && err.code === code, `expected ${code}`);
}

test('join, heartbeat and leave produce the expected epochs and tables', async (t) => {
  const { running, client } = await setup(t);
  const a = await client.join({ name: 'a', address: '127.0.0.1:7001' });
  assert.equal(a.id, memberIdFor('a'));
  assert.equal(a.incarnation, 1);
  assert.equal(a.epoch, 0);
  await running.coordinator.flush();
  let table = await client.getTable();
  assert.equal(table.epoch, 1);
  assert.deepEqual(table.members.map((m) => [m.name, m.state]), [['a', 'joining']]);
  for (let p = 0; p < 16; p++) assert.equal(table.primaryOf(p), a.id);

  const hb = await client.heartbeat(a.id, 1, a.incarnation);
  assert.equal(hb.state, 'active');
  await running.coordinator.flush();
  table = await client.getTable();
  assert.equal(table.epoch, 2);
  assert.equal(table.member(a.id)?.state, 'active');

  const b = await client.join({ name: 'b', address: '127.0.0.1:7002', zone: 'z2', capacity: 2 });
  await running.coordinator.flush();
  table = await client.getTable();
  assert.equal(table.epoch, 3);
  // b starts as a learner of every partition: a keeps serving them all until b reports its copies synced.
  for (let p = 0; p < 16; p++) {
    assert.deepEqual(table.replicasOf(p), [a.id]);
    assert.deepEqual(table.learnersOf(p), [b.id]);
  }
  const raw = (await (await fetch(`${running.url}/v1/table`)).json()) as { format: number; states: string[][]; terms: number[] };
  assert.equal(raw.format, 2);
  assert.deepEqual(raw.states[0], ['primary', 'learner']);
  assert.deepEqual(raw.terms, Array.from({ length: 16 }, () => 1));
  const all = (t: typeof table, status: 'synced' | 'serving', holder: string) =>
    [...Array(16).keys()].filter((p) => t.stateOf(p, holder) === (status === 'synced' ? 'learner' : 'primary')).map((p) => ({ partition: p, term: t.termOf(p), offset: 0, status }));
  assert.deepEqual(await client.reportCopies(b.id, { incarnation: b.incarnation, epoch: 3, copies: all(table, 'synced', b.id) }), { epoch: 3 });
  await running.coordinator.flush(); // b's copies become backups, then b takes over the primaries the target gives it
  table = await client.getTable();
  assert.equal(table.epoch, 5);
  for (let p = 0; p < 16; p++) assert.deepEqual([...table.replicasOf(p)].sort(), [a.id, b.id].sort());
  assert.ok(table.partitionsOf(b.id).primary.length > 0);

  const left = await client.leave(b.id);
  assert.equal(left.state, 'leaving');
  await running.coordinator.flush();
  table = await client.getTable();
  assert.equal(table.epoch, 6);
  assert.equal(table.member(b.id)?.state, 'leaving');
  // b's backups are dropped at once (a serves everything); its primaries are handed over to a, b is handing-off.
  const held = table.partitionsOf(b.id);
  assert.deepEqual([held.primary, held.backup, held.learner], [[], [], []]);
  assert.ok(held.handingOff.length > 0);
  assert.equal(table.member(b.id)?.state, 'leaving');
  // a serves the partitions handed over: b holds nothing and is `left` once every other live member applied that epoch.
  await client.reportCopies(a.id, { incarnation: a.incarnation, epoch: 6, copies: all(table, 'serving', a.id) });
  await running.coordinator.flush();
  table = await client.getTable();
  assert.equal(table.epoch, 7);
  assert.deepEqual(table.partitionsOf(b.id), { primary: [], backup: [], learner: [], handingOff: [] });
  await client.heartbeat(a.id, 7);
  await waitFor(async () => (await client.members()).members.find((m) => m.name === 'b')?.state === 'left');
  await running.coordinator.flush();
  table = await client.getTable();
  assert.equal(table.member(b.id), undefined);
  const members = await client.members();
  assert.deepEqual(members.members.map((m) => [m.name, m.state, m.appliedEpoch]), [['a', 'active', 7], ['b', 'left', 0]]);
  // /healthz counts the members of the cluster, not those that left (still listed until forgotten).
  assert.equal((await client.health()).members, 1);
});

test('locate names the primary and backups of a key, with the epoch', async (t) => {
  const { running, client } = await setup(t);
  await client.join({ name: 'a', address: '127.0.0.1:7001' });
  await client.join({ name: 'b', address: '127.0.0.1:7002' });
  await running.coordinator.flush();
  const table = await client.getTable();
  const loc = await client.locate('{user1000}.following');
  assert.equal(loc.slot, 3443);
  assert.equal(loc.partition, table.partitionOfSlot(3443));
  assert.equal(loc.primary?.id, table.primaryOf(loc.partition));
  assert.deepEqual(loc.backups.map((b) => b.id), table.replicasOf(loc.partition).slice(1));
  assert.equal(loc.epoch, table.epoch);
  const odd = await client.locate('a/b c%');
  assert.equal(odd.key, 'a/b c%');
});

test('assignment lists hosted partitions with the member to fetch from, and evictions', async (t) => {
  const { running, client } = await setup(t);
  const a = await client.join({ name: 'a', address: '127.0.0.1:7001' });
  await running.coordinator.flush();
  const first = await client.assignment(a.id, 0);
  assert.equal(first.primary.length, 16);
  assert.ok(first.primary.every((p) => p.fetchFrom === null));
  const b = await client.join({ name: 'b', address: '127.0.0.1:7002' });
  await running.coordinator.flush();
  const table = await client.getTable();
  const asB = await client.assignment(b.id, 1);
  assert.equal(asB.fromEpoch, 1);
  assert.equal(asB.epoch, table.epoch);
  const held = table.partitionsOf(b.id);
  assert.deepEqual(asB.primary.map((p) => p.partition), held.primary);
  assert.deepEqual(asB.backup.map((p) => p.partition), held.backup);
  for (const p of [...asB.primary, ...asB.backup]) assert.equal(p.fetchFrom, a.id, `partition ${p.partition} comes from a`);
  await rejects(client.assignment(b.id, 99), 'EPOCH_AHEAD');
});

test('healthz and metrics answer', async (t) => {
  const { running, client, url } = await setup(t);
  await client.join({ name: 'a', address: '127.0.0.1:7001' });
  await running.coordinator.flush();
  const h = await client.health();
  assert.deepEqual(h, { status: 'ok', epoch: 1, members: 1, protocolVersion: 1, clusterId: running.coordinator.clusterId, role: 'leader', leader: null, store: 'memory' });
  assert.match(running.coordinator.clusterId, /^[0-9a-f]{16}$/);
  const text = await (await fetch(`${url}/metrics`)).text();
  assert.match(text, /ringleader_coordinator_epoch 1/);
  assert.match(text, /ringleader_coordinator_members\{state="joining"\} 1/);
  assert.match(text, /ringleader_coordinator_table_changes_total 1/);
  assert.match(text, /ringleader_coordinator_member_transitions_total\{from="none",to="joining"\} 1/);
});

async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('ten concurrent joins over HTTP are coalesced into one or two epochs', async (t) => {
  const { running, client } = await setup(t, { planDebounceMs: 20 });
  const published: number[] = [];
  running.coordinator.on('published', (r) => published.push(r.epoch));
  await Promise.all(Array.from({ length: 10 }, (_, i) => client.join({ name: `c${i}`, address: `127.0.0.1:${7600 + i}` })));
  await running.coordinator.flush();
  const table = await client.getTable();
  assert.equal(table.members.length, 10);
  assert.ok(published.length >= 1 && published.length <= 2, `${published.length} epochs for 10 concurrent joins`);
});
