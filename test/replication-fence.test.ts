// RL.FENCE on real sockets (in-process nodes, hand-made tables): a fenced copy stops following its primary and
// ignores older tables until the table of the fence's term arrives; a fenced primary stops serving; bad arguments
// get clear errors over ioredis and redis-cli. The coordinator's use of it is tested in src/coordinator (fake
// fencer) and end to end in test/dataplane-promotion.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { all, digest, P, startTestNode, startTestNodes, table, waitFor } from './replication-fixture.js';

const exec = promisify(execFile);
const portOf = (address: string): string => address.slice(address.lastIndexOf(':') + 1);

test('a fenced backup ignores its old primary and older tables, then serves under the table of the new term', async (t) => {
  const [a, b, c] = await startTestNodes(t, 'a', 'b', 'c');
  const nodes = [a, b, c];
  const t1 = table(1, nodes, all(() => [[a, 'primary'], [b, 'backup']]), all(() => 1));
  for (const n of nodes) n.apply(t1);
  const key = (p: number, i: number): string => {
    for (let j = 0; ; j++) if (t1.partitionOfKey(`k${i}:${j}`) === p) return `k${i}:${j}`;
  };
  for (let i = 0; i < 20; i++) await a.redis.set(key(0, i), `v${i}`);
  await waitFor('b caught up on p0', async () => (await digest(b, 0))[1] === 20 && (await digest(b, 0))[3] === 1);

  assert.deepEqual(await b.redis.call('RL.FENCE', 0, 2), [1, 20, 1], 'the copy answers its (term, offset, complete)');
  assert.deepEqual(await c.redis.call('RL.FENCE', 0, 2), [0, 0, 0], 'a node without a copy');
  // The old primary keeps writing (it does not know yet): the fenced copy does not take it.
  for (let i = 20; i < 30; i++) await a.redis.set(key(0, i), `v${i}`);
  b.apply(t1); // an older-term table again (e.g. from a peer): no re-link
  for (let i = 30; i < 35; i++) await a.redis.set(key(0, i), `v${i}`);
  await a.redis.set(key(1, 0), 'other'); // an unfenced partition still follows
  await waitFor('p1 still streams to b', async () => (await digest(b, 1))[1] === 1);
  assert.equal((await digest(b, 0))[1], 20, 'no entry of the old term after the fence');
  assert.deepEqual(await b.redis.call('RL.FENCE', 0, 2), [1, 20, 1], 'fencing again answers the same');
  assert.deepEqual(await b.redis.call('RL.FENCE', 0, 1), [1, 20, 1], 'an older fence changes nothing');

  // The table of the fence's term (b promoted): b serves what it had; a follows it and is rebuilt from it.
  const t2 = table(2, nodes, all((p) => (p === 0 ? [[b, 'primary'], [a, 'backup']] : [[a, 'primary'], [b, 'backup']])), all((p) => (p === 0 ? 2 : 1)));
  for (const n of nodes) n.apply(t2);
  await waitFor('b serves p0', () => b.view.owned[0] === 1);
  assert.equal(await b.redis.get(key(0, 19)), 'v19');
  assert.equal(await b.redis.get(key(0, 25)), null, 'written by the replaced primary after the fence: not on the new one');
  await b.redis.set(key(0, 99), 'new');
  await waitFor('a follows b', async () => (await digest(a, 0))[5] === (await digest(b, 0))[5]);
  assert.equal((await digest(a, 0))[0], 2);
  assert.deepEqual(await b.redis.call('RL.FENCE', 0, 2), [2, 21, 1], 'a fence at a term the node already applied changes nothing');
});

test('a fenced primary stops serving (TRYAGAIN) until the new table', async (t) => {
  const [a, b] = await startTestNodes(t, 'a', ['b', { handoverTimeoutMs: 60_000 }]);
  const nodes = [a, b];
  const t1 = table(1, nodes, all(() => [[a, 'primary'], [b, 'backup']]), all(() => 1));
  a.apply(t1);
  b.apply(t1);
  const k0 = (() => {
    for (let j = 0; ; j++) if (t1.partitionOfKey(`x${j}`) === 0) return `x${j}`;
  })();
  await a.redis.set(k0, 'one');
  await waitFor('b has it', async () => (await digest(b, 0))[1] === 1);
  assert.deepEqual(await a.redis.call('RL.FENCE', 0, 2), [1, 1, 1]);
  await assert.rejects(a.redis.set(k0, 'two'), /TRYAGAIN/, 'a fenced primary refuses writes');
  await assert.rejects(a.redis.get(k0), /TRYAGAIN/, 'and reads');
  a.apply(t1); // the old table again: still not serving
  await assert.rejects(a.redis.get(k0), /TRYAGAIN/);
  assert.equal(a.view.owned[1], 1, 'other partitions are served');
  // The table of the new term names b: a follows it.
  const t2 = table(2, nodes, all((p) => (p === 0 ? [[b, 'primary'], [a, 'backup']] : [[a, 'primary'], [b, 'backup']])), all((p) => (p === 0 ? 2 : 1)));
  b.apply(t2);
  a.apply(t2);
  await waitFor('b serves p0', () => b.view.owned[0] === 1);
  assert.equal(await b.redis.get(k0), 'one');
  await waitFor('a redirects to b once it follows it', async () => /MOVED/.test(await a.redis.get(k0).catch((e: Error) => e.message) ?? ''));
});

test('RL.FENCE with bad arguments: clear errors over ioredis and redis-cli, nothing fenced', async (t) => {
  const a = await startTestNode('a');
  t.after(() => a.close());
  a.apply(table(1, [a], all(() => [[a, 'primary']]), all(() => 1)));
  const bad: Array<[unknown[], RegExp]> = [
    [[], /wrong number of arguments/],
    [[0], /wrong number of arguments/],
    [[0, 1, 2], /wrong number of arguments/],
    [['x', 1], new RegExp(`partition must be an integer in \\[0, ${P - 1}\\]`)],
    [[P, 1], new RegExp(`partition must be an integer in \\[0, ${P - 1}\\]`)],
    [[-1, 1], /partition must be an integer/],
    [[0, 0], /term must be a positive integer/],
    [[0, -2], /term must be a positive integer/],
    [[0, '1.5'], /term must be a positive integer/],
    [[0, '99999999999999999999'], /term must be a positive integer/],
    [[0, ''], /term must be a positive integer/],
  ];
  for (const [args, re] of bad) await assert.rejects(a.redis.call('RL.FENCE', ...(args as string[])), re, `RL.FENCE ${args.join(' ')}`);
  assert.equal(a.view.owned[0], 1, 'still serving');
  const cli = await exec('redis-cli', ['-p', portOf(a.address), 'RL.FENCE', '0', 'nope']);
  assert.match(cli.stdout, /ERR .*term must be a positive integer/);
  const ok = await exec('redis-cli', ['-p', portOf(a.address), 'RL.FENCE', '3', '1']);
  assert.equal(ok.stdout.trim(), '1\n0\n1', 'an older-or-equal term: the position, nothing fenced');
  assert.equal(a.view.owned[3], 1);
});
