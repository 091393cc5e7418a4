// Integration: MemberSession (src/control) against a real coordinator: heartbeats, detection in real time, re-join, leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoordinator } from '../src/coordinator/index.js';
import { CoordinatorClient, MemberSession, type MemberEvent } from '../src/control/index.js';
import type { MemberState } from '../src/protocol/index.js';

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a heartbeat-starved member is suspect, then dead, within the configured bounds (real time)', async (t) => {
  // 100 ms heartbeats, suspect after 400 ms, dead after 700 ms, checks every 20 ms.
  const running = await startCoordinator({ port: 0, heartbeatMs: 100, suspectAfterMs: 400, deadAfterMs: 700, checkIntervalMs: 20, planDebounceMs: 10, placement: { partitionCount: 8 } });
  t.after(() => running.close());
  const client = new CoordinatorClient({ coordinators: [running.url] });
  const watch = client.watch();
  t.after(() => watch.close());
  const seen: Array<{ type: string; at: number }> = [];
  watch.on('membership', (e: MemberEvent) => e.member.name === 'quiet' && seen.push({ type: e.type, at: performance.now() }));
  let epoch = 0;
  watch.on('table', (tb) => (epoch = tb.epoch));
  const healthy = new MemberSession(client, { member: { name: 'healthy', address: '127.0.0.1:7401' }, appliedEpoch: () => epoch });
  const quiet = new MemberSession(client, { member: { name: 'quiet', address: '127.0.0.1:7402' }, appliedEpoch: () => epoch });
  t.after(() => healthy.stop());
  await healthy.start();
  await quiet.start();
  await waitFor(() => quiet.state === 'active');
  let lastBeat = performance.now();
  quiet.on('heartbeat', () => (lastBeat = performance.now()));
  await new Promise((r) => setTimeout(r, 300));
  quiet.stop();
  const stoppedAfter = lastBeat;
  await waitFor(() => seen.some((s) => s.type === 'member-dead'), 3000);
  const suspect = seen.find((s) => s.type === 'member-suspect' && s.at > stoppedAfter)!;
  const dead = seen.find((s) => s.type === 'member-dead')!;
  // Events reach watchers after the deadline + one check + the plan debounce + delivery: allow 700 ms of scheduling
  // slack on a loaded 2-core CI machine (the exact bounds are checked with a manual clock in coordinator.test.ts), and
  // 20 ms before the deadline for the heartbeat response's own trip back.
  assert.ok(suspect.at - stoppedAfter >= 380 && suspect.at - stoppedAfter < 400 + 700, `suspect after ${Math.round(suspect.at - stoppedAfter)} ms`);
  assert.ok(dead.at - stoppedAfter >= 680 && dead.at - stoppedAfter < 700 + 700, `dead after ${Math.round(dead.at - stoppedAfter)} ms`);
  assert.equal(healthy.state, 'active', 'the healthy member was never disturbed');
});

test('a session declared dead re-joins as a new incarnation by itself; a graceful leave ends in left', async (t) => {
  const running = await startCoordinator({ port: 0, heartbeatMs: 50, suspectAfterMs: 150, deadAfterMs: 250, checkIntervalMs: 10, planDebounceMs: 5, placement: { partitionCount: 8 } });
  t.after(() => running.close());
  const client = new CoordinatorClient({ coordinators: [running.url] });
  const watch = client.watch();
  t.after(() => watch.close());
  let epoch = 0;
  watch.on('table', (tb) => (epoch = tb.epoch));
  const other = new MemberSession(client, { member: { name: 'other', address: '127.0.0.1:7501' }, appliedEpoch: () => epoch });
  t.after(() => other.stop());
  await other.start();
  // A fetch that can black-hole this session's heartbeats, like a network partition.
  let partitioned = false;
  const flaky: typeof fetch = (input, init) => (partitioned ? Promise.reject(new Error('partitioned')) : fetch(input, init));
  const node = new MemberSession(new CoordinatorClient({ coordinators: [running.url], fetch: flaky, maxAttempts: 1 }), { member: { name: 'n', address: '127.0.0.1:7502' }, appliedEpoch: () => epoch });
  const joins: Array<[number, boolean]> = [];
  const states: MemberState[] = [];
  node.on('joined', (info, rejoin) => joins.push([info.incarnation, rejoin]));
  node.on('state', (s) => states.push(s));
  t.after(() => node.stop());
  await node.start();
  await waitFor(() => node.state === 'active');
  partitioned = true;
  await waitFor(async () => (await client.members()).members.find((m) => m.name === 'n')?.state === 'dead');
  partitioned = false;
  await waitFor(() => joins.length === 2 && node.state === 'active');
  assert.deepEqual(joins, [[1, false], [2, true]]);
  await node.leave();
  assert.equal(node.state, 'left');
  assert.ok(states.includes('leaving'));
  // The epoch that drops the member is published after the transition (debounced): wait for it.
  await waitFor(async () => (await client.getTable()).member(node.id!) === undefined);
});
