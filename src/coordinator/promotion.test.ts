// The coordinator's side of issue 9's promotion: before a failover it fences the candidates (one pipelined batch per
// node), promotes the freshest answer, holds promotions for one node lease after taking over, and abandons a
// hand-over whose new primary never serves. Fake clock, scripted fencer; RL.FENCE itself is tested over real sockets
// in test/replication-fence.test.ts, all of it with real processes in test/dataplane-promotion.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { ManualClock } from '../testing/manual-clock.js';
import { converge, memberState, openCoordinator } from '../testing/coordinator-harness.js';
import { silentLogger } from '../shared/logger.js';
import type { JoinResponse } from '../protocol/control.js';
import type { FenceAnswer } from '../partitioning/index.js';
import { Coordinator, type EpochRecord } from './coordinator.js';
import type { PartitionTable } from '../partitioning/index.js';
import { derivedLeaseMs, type CoordinatorOptionsInput } from './options.js';
import { InMemoryStateStore, type StateStore } from './state-store.js';
import { RespFencer, type Fencer, type FenceRequest } from './fencer.js';
import type { ProbeResult, Prober } from './prober.js';

const P = 8;

/** A fencer that answers from a function of (address, partition) and records each call with the epoch it saw. */
class ScriptedFencer implements Fencer {
  readonly calls: Array<{ address: string; requests: FenceRequest[]; epoch: number }> = [];
  epochNow: () => number = () => 0;
  constructor(private readonly answer: (address: string, p: number) => FenceAnswer | null) {}
  async fence(address: string, requests: readonly FenceRequest[]): Promise<Array<FenceAnswer | null>> {
    this.calls.push({ address, requests: [...requests], epoch: this.epochNow() });
    return requests.map((r) => this.answer(address, r.partition));
  }
  retain(): void {}
  close(): void {}
}

const refusing: Prober = { probe: async (): Promise<ProbeResult> => 'refused' };

async function open(fencer: Fencer | undefined, options: CoordinatorOptionsInput = {}, store: StateStore = new InMemoryStateStore(), clock = new ManualClock()) {
  const o = await openCoordinator({ partitionCount: P, replicas: 3, options, store, clock, deps: { prober: refusing, ...(fencer ? { fencer } : {}) } });
  if (fencer instanceof ScriptedFencer) fencer.epochNow = () => o.c.epoch;
  return o;
}

/** The first table published from now on that satisfies `cond` (later steps may hand the partition on). */
function firstPublished(c: Coordinator, cond: (t: PartitionTable) => boolean): () => PartitionTable {
  let found: PartitionTable | null = null;
  c.on('published', (r: EpochRecord) => {
    if (found === null && cond(r.table)) found = r.table;
  });
  return () => {
    assert.ok(found !== null, 'a matching table was published');
    return found;
  };
}

const stateOf = memberState;

/** Three nodes a, b, c at 127.0.0.1:7001..7003, every partition with a primary and two backups. */
async function cluster(fencer: Fencer | undefined, options: CoordinatorOptionsInput = {}, store?: StateStore) {
  const o = await open(fencer, options, store);
  const nodes = ['a', 'b', 'c'].map((n, i) => o.c.join({ name: n, address: `127.0.0.1:${7001 + i}` }));
  const settled = () => o.c.epoch > 1 && o.c.table.members.every((m) => o.c.table.partitionsOf(m.id).learner.length === 0);
  await converge(o.c, o.clock, nodes, settled);
  assert.ok(settled(), 'the cluster settled');
  return { ...o, nodes };
}

const ADDRESS = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'];

test('kill of a primary: every candidate is fenced in one batch per node at the next term before the failover is published, and the freshest is promoted', async () => {
  // Node c's copies are always fresher than b's; a is the victim.
  const fencer = new ScriptedFencer((address, p) => ({ term: 1, offset: address === ADDRESS[2] ? 50 + p : 10, complete: true }));
  const { c, clock, nodes } = await cluster(fencer);
  const [a, b, cc] = nodes as [JoinResponse, JoinResponse, JoinResponse];
  const victims = c.table.partitionsOf(a.id).primary;
  assert.ok(victims.length > 0);
  const terms = new Map(victims.map((p) => [p, c.table.termOf(p)]));
  const epochBefore = c.epoch;
  const failover = firstPublished(c, (t) => t.primaryOf(victims[0]!) !== a.id);
  await c.watchClosed(a.id); // the fast path: the port refuses
  assert.equal(stateOf(c, a.id), 'dead');
  clock.advance(50);
  await c.flush();
  assert.equal(fencer.calls.length, 2, 'one call per surviving node');
  for (const call of fencer.calls) {
    assert.equal(call.epoch, epochBefore, 'fenced before the failover was published');
    assert.deepEqual(call.requests.map((r) => r.partition).sort(), [...victims].sort(), `${call.address}: every affected partition in one batch`);
    for (const r of call.requests) assert.equal(r.term, terms.get(r.partition)! + 1);
  }
  assert.ok(!fencer.calls.some((x) => x.address === ADDRESS[0]), 'the dead node is not asked');
  const t = failover();
  for (const p of victims) {
    assert.equal(t.primaryOf(p), cc.id, `partition ${p}: the fresher copy (c) is promoted`);
    assert.equal(t.termOf(p), terms.get(p)! + 1);
    assert.equal(t.stateOf(p, b.id), 'backup');
  }
  assert.match(await c.metrics.registry.metrics(), new RegExp(`ringleader_coordinator_fences_total\\{result="answered"\\} ${victims.length * 2}`));
  await c.close();
});

test('no answer from any candidate: the failover still happens, in target order (availability over waiting)', async () => {
  const fencer = new ScriptedFencer(() => null);
  const { c, clock, nodes } = await cluster(fencer);
  const a = nodes[0]!;
  const victims = c.table.partitionsOf(a.id).primary;
  const before = c.table;
  const failover = firstPublished(c, (t) => t.primaryOf(victims[0]!) !== a.id);
  await c.watchClosed(a.id);
  clock.advance(50);
  await c.flush();
  // The first backup in the order of the target planned without a (it does not change after that).
  for (const p of victims) assert.equal(failover().primaryOf(p), c.targetTable.replicasOf(p).find((id) => before.stateOf(p, id) === 'backup'), `partition ${p}`);
  assert.match(await c.metrics.registry.metrics(), /ringleader_coordinator_fences_total\{result="silent"\} [1-9]/);
  await c.close();
});

test('an incomplete copy is passed over for a complete one even when it claims a higher offset; fenceTimeoutMs 0 turns fencing off', async () => {
  const fencer = new ScriptedFencer((address) => (address === ADDRESS[1] ? { term: 1, offset: 99, complete: false } : { term: 1, offset: 5, complete: true }));
  const { c, clock, nodes } = await cluster(fencer);
  const victims = c.table.partitionsOf(nodes[0]!.id).primary;
  const failover = firstPublished(c, (t) => t.primaryOf(victims[0]!) !== nodes[0]!.id);
  await c.watchClosed(nodes[0]!.id);
  clock.advance(50);
  await c.flush();
  for (const p of victims) assert.equal(failover().primaryOf(p), nodes[2]!.id);

  const off = new ScriptedFencer(() => ({ term: 1, offset: 1, complete: true }));
  const { c: c2, clock: clock2, nodes: n2 } = await cluster(off, { fenceTimeoutMs: 0 });
  await c2.watchClosed(n2[0]!.id);
  clock2.advance(50);
  await c2.flush();
  assert.equal(off.calls.length, 0);
  await c.close();
  await c2.close();
});

test('a coordinator that resumes a stored state waits one lease before promoting for a death it did not see by the fast path', async () => {
  const store = new InMemoryStateStore();
  const { c, nodes } = await cluster(new ScriptedFencer(() => null), {}, store);
  const a = nodes[0]!;
  const victims = c.table.partitionsOf(a.id).primary;
  await c.close();
  // The stored state says a is dead while the table still lists its copies (a death recorded, its failover not yet
  // published: e.g. written by the previous leader as it went away). Its process may still serve on its lease.
  const state = (await store.load())!;
  await store.compareAndSet(state.epoch, { ...state, members: state.members.map((m) => (m.id === a.id ? { ...m, state: 'dead' as const } : m)) });
  const leaseMs = derivedLeaseMs(500, 1500);
  const { c: c2, clock } = await open(new ScriptedFencer(() => null), {}, store);
  c2.join({ name: 'd', address: '127.0.0.1:7004' }); // something to plan
  for (const n of nodes.slice(1)) c2.heartbeat(n.id, { appliedEpoch: c2.epoch, incarnation: n.incarnation });
  clock.advance(100);
  await new Promise((r) => setImmediate(r));
  for (let t = 100; t < leaseMs - 100; t += 100) {
    for (const n of nodes.slice(1)) c2.heartbeat(n.id, { appliedEpoch: c2.epoch, incarnation: n.incarnation });
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
    for (const p of victims) assert.equal(c2.table.primaryOf(p), a.id, `partition ${p} not promoted ${t} ms after the start`);
  }
  for (const n of nodes.slice(1)) c2.heartbeat(n.id, { appliedEpoch: c2.epoch, incarnation: n.incarnation });
  clock.advance(300);
  await c2.flush();
  for (const p of victims) assert.notEqual(c2.table.primaryOf(p), a.id, `partition ${p} failed over after the lease`);
  await c2.close();
});

test('a new leader promotes at once for a node the fast path saw die (its process is gone: no lease to wait for)', async () => {
  const store = new InMemoryStateStore();
  const { c, nodes, clock } = await cluster(new ScriptedFencer(() => null), {}, store);
  await c.follow();
  c.lead((await store.load())!);
  const a = nodes[0]!;
  const victims = c.table.partitionsOf(a.id).primary;
  await c.watchClosed(a.id);
  assert.equal(stateOf(c, a.id), 'dead');
  clock.advance(50);
  await c.flush();
  for (const p of victims) assert.notEqual(c.table.primaryOf(p), a.id, `partition ${p} failed over within the lease`);
  await c.close();
});

test('a hand-over whose new primary never reports serving is abandoned after handoverTimeoutMs: failover to the freshest fenced copy, the stuck primary fenced too', async () => {
  const fencer = new ScriptedFencer((address, p) => ({ term: 2, offset: address === ADDRESS[2] ? 7 + p : 3, complete: true }));
  const { c, clock, nodes } = await cluster(fencer, { leaveTimeoutMs: 600_000, handoverTimeoutMs: 5000 });
  const [a, b, cc] = nodes as [JoinResponse, JoinResponse, JoinResponse];
  // b leaves: its primaries go to a or c (hand-over), b stays handing-off. Nobody reports serving.
  const held = c.table.partitionsOf(b.id).primary;
  assert.ok(held.length > 0);
  c.leave(b.id);
  await converge(c, clock, nodes, () => held.every((p) => c.table.stateOf(p, b.id) === 'handing-off'), { serving: false });
  const stuck = new Map(held.map((p) => [p, { primary: c.table.primaryOf(p)!, term: c.table.termOf(p) }]));
  const epoch = c.epoch;
  const failover = firstPublished(c, (t) => t.epoch > epoch);
  // Heartbeats keep everyone alive; no serving report comes. Before the timeout nothing happens.
  for (let t = 0; t < 4500; t += 500) {
    for (const n of nodes) c.heartbeat(n.id, { appliedEpoch: c.epoch, incarnation: n.incarnation });
    clock.advance(500);
    await c.flush();
  }
  assert.equal(c.epoch, epoch, 'no change before handoverTimeoutMs');
  for (let t = 0; t < 2000; t += 500) {
    for (const n of nodes) c.heartbeat(n.id, { appliedEpoch: c.epoch, incarnation: n.incarnation });
    clock.advance(500);
    await c.flush();
  }
  const t = failover();
  for (const p of held) {
    const { primary, term } = stuck.get(p)!;
    assert.equal(t.stateOf(p, primary), null, `partition ${p}: the stuck primary's copy is gone`);
    assert.equal(t.termOf(p), term + 1);
    // c answers fresher than anyone; when c is the stuck primary, a and b answer the same: target order decides.
    const promoted = t.primaryOf(p);
    if (primary !== cc.id) assert.equal(promoted, cc.id, `partition ${p}: the freshest remaining copy serves`);
    else assert.ok(promoted === a.id || promoted === b.id, `partition ${p}: a remaining copy serves`);
    const askedPrimary = fencer.calls.some((x) => x.address === ADDRESS[[a.id, b.id, cc.id].indexOf(primary)] && x.requests.some((r) => r.partition === p && r.term === term + 1));
    assert.ok(askedPrimary, `partition ${p}: the stuck primary was fenced`);
  }
  assert.match(await c.metrics.registry.metrics(), new RegExp(`ringleader_coordinator_handover_timeouts_total ${held.length}`));
  await c.close();
});

test('a serving report before the timeout finishes the hand-over normally (no failover)', async () => {
  const { c, clock, nodes } = await cluster(new ScriptedFencer(() => null), { leaveTimeoutMs: 600_000, handoverTimeoutMs: 5000 });
  const b = nodes[1]!;
  const held = c.table.partitionsOf(b.id).primary;
  c.leave(b.id);
  await converge(c, clock, nodes, () => held.every((p) => c.table.stateOf(p, b.id) === 'handing-off'), { serving: false });
  const terms = held.map((p) => c.table.termOf(p));
  await converge(c, clock, nodes, () => held.every((p) => c.table.stateOf(p, b.id) === null));
  for (let t = 0; t < 6000; t += 500) {
    for (const n of nodes) if (n !== b) c.heartbeat(n.id, { appliedEpoch: c.epoch, incarnation: n.incarnation });
    clock.advance(500);
    await c.flush();
  }
  held.forEach((p, i) => assert.equal(c.table.termOf(p), terms[i], `partition ${p}: no failover after a finished hand-over`));
  assert.match(await c.metrics.registry.metrics(), /ringleader_coordinator_handover_timeouts_total 0/);
  await c.close();
});

test('RespFencer: one pipelined write per node, AUTH first when there is a password, null for errors and silence', async (t) => {
  const received: string[] = [];
  let mode: 'answer' | 'silent' = 'answer';
  const server = createServer((sock: Socket) => {
    sock.on('data', (chunk) => {
      received.push(chunk.toString('latin1'));
      if (mode === 'silent') return;
      const cmds = chunk.toString('latin1').split('*').filter(Boolean);
      let out = '';
      for (const cmd of cmds) {
        const parts = cmd.split('\r\n').filter((x, i) => i > 0 && !x.startsWith('$') && x !== '');
        if (parts[0] === 'AUTH') out += parts[1] === 'pw' ? '+OK\r\n' : '-WRONGPASS bad\r\n';
        else if (parts[1] === '3') out += '-ERR partition must be an integer\r\n';
        else out += `*3\r\n:4\r\n:${parts[1]}0\r\n:1\r\n`;
      }
      sock.write(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const fencer = new RespFencer('pw', silentLogger());
  t.after(() => {
    fencer.close();
    server.close();
  });
  const got = await fencer.fence(`127.0.0.1:${port}`, [{ partition: 1, term: 5 }, { partition: 3, term: 5 }, { partition: 2, term: 5 }], 2000);
  assert.deepEqual(got, [{ term: 4, offset: 10, complete: true }, null, { term: 4, offset: 20, complete: true }]);
  assert.equal(received.length, 1, 'AUTH and the three fences in one write');
  assert.match(received[0]!, /^\*2\r\n\$4\r\nAUTH\r\n\$2\r\npw\r\n\*3\r\n\$8\r\nRL\.FENCE\r\n\$1\r\n1\r\n\$1\r\n5\r\n/);
  const again = await fencer.fence(`127.0.0.1:${port}`, [{ partition: 0, term: 6 }], 2000);
  assert.deepEqual(again, [{ term: 4, offset: 0, complete: true }], 'the connection is kept');
  assert.equal(received.length, 2);
  mode = 'silent';
  const t0 = Date.now();
  assert.deepEqual(await fencer.fence(`127.0.0.1:${port}`, [{ partition: 0, term: 7 }], 100), [null], 'no answer in time');
  assert.ok(Date.now() - t0 < 2000);
  mode = 'answer';
  assert.deepEqual(await fencer.fence(`127.0.0.1:${port}`, [{ partition: 1, term: 7 }], 2000), [{ term: 4, offset: 10, complete: true }], 'a new connection after a timeout');
  assert.deepEqual(await fencer.fence('127.0.0.1:1', [{ partition: 1, term: 7 }], 2000), [null], 'a refused connection');
  assert.deepEqual(await fencer.fence('not an address', [{ partition: 1, term: 7 }], 2000), [null]);
});
