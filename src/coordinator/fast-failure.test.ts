import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { ManualClock } from '../testing/manual-clock.js';
import { silentLogger } from '../shared/logger.js';
import type { MemberState } from '../protocol/control.js';
import { Coordinator } from './coordinator.js';
import { resolveCoordinatorOptions, type CoordinatorOptionsInput } from './options.js';
import { InMemoryStateStore } from './state-store.js';
import { splitAddress, tcpProber, type ProbeResult, type Prober } from './prober.js';
import { nextState } from './lifecycle.js';

/** A prober the test answers by hand: each probe waits until the test resolves it. */
class ScriptedProber implements Prober {
  readonly calls: Array<{ address: string; timeoutMs: number; answer: (r: ProbeResult) => void; answered: boolean }> = [];
  probe(address: string, timeoutMs: number): Promise<ProbeResult> {
    return new Promise((resolve) => {
      const call = { address, timeoutMs, answered: false, answer: (r: ProbeResult) => ((call.answered = true), resolve(r)) };
      this.calls.push(call);
    });
  }
}

/** Answers every probe with `result` and moves the clock until `done` settles; returns its value. */
async function answerAll<T>(done: Promise<T>, prober: ScriptedProber, clock: ManualClock, result: ProbeResult): Promise<T> {
  let settled = false;
  void done.then(() => (settled = true));
  for (let i = 0; i < 200 && !settled; i++) {
    for (const c of prober.calls) if (!c.answered) c.answer(result);
    await new Promise((r) => setImmediate(r));
    clock.advance(10);
  }
  assert.ok(settled, 'watchClosed settled');
  return done;
}

async function open(prober: Prober, options: CoordinatorOptionsInput = {}) {
  const clock = new ManualClock();
  const c = await Coordinator.open({ options: resolveCoordinatorOptions({ placement: { partitionCount: 8, replicas: 2 }, ...options }), store: new InMemoryStateStore(), clock, logger: silentLogger(), prober });
  return { c, clock };
}

const stateOf = (c: Coordinator, name: string): MemberState | undefined => c.members().find((m) => m.name === name)?.state;

async function activeCluster(prober: Prober, options: CoordinatorOptionsInput = {}) {
  const { c, clock } = await open(prober, options);
  const a = c.join({ name: 'a', address: '127.0.0.1:7001' });
  const b = c.join({ name: 'b', address: '127.0.0.1:7002' });
  await c.flush();
  c.heartbeat(a.id, { appliedEpoch: c.epoch });
  c.heartbeat(b.id, { appliedEpoch: c.epoch });
  await c.flush();
  assert.equal(stateOf(c, 'a'), 'active');
  return { c, clock, a, b };
}

test('process-gone: alive members die at once (a leaving one is left); dead and left ones ignore it', () => {
  assert.equal(nextState('joining', 'process-gone'), 'dead');
  assert.equal(nextState('active', 'process-gone'), 'dead');
  assert.equal(nextState('suspect', 'process-gone'), 'dead');
  assert.equal(nextState('leaving', 'process-gone'), 'left');
  assert.equal(nextState('dead', 'process-gone'), null);
  assert.equal(nextState('left', 'process-gone'), null);
});

test('a closed watch + a refused probe declares the member dead at once, and its partitions fail over in the next epoch', async () => {
  const prober = new ScriptedProber();
  // No copy reports here, so a's copies are still learners: b's partitions lose every copy and are re-created.
  const { c, b } = await activeCluster(prober, { lostPartitions: 'recreate' });
  const before = c.epoch;
  assert.ok(c.table.partitionsOf(b.id).primary.length > 0);
  const done = c.watchClosed(b.id);
  assert.equal(prober.calls.length, 1);
  assert.deepEqual([prober.calls[0]!.address, prober.calls[0]!.timeoutMs], ['127.0.0.1:7002', 200]);
  assert.equal(stateOf(c, 'b'), 'active', 'nothing changes before the probe answers');
  prober.calls[0]!.answer('refused');
  assert.equal(await done, 'refused');
  assert.equal(stateOf(c, 'b'), 'dead');
  await c.flush();
  assert.ok(c.epoch > before);
  assert.equal(c.table.member(b.id), undefined);
  assert.deepEqual(c.table.partitionsOf(b.id).primary, []);
  for (let p = 0; p < c.table.partitionCount; p++) assert.ok(c.table.primaryOf(p) !== undefined, `partition ${p} has a primary`);
  assert.equal((await c.metrics.registry.getSingleMetricAsString('ringleader_coordinator_fast_deaths_total')).includes('ringleader_coordinator_fast_deaths_total 1'), true);
  await c.close();
});

test('an open port, a timeout or another error is never death (SIGSTOP, a cut network): re-probed, then heartbeats decide', async () => {
  for (const result of ['open', 'timeout', 'error'] as const) {
    const prober = new ScriptedProber();
    const { c, clock, a, b } = await activeCluster(prober);
    const epoch = c.epoch;
    assert.equal(await answerAll(c.watchClosed(b.id), prober, clock, result), result);
    assert.equal(prober.calls.length, 4, 'probed at once, then after 50, 150 and 300 ms');
    assert.equal(stateOf(c, 'b'), 'active', result);
    await c.flush();
    assert.equal(c.epoch, epoch, `${result}: no new epoch`);
    // b stays silent: the heartbeat deadline still declares it dead.
    for (let t = 0; t < 1700; t += 50) {
      clock.advance(50);
      if (t % 500 === 0) c.heartbeat(a.id, { appliedEpoch: c.epoch });
    }
    assert.equal(stateOf(c, 'b'), 'dead', `${result}: dead by heartbeat deadline`);
    await c.close();
  }
});

test('an open port then a refused one (a process whose listening socket closes a moment after its watch) = dead', async () => {
  const prober = new ScriptedProber();
  const { c, clock, b } = await activeCluster(prober);
  const done = c.watchClosed(b.id);
  prober.calls[0]!.answer('open');
  assert.equal(await answerAll(done, prober, clock, 'refused'), 'refused');
  assert.equal(prober.calls.length, 2);
  assert.equal(stateOf(c, 'b'), 'dead');
  await c.close();
});

test('re-probing stops as soon as the member opens a watch again (it was alive: a dropped stream)', async () => {
  const prober = new ScriptedProber();
  const { c, clock, b } = await activeCluster(prober);
  c.watchOpened(b.id);
  const done = c.watchClosed(b.id);
  prober.calls[0]!.answer('open');
  c.watchOpened(b.id); // the node reconnected its watch
  assert.equal(await answerAll(done, prober, clock, 'refused'), 'open');
  assert.equal(prober.calls.length, 1);
  assert.equal(stateOf(c, 'b'), 'active');
  // With one of two watches still open, a close probes nothing.
  c.watchOpened(b.id);
  assert.equal(await c.watchClosed(b.id), null);
  assert.equal(prober.calls.length, 1);
  await c.close();
});

test('a probe that throws counts as an error, not as death', async () => {
  const { c, clock, b } = await activeCluster({ probe: () => Promise.reject(new Error('boom')) });
  assert.equal(await answerAll(c.watchClosed(b.id), new ScriptedProber(), clock, 'open'), 'error');
  assert.equal(stateOf(c, 'b'), 'active');
  await c.close();
});

test('a refused probe is ignored when the member re-joined (new incarnation) while it ran', async () => {
  const prober = new ScriptedProber();
  const { c } = await activeCluster(prober);
  const b = c.members().find((m) => m.name === 'b')!;
  const done = c.watchClosed(b.id);
  const again = c.join({ name: 'b', address: '127.0.0.1:7002' }); // restarted faster than the probe answered
  prober.calls[0]!.answer('refused');
  assert.equal(await done, 'refused');
  assert.equal(stateOf(c, 'b'), 'joining');
  assert.equal(c.members().find((m) => m.name === 'b')!.incarnation, again.incarnation);
  await c.close();
});

test('no probe for unknown, dead or left members, nor when probeTimeoutMs is 0', async () => {
  const prober = new ScriptedProber();
  const { c, b } = await activeCluster(prober);
  assert.equal(await c.watchClosed('f'.repeat(40)), null);
  const done = c.watchClosed(b.id);
  prober.calls[0]!.answer('refused');
  await done;
  assert.equal(await c.watchClosed(b.id), null, 'already dead');
  assert.equal(prober.calls.length, 1);
  await c.close();

  const off = new ScriptedProber();
  const o = await activeCluster(off, { probeTimeoutMs: 0 });
  assert.equal(await o.c.watchClosed(o.b.id), null);
  assert.equal(off.calls.length, 0);
  assert.equal(stateOf(o.c, 'b'), 'active');
  await o.c.close();
});

test('probeTimeoutMs is validated', () => {
  assert.throws(() => resolveCoordinatorOptions({ probeTimeoutMs: -1 }), /probeTimeoutMs/);
  assert.throws(() => resolveCoordinatorOptions({ probeTimeoutMs: 1.5 }), /probeTimeoutMs/);
  assert.throws(() => resolveCoordinatorOptions({ probeTimeoutMs: 60_001 }), /probeTimeoutMs/);
  assert.equal(resolveCoordinatorOptions({ probeTimeoutMs: 0 }).probeTimeoutMs, 0);
});

test('splitAddress parses host:port and [v6]:port, refuses garbage', () => {
  assert.deepEqual(splitAddress('127.0.0.1:6379'), { host: '127.0.0.1', port: 6379 });
  assert.deepEqual(splitAddress('[::1]:7000'), { host: '::1', port: 7000 });
  assert.deepEqual(splitAddress('cache-1.local:7000'), { host: 'cache-1.local', port: 7000 });
  for (const bad of ['', 'nohost', ':80', 'h:0', 'h:65536', 'h:12345678', '::1:80', 'h:80x', '[zz]:1']) assert.equal(splitAddress(bad), null, bad);
});

test('tcpProber: open on a listening port, refused on a closed one, error on garbage', async () => {
  const server: Server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  assert.equal(await tcpProber.probe(`127.0.0.1:${port}`, 2000), 'open');
  await new Promise<void>((r) => server.close(() => r()));
  assert.equal(await tcpProber.probe(`127.0.0.1:${port}`, 2000), 'refused');
  assert.equal(await tcpProber.probe('not an address', 2000), 'error');
});
