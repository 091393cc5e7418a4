// Hand-overs while snapshots run on the same connection (in-process nodes over real sockets, hand-made tables): the
// snapshot window (RL.RECV) keeps at most syncWindowBytes of snapshot data between the old primary and the new one,
// so the end-of-term marker of a partition changing hands is not stuck behind megabytes of other partitions' keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P, all, sameCopies, startTestNodes, table, waitFor } from './replication-fixture.js';
import { RawRespClient } from '../src/testing/resp-raw.js';

const WINDOW = 64 * 1024;
const BATCH = 16 * 1024;

test('a hand-over during a big snapshot to the same node: the marker arrives behind at most the snapshot window', { timeout: 120_000 }, async (t) => {
  const [a, b] = await startTestNodes(t, ['a', { syncWindowBytes: WINDOW, syncBatchBytes: BATCH }], 'b');
  const nodes = [a, b];
  a.apply(table(1, nodes, all(() => [[a, 'primary']]), all(() => 1)));
  // 16 MB over every partition.
  const value = 'v'.repeat(4096);
  for (let i = 0; i < 4000; i += 200) {
    const pipe = a.redis.pipeline();
    for (let j = i; j < i + 200; j++) pipe.set(`big:${j}`, value);
    await pipe.exec();
  }
  // b becomes a backup of partition 0 first.
  const t2 = table(2, nodes, all((p) => (p === 0 ? [[a, 'primary'], [b, 'learner']] : [[a, 'primary']])), all(() => 1));
  for (const n of [a, b]) n.apply(t2);
  await waitFor('b synced partition 0', () => b.reports.some((r) => r.partition === 0 && r.status === 'synced'));
  // Then a learner of every other partition (about 14 MB of snapshots to b on the same connection)...
  const t3 = table(3, nodes, all((p) => (p === 0 ? [[a, 'primary'], [b, 'backup']] : [[a, 'primary'], [b, 'learner']])), all(() => 1));
  for (const n of [a, b]) n.apply(t3);
  await waitFor('the snapshots are under way', () => b.replicator.stats.syncKeysReceived > 600);
  // b stops reading (a slow follower: busy, or a full kernel buffer): a keeps at most the window unread, then waits.
  const link = b.replicator['links'].get(a.address)!;
  const bSocket = link['socket']!;
  bSocket.pause();
  const down = [...a.replicator['downstreams'].values()].find((d) => d.followerId === b.id)!;
  const o = a.replicator['deps'].options;
  await waitFor('a waits for b to read', () => down.unread > o.syncWindowBytes || down.socket.writableLength > o.syncHighWaterBytes);
  // Partition 0 moves to b: a stops and writes the end-of-term marker behind what b has not read yet.
  const t4 = table(4, nodes, all((p) => (p === 0 ? [[b, 'primary'], [a, 'backup']] : [[a, 'primary'], [b, 'learner']])), all((p) => (p === 0 ? 2 : 1)));
  a.apply(t4);
  b.apply(t4);
  assert.equal(b.view.owned[0], 0, 'b waits for the marker');
  let atServe = -1;
  const promote = b.replicator['promote'].bind(b.replicator);
  b.replicator['promote'] = (part: { partition: number }, how: string) => {
    if (part.partition === 0) atServe = b.replicator.stats.syncBytesReceived;
    promote(part as never, how as never);
  };
  const atResume = b.replicator.stats.syncBytesReceived;
  bSocket.resume();
  await waitFor('b serves partition 0', () => b.view.owned[0] === 1);
  const before = atServe - atResume;
  t.diagnostic(`snapshot bytes b applied before the marker: ${before}; copies still syncing then: ${b.replicator.syncingCount()}`);
  assert.ok(before >= 0 && before <= WINDOW + 2 * BATCH, `b applied ${before} bytes of snapshot before the marker (window ${WINDOW})`);
  assert.equal(b.replicator.stats.handoverTimeouts, 0);
  // The snapshots finish, and every copy ends equal to its primary.
  await waitFor('b synced every partition', () => new Set(b.reports.filter((r) => r.status === 'synced').map((r) => r.partition)).size === P, 60_000);
  const t5 = table(5, nodes, all((p) => (p === 0 ? [[b, 'primary'], [a, 'backup']] : [[a, 'primary'], [b, 'backup']])), all((p) => (p === 0 ? 2 : 1)));
  for (const n of [a, b]) n.apply(t5);
  await waitFor('copies equal their primaries', () => sameCopies(a, b), 30_000);
  const owner = t5.partitionOfKey('big:3999') === 0 ? b : a;
  assert.equal((await owner.redis.get('big:3999'))?.length, 4096);
});

test('RL.TABLE and RL.RECV with garbage: RL.RECV answers an error, RL.TABLE that is not JSON or not a valid newer table changes nothing (no reply either way)', async (t) => {
  const [a, b] = await startTestNodes(t, 'a', 'b');
  const t1 = table(1, [a, b], all(() => [[a, 'primary'], [b, 'backup']]), all(() => 1));
  a.apply(t1);
  b.apply(t1);
  const c = await RawRespClient.connect(Number(a.address.split(':')[1]));
  t.after(() => c.close());
  for (const bad of [['RL.RECV'], ['RL.RECV', '-1'], ['RL.RECV', 'x'], ['RL.RECV', '1.5'], ['RL.RECV', '99999999999999999999'], ['RL.RECV', '1', '2']]) {
    assert.match((await c.call(bad)).raw, /^-ERR /, bad.join(' '));
  }
  // Not JSON, JSON that is not a table, a valid table that is not newer, a newer one that does not validate.
  c.send(['RL.TABLE', '{not json']);
  c.send(['RL.TABLE', '[1,2,3]']);
  c.send(['RL.TABLE', JSON.stringify(t1.toJSON())]);
  c.send(['RL.TABLE', JSON.stringify({ ...t1.toJSON(), epoch: 9, partitions: [] })]);
  // RL.RECV from a connection that is not a replication stream is ignored too; PING proves the earlier ones sent nothing.
  c.send(['RL.RECV', '100']);
  assert.equal((await c.call(['PING'])).raw, '+PONG\r\n', 'no reply to RL.TABLE / RL.RECV: the next reply is PING\'s');
  assert.equal(a.view.epoch, 1, 'no table applied');
  assert.ok(a.view.owned.every((o) => o === 1), 'a still serves');
  assert.equal(await a.redis.set('k:1', 'x'), 'OK');
});

test('an older primary without RL.RECV / RL.TABLE (a rolling upgrade): the follower stops sending them, keeps its link, syncs, and a hand-over still finishes by RL.HANDOFF', async (t) => {
  const [a, b] = await startTestNodes(t, 'a', 'b');
  const byName = a.server.commands['byName'];
  for (const name of ['rl.recv', 'RL.RECV', 'rl.table', 'RL.TABLE']) byName.delete(name);
  const nodes = [a, b];
  a.apply(table(1, nodes, all(() => [[a, 'primary']]), all(() => 1)));
  for (let i = 0; i < 2000; i++) await a.redis.set(`k:${i}`, 'v'.repeat(100));
  const t2 = table(2, nodes, all(() => [[a, 'primary'], [b, 'learner']]), all(() => 1));
  for (const n of [a, b]) n.apply(t2);
  await waitFor('b synced every partition', () => new Set(b.reports.filter((r) => r.status === 'synced').map((r) => r.partition)).size === P, 30_000);
  assert.equal(b.replicator['links'].get(a.address)!['failures'], 0, 'the link to a never broke (an error reply would reset it)');
  const t3 = table(3, nodes, all(() => [[a, 'primary'], [b, 'backup']]), all(() => 1));
  for (const n of [a, b]) n.apply(t3);
  b.apply(table(4, nodes, all(() => [[b, 'primary'], [a, 'backup']]), all(() => 2))); // a never gets this table
  await waitFor('b serves every partition (a stopped on RL.HANDOFF)', () => b.view.owned.every((o) => o === 1));
  assert.equal(a.view.epoch, 3, 'a did not take the table (it does not know RL.TABLE)');
  assert.equal(await b.redis.get('k:1999'), 'v'.repeat(100));
});
