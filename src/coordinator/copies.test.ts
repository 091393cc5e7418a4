import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../testing/manual-clock.js';
import { converge, healthyReport, openCoordinator } from '../testing/coordinator-harness.js';
import { memberIdFor } from '../partitioning/member.js';
import type { CopyReport, JoinResponse, MemberState } from '../protocol/control.js';
import { Coordinator, type EpochRecord } from './coordinator.js';
import type { CoordinatorOptionsInput } from './options.js';
import { FileStateStore, InMemoryStateStore, type StateStore } from './state-store.js';

const P = 8;

async function open(options: CoordinatorOptionsInput = {}, store: StateStore = new InMemoryStateStore(), clock = new ManualClock()) {
  const o = await openCoordinator({ partitionCount: P, replicas: 2, options, store, clock });
  const published: EpochRecord[] = [];
  o.c.on('published', (r) => published.push(r));
  return { ...o, published };
}

const stateOf = (c: Coordinator, name: string): MemberState | undefined => c.members().find((m) => m.name === name)?.state;

test('a new cluster: every partition gets an empty primary at once; other copies are learners until they report synced', async () => {
  const { c, clock, published } = await open();
  const a = c.join({ name: 'a', address: '127.0.0.1:7001' });
  const b = c.join({ name: 'b', address: '127.0.0.1:7002' });
  clock.advance(50);
  await c.flush();
  assert.equal(c.epoch, 1);
  for (let p = 0; p < P; p++) {
    assert.equal(c.table.replicasOf(p).length, 1, 'learners do not serve');
    assert.equal(c.table.learnersOf(p).length, 1);
    assert.equal(c.table.termOf(p), 1);
  }
  // A report for an old term changes nothing; a synced report makes the learner a backup.
  const learnerOfA = [...Array(P).keys()].filter((p) => c.table.stateOf(p, a.id) === 'learner');
  assert.ok(learnerOfA.length > 0);
  c.reportCopies(a.id, { incarnation: a.incarnation, epoch: 1, copies: learnerOfA.map((p) => ({ partition: p, term: 0, offset: 0, status: 'synced' as const })) });
  clock.advance(50);
  await c.flush();
  assert.equal(c.epoch, 1, 'old-term reports are ignored');
  c.reportCopies(a.id, { incarnation: a.incarnation, epoch: 1, copies: learnerOfA.map((p) => ({ partition: p, term: 1, offset: 10, status: 'synced' as const })) });
  clock.advance(50);
  await c.flush();
  assert.equal(c.epoch, 2);
  for (const p of learnerOfA) assert.equal(c.table.stateOf(p, a.id), 'backup');
  // The same report again is reflected: no new epoch.
  c.reportCopies(a.id, { incarnation: a.incarnation, epoch: 2, copies: learnerOfA.map((p) => ({ partition: p, term: 1, offset: 10, status: 'synced' as const })) });
  clock.advance(50);
  await c.flush();
  assert.equal(c.epoch, 2);
  assert.equal(published.length, 2);
  void b;
  await c.close();
});

test('synced reports of a wave of learners arriving within the plan debounce are published in one epoch', async () => {
  // Why it matters: every epoch costs a state write and a table push to every node and client; a wave of learners
  // finishing together (one sync per follower connection, several primaries) must not cost an epoch each.
  const { c, clock } = await open({ planDebounceMs: 20 });
  const a = c.join({ name: 'a', address: '127.0.0.1:7001' });
  c.join({ name: 'b', address: '127.0.0.1:7002' });
  clock.advance(50);
  await c.flush();
  const epoch = c.epoch;
  const learners = [...Array(P).keys()].filter((p) => c.table.stateOf(p, a.id) === 'learner');
  assert.ok(learners.length >= 2);
  for (const p of learners) {
    // One report per learner, as separate requests a few ms apart (each re-arms the debounce).
    c.reportCopies(a.id, { incarnation: a.incarnation, epoch, copies: [{ partition: p, term: c.table.termOf(p), offset: 1, status: 'synced' }] });
    clock.advance(5);
  }
  clock.advance(50);
  await c.flush();
  assert.equal(c.epoch, epoch + 1, 'one epoch for the whole wave');
  for (const p of learners) assert.equal(c.table.stateOf(p, a.id), 'backup');
  await c.close();
});

test('copy reports are fenced like heartbeats and refuse garbage partitions', async () => {
  const { c, clock } = await open();
  const a = c.join({ name: 'a', address: '127.0.0.1:7001' });
  clock.advance(50);
  await c.flush();
  const body = (copies: CopyReport[], incarnation = a.incarnation, epoch = 1) => ({ incarnation, epoch, copies });
  assert.throws(() => c.reportCopies(a.id, body([], 2)), { code: 'STALE_INCARNATION' });
  assert.throws(() => c.reportCopies(a.id, body([], 1, 9)), { code: 'EPOCH_AHEAD' });
  assert.throws(() => c.reportCopies(a.id, body([{ partition: P, term: 1, offset: 0, status: 'synced' }])), { code: 'INVALID_REQUEST' });
  assert.throws(() => c.reportCopies(a.id, body([{ partition: 1, term: 1, offset: 0, status: 'synced' }, { partition: 1, term: 1, offset: 0, status: 'failed' }])), /listed twice/);
  assert.throws(() => c.reportCopies(memberIdFor('nobody'), body([])), { code: 'MEMBER_NOT_FOUND' });
  assert.deepEqual(c.reportCopies(a.id, body([{ partition: 1, term: 7, offset: 0, status: 'serving' }])), { epoch: 1 });
  clock.advance(10_000); // silent: dead
  assert.equal(stateOf(c, 'a'), 'dead');
  assert.throws(() => c.reportCopies(a.id, body([])), { code: 'MEMBER_DEAD' });
  await c.close();
});

test('a graceful leave waits until every copy of the member was handed over, then the member is left', async () => {
  const { c, clock } = await open({ leaveTimeoutMs: 60_000 });
  const nodes = ['a', 'b', 'c'].map((n, i) => c.join({ name: n, address: `127.0.0.1:${7001 + i}` }));
  await converge(c, clock, nodes, () => c.table.members.every((m) => c.table.partitionsOf(m.id).learner.length === 0) && c.epoch > 1);
  const leaver = nodes[2]!;
  const held = c.table.partitionsOf(leaver.id);
  assert.ok(held.primary.length > 0, 'c is primary of something');
  c.leave(leaver.id);
  // Nodes that do not report: c stays leaving and keeps every copy. (Its primaries may already be handed to their
  // in-sync backups, which the planner promotes in place; c then holds them handing-off until the successor reports
  // serving.)
  for (let i = 0; i < 20; i++) {
    clock.advance(100);
    for (const n of nodes) c.heartbeat(n.id, { appliedEpoch: c.epoch, incarnation: n.incarnation });
    await c.flush();
  }
  assert.equal(stateOf(c, 'c'), 'leaving');
  const still = c.table.partitionsOf(leaver.id);
  assert.equal(still.primary.length + still.handingOff.length, held.primary.length, 'c still holds each of its primaries, serving or handing off');
  await converge(c, clock, nodes, () => stateOf(c, 'c') === 'left');
  assert.equal(stateOf(c, 'c'), 'left');
  for (let p = 0; p < P; p++) {
    assert.equal(c.table.stateOf(p, leaver.id), null);
    assert.equal(c.table.replicasOf(p).length, 2, `partition ${p} keeps two serving copies`);
    assert.ok(c.table.termOf(p) >= 1);
  }
  await c.close();
});

test('a member that re-joins as a new incarnation loses its copies first (its primaries fail over), then gets learners', async () => {
  const { c, clock } = await open();
  const nodes = ['a', 'b'].map((n, i) => c.join({ name: n, address: `127.0.0.1:${7001 + i}` }));
  await converge(c, clock, nodes, () => c.table.members.every((m) => c.table.partitionsOf(m.id).learner.length === 0) && c.epoch > 1);
  const a = nodes[0]!;
  const primaries = c.table.partitionsOf(a.id).primary;
  const terms = primaries.map((p) => c.table.termOf(p));
  assert.ok(primaries.length > 0);
  const seen: EpochRecord[] = [];
  c.on('published', (r) => seen.push(r));
  const again = c.join({ name: 'a', address: '127.0.0.1:7001' });
  assert.equal(again.incarnation, a.incarnation + 1);
  clock.advance(50);
  await c.flush();
  const first = seen[0]!.table;
  for (let p = 0; p < P; p++) assert.equal(first.stateOf(p, a.id), null, `partition ${p}: the old incarnation's copy is gone in the first epoch`);
  primaries.forEach((p, i) => {
    assert.equal(first.primaryOf(p), nodes[1]!.id);
    assert.ok(first.termOf(p) > terms[i]!);
  });
  const last = seen.at(-1)!.table;
  assert.ok(seen.length >= 2);
  for (let p = 0; p < P; p++) assert.equal(last.stateOf(p, a.id), 'learner');
  // A report from the old incarnation is refused.
  assert.throws(() => c.reportCopies(a.id, { incarnation: a.incarnation, epoch: c.epoch, copies: [] }), { code: 'STALE_INCARNATION' });
  await c.close();
});

test('a state file written in format 1 (before copy states) loads: current = its table read as format 1, target = the same sets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-v1-'));
  try {
    const a = memberIdFor('a');
    const b = memberIdFor('b');
    const members = [
      { id: a, name: 'a', address: '127.0.0.1:7001', zone: null, capacity: 1, state: 'active' },
      { id: b, name: 'b', address: '127.0.0.1:7002', zone: null, capacity: 1, state: 'active' },
    ].sort((x, y) => (x.id < y.id ? -1 : 1));
    const partitions = Array.from({ length: P }, (_, p) => (p % 2 === 0 ? [a, b] : [b, a]));
    const persisted = members.map((m) => ({ ...m, incarnation: 1, appliedEpoch: 4, includedEpoch: 1, handoverEpoch: null }));
    writeFileSync(join(dir, 'members.json'), JSON.stringify({ format: 1, epoch: 4, table: { epoch: 4, partitionCount: P, replicas: 2, members, partitions }, members: persisted }) + '\n');
    const store = new FileStateStore(dir);
    const { c, clock } = await open({}, store);
    assert.equal(c.epoch, 4);
    for (let p = 0; p < P; p++) {
      assert.deepEqual(c.table.replicasOf(p), partitions[p]);
      assert.deepEqual(c.table.copiesOf(p).map((x) => x.state), ['primary', 'backup']);
      assert.equal(c.table.termOf(p), 1);
      assert.deepEqual(c.targetTable.replicasOf(p), partitions[p]);
    }
    // Members keep heartbeating: the next plan changes nothing about the copies, and the file is written in format 2.
    for (const m of members) c.heartbeat(m.id, { appliedEpoch: 4, incarnation: 1 });
    c.join({ name: 'c', address: '127.0.0.1:7003' });
    clock.advance(50);
    await c.flush();
    const stored = (await store.load())!;
    assert.equal(stored.format, 2);
    assert.equal(stored.table?.format, 2);
    assert.ok(stored.target !== null);
    await c.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a coordinator restart mid-migration resumes the same copy states and terms (nothing is promoted by the restart)', async () => {
  const store = new InMemoryStateStore();
  const { c, clock } = await open({}, store);
  const nodes = ['a', 'b'].map((n, i) => c.join({ name: n, address: `127.0.0.1:${7001 + i}` }));
  await converge(c, clock, nodes, () => c.epoch >= 2, { rounds: 3 });
  const third = c.join({ name: 'c', address: '127.0.0.1:7003' });
  clock.advance(50);
  await c.flush();
  assert.ok(c.table.partitionsOf(third.id).learner.length > 0);
  const before = JSON.stringify(c.table.toJSON());
  const target = JSON.stringify(c.targetTable.toJSON());
  await c.close();
  const { c: c2, clock: clock2 } = await open({}, store);
  assert.equal(JSON.stringify(c2.table.toJSON()), before);
  assert.equal(JSON.stringify(c2.targetTable.toJSON()), target);
  for (const n of [...nodes, third]) c2.heartbeat(n.id, { appliedEpoch: c2.epoch, incarnation: n.incarnation });
  clock2.advance(50);
  await c2.flush();
  for (let p = 0; p < P; p++) assert.equal(c2.table.stateOf(p, third.id) === 'learner' || c2.table.stateOf(p, third.id) === null, true);
  await c2.close();
});

test('metrics count learners, handing-off copies and partitions without a primary', async () => {
  const { c, clock } = await open();
  c.join({ name: 'a', address: '127.0.0.1:7001' });
  c.join({ name: 'b', address: '127.0.0.1:7002' });
  clock.advance(50);
  await c.flush();
  const text = await c.metrics.registry.metrics();
  assert.match(text, new RegExp(`ringleader_coordinator_learners ${P}\\n`));
  assert.match(text, /ringleader_coordinator_handing_off_copies 0\n/);
  assert.match(text, /ringleader_coordinator_partitions_without_primary 0\n/);
  assert.match(text, /ringleader_coordinator_copy_changes_total\{change="created"\} 8/);
  await c.close();
});

test('sync mode: the primary asks a backup out of sync; the next table demotes it to learner (same term); stale or foreign requests change nothing', async () => {
  const { c, clock } = await open({ replication: 'sync', minInSync: 1 });
  const a = c.join({ name: 'a', address: '127.0.0.1:7001' });
  const b = c.join({ name: 'b', address: '127.0.0.1:7002' });
  await converge(c, clock, [a, b], () => [...Array(P).keys()].every((p) => c.table.replicasOf(p).length === 2));
  assert.equal(c.table.replication, 'sync');
  assert.equal(c.table.toJSON().replication, 'sync', 'the mode is shown in the table');
  const p = [...Array(P).keys()].find((q) => c.table.primaryOf(q) === a.id)!;
  const term = c.table.termOf(p);
  const epoch = c.epoch;
  // From the backup itself (not the primary), and from the primary at an older term: ignored.
  c.reportCopies(b.id, { incarnation: b.incarnation, epoch, copies: [], outOfSync: [{ partition: p, term, members: [b.id] }] });
  c.reportCopies(a.id, { incarnation: a.incarnation, epoch, copies: [], outOfSync: [{ partition: p, term: term + 5, members: [b.id] }] });
  clock.advance(50);
  await c.flush();
  assert.equal(c.epoch, epoch);
  // From the primary at the current term: b becomes a learner, the term stays. Write replies wait on it, so it is
  // planned at once (no debounce: no time passes on the manual clock).
  c.reportCopies(a.id, { incarnation: a.incarnation, epoch, copies: [], outOfSync: [{ partition: p, term, members: [b.id] }] });
  clock.advance(0);
  for (let i = 0; i < 200 && c.epoch !== epoch + 1; i++) await new Promise((r) => setImmediate(r));
  assert.equal(c.epoch, epoch + 1, 'planned without waiting for the debounce');
  assert.equal(c.table.stateOf(p, b.id), 'learner');
  assert.equal(c.table.termOf(p), term);
  // A partition that does not exist is a clear error.
  assert.throws(() => c.reportCopies(a.id, { incarnation: a.incarnation, epoch: c.epoch, copies: [], outOfSync: [{ partition: P + 1, term, members: [b.id] }] }), /outOfSync: partition/);
  // b resumes and reports synced: back in the in-sync set.
  c.reportCopies(b.id, { incarnation: b.incarnation, epoch: c.epoch, copies: [{ partition: p, term, offset: 0, status: 'synced' }] });
  clock.advance(50);
  await c.flush();
  assert.equal(c.table.stateOf(p, b.id), 'backup');
});

test('both copies of a partition die: it stays unavailable (no primary, same term) until the operator re-creates it empty', async () => {
  const { c, clock } = await open();
  const nodes = ['a', 'b', 'c'].map((n, i) => c.join({ name: n, address: `127.0.0.1:${7001 + i}` }));
  await converge(c, clock, nodes, () => c.epoch > 1 && [...Array(P).keys()].every((p) => c.table.replicasOf(p).length === 2));
  const [a, b, survivor] = nodes as [JoinResponse, JoinResponse, JoinResponse];
  const onBoth = [...Array(P).keys()].filter((p) => c.table.copiesOf(p).every((x) => x.member === a.id || x.member === b.id));
  assert.ok(onBoth.length > 0, 'some partition lives only on a and b');
  const terms = onBoth.map((p) => c.table.termOf(p));
  // a and b go silent; only c heartbeats.
  for (let i = 0; i < 40; i++) {
    c.heartbeat(survivor.id, { appliedEpoch: c.epoch, incarnation: survivor.incarnation });
    c.reportCopies(survivor.id, { incarnation: survivor.incarnation, epoch: c.epoch, copies: healthyReport(c, survivor.id) });
    clock.advance(100);
    await c.flush();
  }
  assert.equal(stateOf(c, 'a'), 'dead');
  assert.deepEqual(c.lostPartitions(), onBoth);
  for (const [i, p] of onBoth.entries()) {
    assert.deepEqual(c.table.copiesOf(p), [], `partition ${p} is not silently re-created`);
    assert.equal(c.table.termOf(p), terms[i], 'its term is kept');
  }
  assert.deepEqual(c.recreateLost().partitions, onBoth);
  clock.advance(50);
  await c.flush();
  for (const p of onBoth) assert.equal(c.table.primaryOf(p), survivor.id, `partition ${p} re-created empty on the survivor`);
  assert.deepEqual(c.lostPartitions(), []);
  assert.deepEqual(c.recreateLost().partitions, [], 'nothing left to re-create');
  await c.close();
});
