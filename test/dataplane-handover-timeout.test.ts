// A hand-over that never finishes, with real processes (issue 9): the node that a leaving primary hands a partition to
// is paused (SIGSTOP, with deadlines long enough that it stays a member), so it never reports `serving`; after
// --handover-timeout-ms the coordinator abandons the hand-over, fences the copies and promotes one of them (the old
// primary, handing off, is one); nothing written before is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster } from '../src/testing/local-cluster.js';
import { CoordinatorClient } from '../src/control/index.js';
import { keySlot } from '../src/hashing/index.js';
import { PartitionTable, partitionOfSlot, planTable } from '../src/partitioning/index.js';

const PARTITIONS = 4;

/** Keys of partition p: `{tag}:i` with a tag that lands in p. */
function tagFor(p: number): string {
  for (let i = 0; ; i++) if (partitionOfSlot(keySlot(`ho${i}`), PARTITIONS) === p) return `ho${i}`;
}

test('a hand-over whose new primary never serves (paused) is abandoned after --handover-timeout-ms: failover to a fenced copy, nothing lost', { timeout: 150_000 }, async (t) => {
  const cluster = await LocalCluster.start({ nodes: 3, partitions: PARTITIONS, replicas: 3, suspectAfterMs: 20_000, deadAfterMs: 30_000, coordinatorArgs: ['--handover-timeout-ms', '3000', '--replication', 'async'] });
  t.after(() => cluster.close());
  const p = 0;
  const before = PartitionTable.fromJSON((await cluster.table()).json);
  const a = cluster.nodeById(before.primaryOf(p)!)!;
  // x = the copy the coordinator hands p to when a leaves (the first of the next target), paused so it never serves.
  const previous = PartitionTable.trusted({ epoch: before.epoch, partitionCount: PARTITIONS, replicas: 3, members: before.members.map((m) => ({ ...m })), partitions: Array.from({ length: PARTITIONS }, (_, q) => [...before.replicasOf(q)]) });
  const next = planTable(previous, before.members.filter((m) => m.id !== a.id), { partitionCount: PARTITIONS, replicas: 3 }).table;
  const x = cluster.nodeById(next.replicasOf(p)[0]!)!;
  const tag = tagFor(p);
  const ra = cluster.redis(a.name);
  for (let i = 0; i < 100; i++) await ra.set(`{${tag}}:k:${i}`, `v${i}`);
  await cluster.waitFor('every copy has the writes', async () => {
    const offsets = await Promise.all([a, x].map(async (n) => ((await cluster.call(n.name, 'RL.DIGEST', p)) as number[])[1]));
    return offsets.every((o) => o === offsets[0]);
  }, 30_000);
  t.diagnostic(`partition ${p}: primary ${a.name} leaves; ${x.name} (next primary) paused`);

  const client = new CoordinatorClient({ coordinators: [cluster.coordinatorUrl] });
  const watch = client.watch();
  t.after(() => watch.close());
  const tables: PartitionTable[] = [];
  watch.on('table', (tb) => tables.push(tb));
  cluster.pause(x.name);
  a.proc.signal('SIGTERM'); // graceful leave: p is handed over to x, a stays handing-off
  await cluster.waitFor(`${x.name} named primary of ${p}, ${a.name} handing off`, () => tables.some((tb) => tb.primaryOf(p) === x.id && tb.stateOf(p, a.id) === 'handing-off'), 30_000);
  const handoverTerm = tables.find((tb) => tb.primaryOf(p) === x.id)!.termOf(p);
  await cluster.coordinator.waitForLine(/hand-over timed out: the new primary never reported serving/, 30_000);
  await cluster.waitFor('a failover away from the stuck primary', () => tables.some((tb) => tb.termOf(p) === handoverTerm + 1 && tb.primaryOf(p) !== undefined && tb.primaryOf(p) !== x.id), 30_000);
  const after = tables.find((tb) => tb.termOf(p) === handoverTerm + 1)!;
  assert.equal(after.stateOf(p, x.id), null, 'the stuck primary\'s copy is removed');
  const line = await cluster.coordinator.waitForLine(new RegExp(`"partition":${p},[^}]*failover: promoted the freshest`), 10_000);
  t.diagnostic(`after ${cluster.nodeById(after.primaryOf(p)!)!.name} took over: ${/"candidates":"([^"]+)"/.exec(line[0])![1]}`);
  cluster.resume(x.name);
  const owner = cluster.nodeById(after.primaryOf(p)!)!;
  const ro = cluster.redis(owner.name);
  await cluster.waitFor(`${owner.name} serves ${p}`, async () => (await ro.get(`{${tag}}:k:0`).catch(() => null)) === 'v0', 30_000);
  // x is back and may be given a copy of p again (a learner built, then possibly a hand-over), so the full read-back
  // waits for a settled table and reads from the primary it names: every acknowledged write must be there.
  const settled = await cluster.waitStable(60_000);
  const final = cluster.nodeById(settled.primaryOf(p)!)!;
  t.diagnostic(`settled at epoch ${settled.epoch}: ${final.name} primary of ${p}`);
  const rf = cluster.redis(final.name);
  for (let i = 0; i < 100; i++) assert.equal(await rf.get(`{${tag}}:k:${i}`).catch((e: Error) => e.message), `v${i}`);
});
