import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../testing/manual-clock.js';
import { silentLogger } from '../shared/logger.js';
import type { Clock } from '../shared/clock.js';
import type { MemberState } from '../protocol/control.js';
import { Coordinator, type EpochRecord } from './coordinator.js';
import { resolveCoordinatorOptions, type CoordinatorOptionsInput } from './options.js';
import { InMemoryStateStore } from './state-store.js';

/** A ManualClock whose monotonic time can jump without firing timers: what a stalled process sees. */
class StallableClock extends ManualClock {
  private skew = 0;
  override monotonic(): number {
    return super.monotonic() + this.skew;
  }
  stall(ms: number): void {
    this.skew += ms;
  }
}

async function open(options: CoordinatorOptionsInput = {}, clock: Clock = new ManualClock()) {
  const store = new InMemoryStateStore();
  const c = await Coordinator.open({ options: resolveCoordinatorOptions({ placement: { partitionCount: 16, replicas: 2 }, ...options }), store, clock, logger: silentLogger() });
  const published: EpochRecord[] = [];
  c.on('published', (r) => published.push(r));
  return { c, store, published };
}

const stateOf = (c: Coordinator, name: string): MemberState | undefined => c.members().find((m) => m.name === name)?.state;

test('a silent member becomes suspect after suspectAfterMs and dead after deadAfterMs, not before', async () => {
  const clock = new ManualClock();
  const { c } = await open({}, clock); // defaults: 500 ms heartbeats, suspect 1000 ms, dead 1500 ms, checks every 50 ms
  const a = c.join({ name: 'a', address: '127.0.0.1:7001' });
  c.join({ name: 'b', address: '127.0.0.1:7002' });
  let elapsed = 0;
  const seen: Array<[number, MemberState | undefined]> = [];
  while (elapsed < 2500) {
    clock.advance(10);
    elapsed += 10;
    if (elapsed % 500 === 0) c.heartbeat(a.id, { appliedEpoch: 0 }); // a stays healthy, b is silent
    const s = stateOf(c, 'b');
    if (seen.at(-1)?.[1] !== s) seen.push([elapsed, s]);
  }
  const suspectAt = seen.find(([, s]) => s === 'suspect')![0];
  const deadAt = seen.find(([, s]) => s === 'dead')![0];
  assert.ok(suspectAt > 1000 && suspectAt <= 1050, `suspect at ${suspectAt}`);
  assert.ok(deadAt > 1500 && deadAt <= 1550, `dead at ${deadAt} (the ~1.5 s detection bound)`);
  assert.notEqual(stateOf(c, 'a'), 'suspect');
  await c.close();
});

test('heartbeats delayed by 100 ms event-loop stalls (even 400 ms) never make a member suspect', async () => {
  const clock = new ManualClock();
  const { c } = await open({}, clock);
  const a = c.join({ name: 'a', address: '127.0.0.1:7001' });
  const transitions: MemberState[] = [];
  for (let i = 0; i < 200; i++) {
    const stall = i % 7 === 3 ? 400 : i % 2 === 0 ? 100 : 0; // every other beat 100 ms late, now and then 400 ms
    clock.advance(500 + stall);
    c.heartbeat(a.id, { appliedEpoch: c.epoch });
    await c.flush();
    const s = stateOf(c, 'a')!;
    if (transitions.at(-1) !== s) transitions.push(s);
  }
  assert.deepEqual(transitions, ['joining', 'active']);
  await c.close();
});

test('a stall of the coordinator itself does not declare members dead', async () => {
  const clock = new StallableClock();
  const { c } = await open({}, clock);
  c.join({ name: 'a', address: '127.0.0.1:7001' });
  clock.advance(200);
  clock.stall(3000); // the process did not run for 3 s: heartbeats are waiting in socket buffers
  clock.advance(50);
  assert.equal(stateOf(c, 'a'), 'joining');
  const metrics = await c.metrics.registry.getSingleMetricAsString('ringleader_coordinator_stalls_total');
  assert.match(metrics, /stalls_total 1/);
  await c.close();
});

test('a dead member that comes back is refused until it re-joins as a new incarnation', async () => {
  const clock = new ManualClock();
  const { c } = await open({}, clock);
  const a = c.join({ name: 'a', address: '127.0.0.1:7001' });
  clock.advance(2000);
  await c.flush();
  assert.equal(stateOf(c, 'a'), 'dead');
  assert.throws(() => c.heartbeat(a.id, { appliedEpoch: 0 }), { code: 'MEMBER_DEAD' });
  const again = c.join({ name: 'a', address: '127.0.0.1:7001' });
  assert.equal(again.incarnation, 2);
  assert.equal(stateOf(c, 'a'), 'joining');
  assert.throws(() => c.heartbeat(a.id, { appliedEpoch: 0, incarnation: 1 }), { code: 'STALE_INCARNATION' });
  await c.close();
});

test('ten joins at once are coalesced into one epoch and one state write', async () => {
  const clock = new ManualClock();
  const { c, store, published } = await open({ planDebounceMs: 50 }, clock);
  for (let i = 0; i < 10; i++) {
    c.join({ name: `n${i}`, address: `127.0.0.1:${7000 + i}` });
    clock.advance(2);
  }
  clock.advance(60);
  await c.flush();
  assert.equal(published.length, 1);
  assert.equal(c.epoch, 1);
  assert.equal(store.writes, 1);
  assert.equal(published[0]!.events.length, 10);
  assert.equal(c.table.members.length, 10);
  await c.close();
});

test('a continuous stream of changes cannot postpone planning beyond planMaxDelayMs', async () => {
  const clock = new ManualClock();
  const { c, published } = await open({ planDebounceMs: 50, planMaxDelayMs: 200, suspectAfterMs: 60_000, deadAfterMs: 120_000 }, clock);
  for (let i = 0; i < 20; i++) {
    c.join({ name: `n${i}`, address: `127.0.0.1:${7000 + i}` });
    clock.advance(40); // always inside the debounce window
    await Promise.resolve();
  }
  await c.flush();
  assert.ok(published.length >= 3 && published.length <= 6, `${published.length} epochs for 20 joins over 800 ms`);
  await c.close();
});

test('a restarted coordinator resumes the same epoch, table and members from its store', async () => {
  const clock = new ManualClock();
  const store = new InMemoryStateStore();
  const options = resolveCoordinatorOptions({ placement: { partitionCount: 16, replicas: 2 } });
  const c1 = await Coordinator.open({ options, store, clock, logger: silentLogger() });
  const a = c1.join({ name: 'a', address: '127.0.0.1:7001' });
  c1.join({ name: 'b', address: '127.0.0.1:7002' });
  await c1.flush();
  c1.heartbeat(a.id, { appliedEpoch: 1 });
  await c1.flush();
  const table = JSON.stringify(c1.table.toJSON());
  await c1.close();
  const c2 = await Coordinator.open({ options, store, clock, logger: silentLogger() });
  assert.equal(c2.epoch, 2);
  assert.equal(JSON.stringify(c2.table.toJSON()), table);
  assert.equal(stateOf(c2, 'a'), 'active');
  // a keeps heartbeating through the restart: nothing changes, no new epoch.
  for (let i = 0; i < 10; i++) {
    clock.advance(500);
    c2.heartbeat(a.id, { appliedEpoch: 2 });
  }
  await c2.flush();
  assert.equal(stateOf(c2, 'a'), 'active');
  await c2.close();
  await assert.rejects(Coordinator.open({ options: resolveCoordinatorOptions({ placement: { partitionCount: 32 } }), store, clock, logger: silentLogger() }), /partitionCount/);
});

test('a store that changed underneath (another coordinator wrote) fences this one', async () => {
  const clock = new ManualClock();
  const { c, store } = await open({}, clock);
  c.join({ name: 'a', address: '127.0.0.1:7001' });
  await c.flush();
  await store.compareAndSet(1, { ...(await store.load())!, epoch: 7 });
  c.join({ name: 'b', address: '127.0.0.1:7002' });
  await c.flush();
  assert.equal(c.epoch, 1, 'nothing published after the conflict');
  assert.throws(() => c.join({ name: 'c', address: '127.0.0.1:7003' }), { code: 'STATE_CONFLICT' });
  await c.close();
});

test('FileStateStore: atomic writes, CAS on the epoch, and a file changed by another writer is noticed', async () => {
  const { mkdtempSync, writeFileSync, readdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { FileStateStore } = await import('./state-store.js');
  const dir = mkdtempSync(join(tmpdir(), 'rl-store-'));
  try {
    const a = new FileStateStore(dir);
    assert.equal(await a.load(), null);
    const state = (epoch: number) => ({ format: 2 as const, epoch, table: null, target: null, members: [] });
    await a.compareAndSet(null, state(1));
    await a.compareAndSet(1, state(2));
    await assert.rejects(a.compareAndSet(1, state(3)), { code: 'STATE_CONFLICT' });
    // Another coordinator rewrites the file: the CAS must read it, not trust its memory.
    const b = new FileStateStore(dir);
    await b.compareAndSet(2, state(7));
    await assert.rejects(a.compareAndSet(2, state(3)), { code: 'STATE_CONFLICT' });
    assert.equal((await a.load())?.epoch, 7);
    // temp files of a writer that is gone (no such pid) are crash leftovers
    writeFileSync(join(dir, 'members.json.tmp-99999999-0'), '{"half');
    writeFileSync(join(dir, 'members.json.tmp-99999999-1'), '');
    assert.equal((await new FileStateStore(dir).load())?.epoch, 7);
    assert.deepEqual(readdirSync(dir), ['members.json']);
    writeFileSync(join(dir, 'members.json'), '{"format":1,"epoch":');
    await assert.rejects(new FileStateStore(dir).load(), { code: 'STATE_STORE_FAILED' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
