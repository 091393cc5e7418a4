// Scenario: hashes, sets and sorted sets through a 3-node cluster of real processes, written with ioredis (Cluster
// mode) and redis-cli -c, survive a node joining and a node leaving gracefully: after each change every collection
// reads back whole (types, contents, scores, TTLs) from the new owners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startScenario } from './dataplane-helpers.js';

const N = 150;

function redisCli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-c', '-p', String(port), ...args], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('collections written with ioredis and redis-cli survive a join and a graceful leave', { timeout: 150_000 }, async (t) => {
  const s = await startScenario(t, { nodes: 3, replicas: 2, partitions: 32 });
  const io = s.ioCluster;
  const model = new Map<string, unknown>();
  for (let i = 0; i < N; i++) {
    await io.hset(`h:${i}`, 'a', String(i), 'b', `v${i}`);
    await io.hincrby(`h:${i}`, 'n', i);
    model.set(`h:${i}`, { a: String(i), b: `v${i}`, n: String(i) });
    await io.sadd(`s:${i}`, 'x', 'y', String(i));
    await io.srem(`s:${i}`, 'y');
    model.set(`s:${i}`, ['x', String(i)].sort());
    await io.zadd(`z:${i}`, 1, 'one', 2.5, 'two', i, 'n');
    await io.zincrby(`z:${i}`, 1, 'one');
    model.set(`z:${i}`, [['one', '2'], ['two', '2.5'], ['n', String(i)]].sort((a, b) => Number(a[1]) - Number(b[1]) || (a[0]! < b[0]! ? -1 : 1)).flat());
  }
  await io.pexpire('h:0', 600_000);
  // redis-cli follows MOVED (-c) like any Redis Cluster client.
  const port = s.cluster.running[0]!.port;
  assert.equal(redisCli(port, 'HSET', 'cli:h', 'f', 'v'), '1');
  assert.equal(redisCli(port, 'SADD', 'cli:s', 'm'), '1');
  assert.equal(redisCli(port, 'ZADD', 'cli:z', '3', 'm'), '1');
  assert.equal(redisCli(port, 'TYPE', 'cli:z'), 'zset');

  const check = async (when: string): Promise<void> => {
    for (let i = 0; i < N; i++) {
      assert.deepEqual(await io.hgetall(`h:${i}`), model.get(`h:${i}`), `${when}: h:${i}`);
      assert.deepEqual((await io.smembers(`s:${i}`)).sort(), model.get(`s:${i}`), `${when}: s:${i}`);
      assert.deepEqual(await io.zrange(`z:${i}`, '0', '-1', 'WITHSCORES'), model.get(`z:${i}`), `${when}: z:${i}`);
    }
    const ttl = await io.pttl('h:0');
    assert.ok(ttl > 300_000 && ttl <= 600_000, `${when}: the hash's TTL travelled (pttl ${ttl})`);
    assert.equal(redisCli(s.cluster.running[0]!.port, 'HGET', 'cli:h', 'f'), 'v', when);
    assert.equal(redisCli(s.cluster.running[0]!.port, 'ZSCORE', 'cli:z', 'm'), '3', when);
    assert.equal(await io.type('cli:s'), 'set', when);
  };
  await check('before');
  await s.cluster.addNode('node-4');
  t.diagnostic('node-4 joined');
  await check('after a join');
  assert.equal(await s.cluster.stopNode('node-2'), 0, 'node-2 exits 0 on SIGTERM');
  await s.cluster.waitStable();
  t.diagnostic('node-2 left');
  await check('after a graceful leave');
});
