import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { startThreeNodeCluster, waitUntil, type Proc, type ThreeNodeCluster } from './node-helpers.js';

const exec = promisify(execFile);

let nodes: ThreeNodeCluster | undefined;
let procs: Proc[] = [];
let ports: number[] = [];
let ids: string[] = [];

before(async () => {
  nodes = await startThreeNodeCluster('it-node');
  ({ procs, ports, ids } = nodes);
});

after(() => nodes?.close());

test('CLUSTER SLOTS, NODES and SHARDS agree on node ids and cover every slot', async () => {
  const r = new Redis({ port: ports[0]! });
  try {
    const slots = (await r.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, string], ...unknown[]]>;
    let covered = 0;
    const slotIds = new Set<string>();
    for (const [first, last, primary] of slots) {
      covered += last - first + 1;
      slotIds.add(primary[2]);
      assert.match(primary[2], /^[0-9a-f]{40}$/);
    }
    assert.equal(covered, 16384);
    const nodes = String(await r.call('CLUSTER', 'NODES'));
    assert.ok(nodes.endsWith('\n'));
    const nodeIds = new Set(nodes.trim().split('\n').map((l) => l.split(' ')[0]!));
    assert.deepEqual([...nodeIds].sort(), [...ids].sort());
    for (const id of slotIds) assert.ok(nodeIds.has(id));
    assert.equal(String(await r.call('CLUSTER', 'MYID')), ids[0]);
    const shards = (await r.call('CLUSTER', 'SHARDS')) as unknown[];
    assert.ok(shards.length >= 3);
  } finally {
    r.disconnect();
  }
});

test('a node answers MOVED for a key it does not own, and CROSSSLOT for keys in different slots', async () => {
  const r = new Redis({ port: ports[0]! });
  try {
    let moved = 0;
    for (let i = 0; i < 50; i++) {
      try {
        await r.get(`probe:${i}`);
      } catch (err) {
        assert.match((err as Error).message, /^MOVED \d+ 127\.0\.0\.1:\d+$/);
        moved++;
      }
    }
    assert.ok(moved > 0 && moved < 50, `some keys are elsewhere (${moved}/50)`);
    await assert.rejects(r.mget('a', 'b', 'c'), /CROSSSLOT/);
  } finally {
    r.disconnect();
  }
});

test('ioredis Cluster writes and reads 10,000 keys, with hash-tagged MSET/MGET', async () => {
  const c = new Cluster([{ host: '127.0.0.1', port: ports[0]! }], { enableReadyCheck: true });
  try {
    const keys = Array.from({ length: 10_000 }, (_, i) => `key:${i}`);
    for (let i = 0; i < keys.length; i += 500) {
      await Promise.all(keys.slice(i, i + 500).map((k) => c.set(k, `v-${k}`)));
    }
    for (let i = 0; i < keys.length; i += 500) {
      const vals = await Promise.all(keys.slice(i, i + 500).map((k) => c.get(k)));
      vals.forEach((v, j) => assert.equal(v, `v-${keys[i + j]}`));
    }
    for (let u = 0; u < 50; u++) {
      await c.mset(`{user${u}}:a`, `a${u}`, `{user${u}}:b`, `b${u}`);
      assert.deepEqual(await c.mget(`{user${u}}:a`, `{user${u}}:b`, `{user${u}}:c`), [`a${u}`, `b${u}`, null]);
    }
    // Keys really are spread: every node holds some of them.
    const sizes = await Promise.all(ports.map(async (port) => {
      const r = new Redis({ port });
      try {
        return Number(await r.dbsize());
      } finally {
        r.disconnect();
      }
    }));
    assert.equal(sizes.reduce((a, b) => a + b, 0), 10_000 + 100);
    for (const s of sizes) assert.ok(s > 1000, `sizes ${sizes.join(',')}`);
  } finally {
    c.disconnect();
  }
});

test('redis-cli -c follows MOVED for SET and GET', async () => {
  for (let i = 0; i < 10; i++) {
    const key = `cli:${i}`;
    const set = await exec('redis-cli', ['-c', '-p', String(ports[i % 3]), 'SET', key, `val${i}`]);
    assert.equal(set.stdout.trim(), 'OK');
    const get = await exec('redis-cli', ['-c', '-p', String(ports[(i + 1) % 3]), 'GET', key]);
    assert.equal(get.stdout.trim(), `val${i}`);
  }
});

test('redis-benchmark --cluster -t set,get,incr -n 20000 finishes without errors', async () => {
  const { stdout, stderr } = await exec('redis-benchmark', ['--cluster', '-p', String(ports[0]), '-t', 'set,get,incr', '-n', '20000', '-q'], { timeout: 120_000 });
  const out = stdout + stderr;
  assert.doesNotMatch(out, /error|ERR/i, out);
  for (const t of ['SET', 'GET', 'INCR']) assert.match(out, new RegExp(`${t}: [\\d.]+ requests per second`), out);
});

test('SIGTERM: a node leaves gracefully and exits 0; the others take its slots and clients keep working', async () => {
  const leaving = procs[2]!;
  const exited = new Promise<number | null>((resolve) => leaving.child.on('exit', (code) => resolve(code)));
  leaving.child.kill('SIGTERM');
  assert.equal(await exited, 0);
  await waitUntil('the remaining nodes to apply a 2-member table', async () => {
    for (const port of ports.slice(0, 2)) {
      const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await r.connect();
        const nodes = String(await r.call('CLUSTER', 'NODES')).trim().split('\n');
        const info = String(await r.call('CLUSTER', 'INFO'));
        if (nodes.length !== 2 || !info.includes('cluster_state:ok') || nodes.some((l) => l.startsWith(ids[2]!))) return false;
      } finally {
        r.disconnect();
      }
    }
    return true;
  }, 30_000);
  const c = new Cluster([{ host: '127.0.0.1', port: ports[0]! }]);
  try {
    for (let i = 0; i < 1000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => c.set(`after:${i + j}`, String(i + j))));
    }
    const vals = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.get(`after:${i}`)));
    vals.forEach((v, i) => assert.equal(v, String(i)));
  } finally {
    c.disconnect();
  }
});
