// The Redis-compatibility commands through a real 3-node cluster (coordinator + node processes) with ioredis's
// Cluster client and redis-cli -c: transactions on one slot, RENAME/COPY with hash tags, CROSSSLOT across slots,
// bits, LCS, INCRBYFLOAT, OBJECT, KEYS per node, COMMAND GETKEYS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { startThreeNodeCluster, type ThreeNodeCluster } from './node-helpers.js';

const exec = promisify(execFile);

let nodes: ThreeNodeCluster | undefined;
let ports: number[] = [];

before(async () => {
  nodes = await startThreeNodeCluster('compat-node');
  ports = nodes.ports;
});

after(() => nodes?.close());

function cluster(): Cluster {
  return new Cluster([{ host: '127.0.0.1', port: ports[0]! }], { redisOptions: { maxRetriesPerRequest: 3 } });
}

test('ioredis Cluster: MULTI/EXEC on one slot, WATCH aborts after a write, CROSSSLOT inside a transaction aborts it', async () => {
  const c = cluster();
  try {
    const res = await c.multi().set('{acct}:a', '10').incrby('{acct}:a', 5).get('{acct}:a').exec();
    assert.deepEqual(res, [[null, 'OK'], [null, 15], [null, '15']]);
    // WATCH + a write from another client: EXEC answers null (ioredis: exec() resolves null).
    const owner = await (async () => {
      for (const n of c.nodes('master')) {
        const r = new Redis({ port: n.options.port!, lazyConnect: true });
        await r.connect();
        const reply = await r.get('{acct}:a').catch((e: Error) => e);
        if (!(reply instanceof Error)) return r;
        r.disconnect();
      }
      throw new Error('no node serves {acct}:a');
    })();
    const other = new Redis({ port: owner.options.port! });
    try {
      assert.equal(await owner.watch('{acct}:a'), 'OK');
      await other.set('{acct}:a', '99');
      assert.equal(await owner.multi().incr('{acct}:a').exec(), null);
      assert.equal(await owner.get('{acct}:a'), '99');
      // Keys of two slots in one transaction: EXEC refuses it and nothing runs.
      // ({other}:b is MOVED while queueing on this node, or queued and refused by EXEC's slot check.)
      await assert.rejects(owner.multi().set('{acct}:a', '1').set('{other}:b', '2').exec(), /EXECABORT|CROSSSLOT/);
      assert.equal(await owner.get('{acct}:a'), '99');
    } finally {
      owner.disconnect();
      other.disconnect();
    }
  } finally {
    c.disconnect();
  }
});

test('ioredis Cluster: RENAME/COPY keep the TTL within a slot, CROSSSLOT across slots; bits, LCS, INCRBYFLOAT, OBJECT', async () => {
  const c = cluster();
  try {
    await c.set('{u1}:src', 'hello', 'EX', 1000);
    assert.equal(await c.rename('{u1}:src', '{u1}:dst'), 'OK');
    assert.ok((await c.ttl('{u1}:dst')) > 990);
    assert.equal(await c.exists('{u1}:src'), 0);
    assert.equal(await c.copy('{u1}:dst', '{u1}:copy'), 1);
    await assert.rejects(c.rename('{u1}:dst', '{u2}:dst'), /CROSSSLOT/);
    assert.equal(await c.setbit('{u1}:bits', 7, 1), 0);
    assert.equal(await c.getbit('{u1}:bits', 7), 1);
    assert.equal(await c.bitcount('{u1}:bits'), 1);
    assert.equal(await c.bitpos('{u1}:bits', 1), 7);
    await c.set('{u1}:x', 'ohmytext');
    await c.set('{u1}:y', 'mynewtext');
    assert.equal(await c.call('LCS', '{u1}:x', '{u1}:y'), 'mytext');
    await c.set('{u1}:f', '0.1');
    assert.equal(await c.incrbyfloat('{u1}:f', '0.2'), '0.3');
    assert.equal(await c.object('ENCODING', '{u1}:x'), 'embstr');
  } finally {
    c.disconnect();
  }
});

test('redis-cli -c: RENAME follows MOVED; KEYS and COMMAND GETKEYS answer per node', async () => {
  const cli = (...args: string[]) => exec('redis-cli', ['-c', '-p', String(ports[0]), ...args]).then((r) => r.stdout.trim());
  assert.equal(await cli('SET', '{cli}:a', 'v'), 'OK');
  assert.equal(await cli('RENAME', '{cli}:a', '{cli}:b'), 'OK');
  assert.equal(await cli('GET', '{cli}:b'), 'v');
  assert.equal(await cli('COMMAND', 'GETKEYS', 'MSET', 'k1', 'v1', 'k2', 'v2'), 'k1\nk2');
  let found = 0;
  for (const port of ports) {
    const keys = (await exec('redis-cli', ['-p', String(port), 'KEYS', '{cli}:*'])).stdout.trim();
    if (keys === '{cli}:b') found++;
  }
  assert.equal(found, 1, 'exactly the owner lists the key');
});
