// Sync mode on the node side, over real sockets with hand-made tables (no coordinator): a write's reply waits for the
// in-sync backups; a backup that stops acknowledging is reported out of sync and the reply is released only once a
// table without it arrives; a primary replaced before its backups confirmed answers OUTCOMEUNKNOWN; min-in-sync
// refuses writes (NOREPLICAS); WAIT counts followers that acknowledged, as in Redis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { all, digest, primaryWithBackup, table, waitFor } from './replication-fixture.js';

const SYNC = { replication: 'sync' } as const;

/** Settles to 'ok', the error text, or 'pending' if nothing came within `ms`. */
async function outcome(p: Promise<unknown>, ms = 0): Promise<string> {
  const pending = Symbol('pending');
  const r = await Promise.race([p.then(() => 'ok', (e: Error) => e.message), new Promise((res) => setTimeout(() => res(pending), ms))]);
  return r === pending ? 'pending' : (r as string);
}

test('sync: a write is acknowledged only after the in-sync backup applied it; pipelined replies stay in order', async (t) => {
  const { a, b, t1 } = await primaryWithBackup(t, {}, SYNC);
  const p = t1.partitionOfKey('s:1');
  const offsetOf = (n: typeof a) => n.replicator.offsets().find((o) => o.partition === p)!.offset;
  for (let i = 0; i < 50; i++) {
    // Checked synchronously when the reply arrives: b applied the entry before a answered.
    await a.redis.set('s:1', `v${i}`).then(() => assert.equal(offsetOf(b), offsetOf(a), `write ${i}`));
  }
  const [, aOffset, , , , aDigest] = await digest(a, p);
  const [, bOffset, , , , bDigest] = await digest(b, p);
  assert.deepEqual([bOffset, bDigest], [aOffset, aDigest]);
  const pipe = a.redis.pipeline();
  for (let i = 0; i < 200; i++) pipe.set(`s:${i}`, `p${i}`).get(`s:${i}`).incr(`n:${i % 7}`);
  const replies = await pipe.exec();
  for (let i = 0; i < 200; i++) {
    assert.deepEqual(replies![i * 3], [null, 'OK']);
    assert.deepEqual(replies![i * 3 + 1], [null, `p${i}`]);
  }
  assert.deepEqual(replies!.slice(-7).map(([e]) => e), Array(7).fill(null));
  const info = String(await a.redis.call('INFO', 'replication'));
  assert.match(info, /connected_slaves:1/);
});

test('sync: a backup that stops acknowledging is reported out of sync; the reply is held until a table without it is saved', async (t) => {
  const { a, b, nodes, t1 } = await primaryWithBackup(t, {}, SYNC, { syncTimeoutMs: 200 });
  const p = t1.partitionOfKey('held');
  // The backup goes silent: its replication links close (as when the process dies) and stay closed.
  b.replicator.close();
  const write = a.redis.set('held', 'v1');
  await waitFor('out-of-sync request', () => a.outOfSync.some((o) => o.partition === p && o.members.includes(b.id)));
  assert.equal(await outcome(write, 100), 'pending', 'not acknowledged before the removal is saved');
  // The coordinator saved it: b is a learner in the next table (same term).
  const t2 = table(2, nodes, all(() => [[a, 'primary'], [b, 'learner']]), all(() => 1), SYNC);
  a.apply(t2);
  assert.equal(await outcome(write, 5000), 'ok');
  // Without in-sync backups, writes are acknowledged at once.
  assert.equal(await a.redis.set('held', 'v2'), 'OK');
  assert.equal(await a.redis.get('held'), 'v2');
});

test('sync: a backup whose replication connection closed is asked out at once, not after the sync timeout', async (t) => {
  // A timeout of a minute: the grace for a backup that is not following (a fifth of it) is 12 s, so a request within
  // the 8 s below comes from the closed connection.
  const { a, b, nodes, t1 } = await primaryWithBackup(t, {}, SYNC, { syncTimeoutMs: 60_000 });
  const p = t1.partitionOfKey('gone');
  const before = Date.now();
  b.replicator.close(); // its links close, as when the process is killed
  await waitFor('a sees the follower connection closed', async () => /connected_slaves:0/.test(String(await a.redis.call('INFO', 'replication'))));
  const write = a.redis.set('gone', 'v1');
  await waitFor('out-of-sync request', () => a.outOfSync.some((o) => o.partition === p && o.members.includes(b.id)), 8000);
  assert.ok(Date.now() - before < 12_000);
  assert.equal(await outcome(write, 50), 'pending', 'still held until the removal is saved');
  a.apply(table(2, nodes, all(() => [[a, 'primary'], [b, 'learner']]), all(() => 1), SYNC));
  assert.equal(await outcome(write, 5000), 'ok');
  const info = String(await a.redis.call('INFO', 'replication'));
  assert.match(info, /rl_isr_removals:1\r\n/);
  assert.match(info, /rl_out_of_sync_requests:1\r\n/);
});

test('sync: a primary replaced before its backup confirmed answers OUTCOMEUNKNOWN (never OK, never a redirect)', async (t) => {
  const { a, b, nodes } = await primaryWithBackup(t, {}, SYNC, { syncTimeoutMs: 60_000 });
  b.replicator.close();
  const write = a.redis.set('unknown', 'v1');
  assert.equal(await outcome(write, 100), 'pending');
  // Failover elsewhere (a was declared dead): b is primary at term 2, a holds nothing.
  const t2 = table(2, nodes, all(() => [[b, 'primary']]), all(() => 2), SYNC);
  a.apply(t2);
  const result = await outcome(write, 5000);
  assert.match(result, /^OUTCOMEUNKNOWN /);
  // The connection is still usable and in step.
  assert.match(String(await a.redis.ping()), /PONG/);
});

test('min-in-sync: writes are refused with NOREPLICAS while too few copies are in sync; reads still work', async (t) => {
  const { a, b, nodes } = await primaryWithBackup(t, {}, { replication: 'sync', minInSync: 2 });
  assert.equal(await a.redis.set('m', '1'), 'OK');
  const t2 = table(2, nodes, all(() => [[a, 'primary'], [b, 'learner']]), all(() => 1), { replication: 'sync', minInSync: 2 });
  a.apply(t2);
  await assert.rejects(a.redis.set('m', '2'), /^ReplyError: NOREPLICAS Not enough good replicas to write\.$/);
  assert.equal(await a.redis.get('m'), '1');
  const t3 = table(3, nodes, all(() => [[a, 'primary'], [b, 'backup']]), all(() => 1), { replication: 'sync', minInSync: 2 });
  a.apply(t3);
  assert.equal(await a.redis.set('m', '3'), 'OK');
});

test('WAIT: counts followers that acknowledged the connection\'s writes (async mode), times out with fewer, rejects garbage', async (t) => {
  const { a, b } = await primaryWithBackup(t, {});
  assert.equal(await a.redis.call('WAIT', '1', '0'), 1, 'k:1 was written by the fixture through this connection and b applied it');
  await a.redis.set('w', 'x');
  assert.equal(await a.redis.call('WAIT', '1', '2000'), 1);
  b.replicator.close();
  await a.redis.set('w', 'y');
  const started = Date.now();
  assert.equal(await a.redis.call('WAIT', '1', '150'), 0);
  assert.ok(Date.now() - started >= 140, 'waited for the timeout');
  await assert.rejects(a.redis.call('WAIT', 'x', '0'), /not an integer/);
  await assert.rejects(a.redis.call('WAIT', '1', '-1'), /timeout is negative/);
  await assert.rejects(a.redis.call('WAIT', '1'), /wrong number of arguments/);
});

test('sync: a backup taken out of the in-sync set while still following resumes at once and reports synced (to be put back)', async (t) => {
  const { a, b, nodes } = await primaryWithBackup(t, {}, SYNC);
  const before = b.reports.length;
  const t2 = table(2, nodes, all(() => [[a, 'primary'], [b, 'learner']]), all(() => 1), SYNC);
  a.apply(t2);
  b.apply(t2);
  await waitFor('b re-reports every partition synced', () => new Set(b.reports.slice(before).filter((r) => r.status === 'synced').map((r) => r.partition)).size === all(() => 0).length);
  // Put back; writes are held for it again and acknowledged.
  const t3 = table(3, nodes, all(() => [[a, 'primary'], [b, 'backup']]), all(() => 1), SYNC);
  a.apply(t3);
  b.apply(t3);
  assert.equal(await a.redis.set('back', '1'), 'OK');
  const p = t3.partitionOfKey('back');
  assert.deepEqual((await digest(b, p)).slice(1, 2), (await digest(a, p)).slice(1, 2));
});
