// Promotion of the freshest copy with real processes (issue 9): two backups of one partition at different offsets
// (one paused with SIGSTOP while 24 MB of writes flow, so part of the stream dies in its old primary's buffers), the
// primary killed with kill -9, the paused backup resumed: the coordinator fences both (RL.FENCE, with the nodes'
// password) and promotes the fresher one, which is not the first backup in target order; no acknowledged write is lost.
// Async replication: in sync mode the paused backup would first be taken out of the in-sync set (demoted to learner,
// never a candidate), and backups could only differ by writes not acknowledged yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { LocalCluster } from '../src/testing/local-cluster.js';
import { CoordinatorClient } from '../src/control/index.js';
import { keySlot } from '../src/hashing/index.js';
import { PartitionTable, partitionOfSlot, planTable } from '../src/partitioning/index.js';

const exec = promisify(execFile);
const PARTITIONS = 4;
const PASSWORD = 'fence-pw';

/** Keys of partition p: `{tag}:i` with a tag that lands in p. */
function tagFor(p: number): string {
  for (let i = 0; ; i++) if (partitionOfSlot(keySlot(`pr${i}`), PARTITIONS) === p) return `pr${i}`;
}

test('kill -9 of a primary whose backups differ: the fresher backup is promoted, not the first in target order', { timeout: 150_000 }, async (t) => {
  // Long deadlines: the paused backup must stay alive (a member) through the pause; the kill is seen by the fast path.
  const cluster = await LocalCluster.start({ nodes: 3, partitions: PARTITIONS, replicas: 3, suspectAfterMs: 20_000, deadAfterMs: 30_000, password: PASSWORD, coordinatorArgs: ['--fence-timeout-ms', '5000', '--replication', 'async'] });
  t.after(() => cluster.close());
  const p = 0;
  const before = PartitionTable.fromJSON((await cluster.table()).json);
  assert.deepEqual(before.copiesOf(p).map((c) => c.state), ['primary', 'backup', 'backup']);
  const x = cluster.nodeById(before.primaryOf(p)!)!;
  // y = the backup that promotion by target order alone would pick once x is gone (the coordinator plans the same
  // target: planTable on the previous one, a settled table's sets, without x); z = the other one.
  const previous = PartitionTable.trusted({ epoch: before.epoch, partitionCount: PARTITIONS, replicas: 3, members: before.members.map((m) => ({ ...m })), partitions: Array.from({ length: PARTITIONS }, (_, q) => [...before.replicasOf(q)]) });
  const next = planTable(previous, before.members.filter((m) => m.id !== x.id), { partitionCount: PARTITIONS, replicas: 3 }).table;
  const y = cluster.nodeById(next.replicasOf(p)[0]!)!;
  const z = cluster.nodeById(before.replicasOf(p).find((id) => id !== x.id && id !== y.id)!)!;
  t.diagnostic(`partition ${p}: primary ${x.name}, backups ${y.name} (first in the next target order; paused) and ${z.name}`);
  const conn = (name: string) => {
    const r = cluster.redis(name);
    r.options.commandTimeout = 20_000;
    return r;
  };
  const rx = conn(x.name);
  const rz = conn(z.name);
  const digest = async (r: Redis) => (await r.call('RL.DIGEST', p)) as [number, number, string, number, number, string];
  const tag = tagFor(p);

  // Without the password a node refuses RL.FENCE (the coordinator authenticates with --node-password-file).
  const noauth = await exec('redis-cli', ['-p', String(z.port), 'RL.FENCE', String(p), '99']);
  assert.match(noauth.stdout + noauth.stderr, /NOAUTH/);

  for (let i = 0; i < 50; i++) await rx.set(`{${tag}}:small:${i}`, `v${i}`);
  const big = 'x'.repeat(1024 * 1024);
  cluster.pause(y.name);
  const pausedAt = Date.now();
  const written: string[] = [];
  for (let i = 0; i < 24; i++) {
    await rx.set(`{${tag}}:big:${i}`, big + i);
    written.push(`{${tag}}:big:${i}`);
  }
  const [, primaryOffset] = await digest(rx);
  await cluster.waitFor(`${z.name} applied every entry`, async () => (await digest(rz))[1] === primaryOffset, 30_000);

  // Watch for the first table that names a new primary of p (later steps may hand it on by target order).
  const client = new CoordinatorClient({ coordinators: [cluster.coordinatorUrl] });
  const watch = client.watch();
  t.after(() => watch.close());
  const promoted = new Promise<PartitionTable>((resolve) => watch.on('table', (tb) => {
    const primary = tb.primaryOf(p);
    if (primary !== undefined && primary !== x.id) resolve(tb);
  }));
  await cluster.kill9(x.name);
  cluster.resume(y.name);
  t.diagnostic(`${y.name} was paused ${Date.now() - pausedAt} ms (it must stay a member: dead after 30 s)`);
  const table = await promoted;
  assert.equal(table.primaryOf(p), z.id, `the fresher copy (${z.name}) is promoted, not ${y.name}`);
  assert.equal(table.termOf(p), before.termOf(p) + 1);

  // The coordinator's log: both candidates answered the fence, the paused one behind.
  const line = await cluster.coordinator.waitForLine(new RegExp(`"partition":${p},[^}]*"promoted":"${z.name}"[^}]*failover: promoted the freshest`), 10_000);
  const answers = /"candidates":"([^"]+)"/.exec(line[0])![1]!;
  t.diagnostic(`fence answers: ${answers}`);
  assert.ok(answers.startsWith(`${y.name}=`), `${y.name} is first in the fallback (target) order: ${answers}`);
  const at = (name: string) => /=(\d+)\/(\d+)/.exec(answers.split(' ').find((a) => a.startsWith(`${name}=`)) ?? '');
  const ya = at(y.name);
  const za = at(z.name);
  assert.ok(za && Number(za[2]) === primaryOffset, `${z.name} answered at the primary's offset ${primaryOffset}: ${answers}`);
  assert.ok(ya && Number(ya[2]) < primaryOffset, `${y.name} answered behind: ${answers}`);

  // Every acknowledged write is there once the cluster settles (wherever the primary ends up).
  await cluster.restartNode(x.name);
  const settled = await cluster.waitStable(90_000);
  const owner = cluster.nodeById(settled.primaryOf(p)!)!;
  const ro = conn(owner.name);
  for (const k of written) assert.equal((await ro.get(k))?.length, big.length + String(written.indexOf(k)).length, `${k} on ${owner.name}`);
  for (let i = 0; i < 50; i++) assert.equal(await ro.get(`{${tag}}:small:${i}`), `v${i}`);
});
