// A double failure (both copies of some partitions die at once), with real processes: those partitions become
// unavailable (CLUSTERDOWN), never silently empty, while every other partition keeps serving every acknowledged write;
// `ringleader recreate-lost` is the operator's way to accept the loss (the keys then read as missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { LocalCluster } from '../src/testing/local-cluster.js';
import { keySlot } from '../src/hashing/index.js';
import { partitionOfSlot } from '../src/partitioning/index.js';

const P = 8;

async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out };
}

test('both copies die: their partitions answer CLUSTERDOWN (not nil) until recreate-lost; the others keep every acknowledged write', { timeout: 120_000 }, async (t) => {
  const cluster = await LocalCluster.start({ nodes: 3, partitions: P, replicas: 2 });
  t.after(() => cluster.close());
  const table = await cluster.waitStable();
  const [a, b, c] = cluster.nodes.map((n) => n.name) as [string, string, string];
  const idA = cluster.node(a).id;
  const idB = cluster.node(b).id;
  const lost = [...Array(P).keys()].filter((p) => table.copiesOf(p).every((x) => x.member === idA || x.member === idB));
  assert.ok(lost.length > 0 && lost.length < P, `some but not all partitions live only on ${a} and ${b}: ${lost}`);

  // Acknowledged writes on every partition, through each key's primary.
  const keys = Array.from({ length: 400 }, (_, i) => `k${i}`);
  const partitionOf = (k: string) => partitionOfSlot(keySlot(k), P);
  for (const k of keys) {
    const primary = cluster.nodeById(table.primaryOf(partitionOf(k))!)!;
    assert.equal(await cluster.call(primary.name, 'SET', k, `v-${k}`), 'OK');
  }

  await Promise.all([cluster.kill9(a), cluster.kill9(b)]);
  await cluster.waitFor('lost partitions without copies, the rest served by the survivor', async () => {
    const t2 = await cluster.table();
    return [...Array(P).keys()].every((p) => (lost.includes(p) ? t2.copiesOf(p).length === 0 : t2.primaryOf(p) === cluster.node(c).id));
  });
  const after = await cluster.table();
  for (const p of lost) assert.ok(after.termOf(p) >= table.termOf(p) && after.termOf(p) > 0, 'a lost partition keeps a term (one failover may have run between the two deaths)');

  const survivor = cluster.redis(c);
  for (const k of keys) {
    if (lost.includes(partitionOf(k))) await assert.rejects(survivor.get(k), /CLUSTERDOWN/, `${k}: unavailable, not nil`);
    else assert.equal(await survivor.get(k), `v-${k}`, `${k} survived on ${c}`);
  }

  const res = await cli(['recreate-lost', '--coordinator', cluster.coordinatorUrl, '--json']);
  assert.equal(res.code, 0, res.out);
  assert.deepEqual((JSON.parse(res.out) as { partitions: number[] }).partitions, lost);
  await cluster.waitFor('lost partitions re-created on the survivor', async () => {
    const t3 = await cluster.table();
    return lost.every((p) => t3.primaryOf(p) === cluster.node(c).id);
  });
  await cluster.waitFor('the survivor applied the table', async () => (await survivor.get(keys.find((k) => lost.includes(partitionOf(k)))!).then(() => true, () => false)));
  for (const k of keys) {
    if (lost.includes(partitionOf(k))) assert.equal(await survivor.get(k), null, `${k}: re-created empty`);
    else assert.equal(await survivor.get(k), `v-${k}`);
  }
  const again = await cli(['recreate-lost', '--coordinator', cluster.coordinatorUrl]);
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /no partition is lost/);
});
