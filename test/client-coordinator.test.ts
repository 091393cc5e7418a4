// The client with a real coordinator (in-process) and its watch stream: members are redis-server processes that
// "join" through MemberSession (the data plane is plain RESP, so the client cannot tell). Checks connect(), routing by
// the coordinator's table, and the typed `membership` and `topology` events as members come and go.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { CoordinatorClient, MemberSession } from '../src/control/index.js';
import { Ringleader, type MembershipChange, type TopologyChange } from '../src/client/index.js';
import { freePort } from '../src/testing/ports.js';
import { startCopyReporter, type CopyReporter } from '../src/testing/copy-reporter.js';

async function redis(): Promise<{ proc: ChildProcess; address: string }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => ((out += d.toString()), out.includes('Ready to accept') && resolve()));
    proc.on('exit', () => reject(new Error('redis-server exited')));
  });
  return { proc, address: `127.0.0.1:${port}` };
}

let coord: RunningCoordinator;
const procs: ChildProcess[] = [];
const sessions: MemberSession[] = [];
const clients: Ringleader[] = [];
let reporter: CopyReporter | null = null;

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

before(async () => {
  coord = await startCoordinator({ port: 0, heartbeatMs: 100, suspectAfterMs: 400, deadAfterMs: 800, planDebounceMs: 20, placement: { partitionCount: 32, replicas: 2 } });
  // redis-server members cannot report their copies: report for them, so learners become backups and hand-overs finish.
  reporter = startCopyReporter(new CoordinatorClient({ coordinators: [coord.url] }), () => sessions.map((s) => s.id).filter((id): id is string => id !== null));
});

after(async () => {
  reporter?.stop();
  for (const c of clients) c.close();
  for (const s of sessions) s.stop();
  for (const p of procs) p.kill('SIGKILL');
  await coord?.close();
});

function join(name: string, address: string, epoch: () => number): MemberSession {
  const s = new MemberSession(new CoordinatorClient({ coordinators: [coord.url] }), { member: { name, address }, appliedEpoch: epoch });
  sessions.push(s);
  return s;
}

test('connect() follows the coordinator: routes by its table and emits membership and topology events', async () => {
  const nodes = [await redis(), await redis(), await redis()];
  procs.push(...nodes.map((n) => n.proc));
  let epoch = 0;
  await join('r1', nodes[0]!.address, () => epoch).start();
  await join('r2', nodes[1]!.address, () => epoch).start();

  const c = await Ringleader.connect({ coordinators: [coord.url] });
  clients.push(c);
  const membership: MembershipChange[] = [];
  const topology: TopologyChange[] = [];
  c.on('membership', (e) => membership.push(e));
  c.on('topology', (e) => {
    topology.push(e);
    epoch = e.epoch;
  });
  epoch = c.table!.epoch;
  await until(() => (c.table?.members.length ?? 0) === 2 && c.table!.members.every((m) => c.table!.partitionsOf(m.id).primary.length > 0 && c.table!.partitionsOf(m.id).learner.length === 0), 5000, 'two members with partitions, in sync');

  const keys = Array.from({ length: 40 }, (_, i) => `customer:${i}`);
  await c.mset(keys.map((k) => [k, k.toUpperCase()] as const));
  assert.deepEqual(await c.mget(keys), keys.map((k) => k.toUpperCase()));
  const loc = c.locate('customer:1');
  assert.ok(loc.primary && [nodes[0]!.address, nodes[1]!.address].includes(loc.primary.address));
  assert.equal(loc.backups.length, 1);

  const third = join('r3', nodes[2]!.address, () => epoch);
  await third.start();
  await until(() => membership.some((m) => m.member.name === 'r3' && m.type === 'member-joined'), 5000, 'r3 joined event');
  const joined = membership.find((m) => m.member.name === 'r3')!;
  assert.ok(joined.members.some((m) => m.name === 'r3'), 'the event carries the new member list');
  await until(() => topology.some((t) => t.table.members.some((m) => m.name === 'r3') && t.movedPartitions > 0), 5000, 'a topology change that moves partitions to r3');
  const epochs = topology.map((t) => t.epoch);
  assert.deepEqual(epochs, [...epochs].sort((a, b) => a - b), 'epochs only increase');

  await third.leave();
  await until(() => membership.some((m) => m.member.name === 'r3' && (m.type === 'member-leaving' || m.type === 'member-left')), 5000, 'r3 leaving event');
});

test('connect() fails with NO_TABLE within connectTimeoutMs when no coordinator answers', async () => {
  const port = await freePort();
  const t0 = performance.now();
  await assert.rejects(Ringleader.connect({ coordinators: [`http://127.0.0.1:${port}`], connectTimeoutMs: 300 }), (e: { code?: string }) => e.code === 'NO_TABLE');
  assert.ok(performance.now() - t0 < 2000);
});
