// Embedded mode: Ringleader.embed() starts a node in this process that joins the cluster; the client reads keys of
// partitions that node owns from local memory (counted as local hits) and everything else over the network, with the
// same values either way.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { startNode, type RunningNode } from '../src/node/index.js';
import { Ringleader } from '../src/index.js';
import { keySlot } from '../src/hashing/slot.js';
import { CoordinatorClient } from '../src/control/index.js';
import { startCopyReporter, type CopyReporter } from '../src/testing/copy-reporter.js';

let coord: RunningCoordinator;
let remote: RunningNode;
let embedded: Ringleader | null = null;
let reporter: CopyReporter | null = null;

before(async () => {
  coord = await startCoordinator({ port: 0, planDebounceMs: 20, placement: { partitionCount: 64, replicas: 1 } });
  remote = await startNode({ name: 'remote-1', coordinators: [coord.url], server: { port: 0 } });
  // The nodes do not report their copies yet: report for them so the embedded node's learners take over their
  // partitions (this test is about local reads, not about the data of a hand-over: keys are written afterwards).
  reporter = startCopyReporter(new CoordinatorClient({ coordinators: [coord.url] }), () => [remote.id, ...(embedded?.embeddedNode ? [embedded.embeddedNode.id] : [])]);
});

after(async () => {
  reporter?.stop();
  await embedded?.close();
  await remote?.close();
  await coord?.close();
});

test('embed() joins a node in-process and serves locally owned keys without a network hop', async () => {
  embedded = await Ringleader.embed({ coordinator: coord.url, port: 0, name: 'app-1' });
  const node = embedded.embeddedNode!;
  // Wait until the table has both members and the local node applied it.
  const end = Date.now() + 10_000;
  while (!(embedded.table && embedded.table.members.length === 2 && node.view.epoch >= embedded.table.epoch && node.view.owned.some((o) => o === 1))) {
    assert.ok(Date.now() < end, 'embedded node never owned partitions');
    await new Promise((r) => setTimeout(r, 20));
  }
  const keys = Array.from({ length: 200 }, (_, i) => `user:${i}:é`);
  for (const k of keys) assert.equal(await embedded.set(k, `v-${k}`), true);
  await embedded.set('bin', Buffer.from([0, 200, 255]));
  const local = embedded.localStore!;
  const before = local.hits;
  const values = await Promise.all(keys.map((k) => embedded!.get(k)));
  assert.deepEqual(values, keys.map((k) => `v-${k}`));
  const ownedHere = keys.filter((k) => node.view.owned[node.view.partitionOfSlot(keySlot(k))] === 1).length;
  assert.ok(ownedHere > 0 && ownedHere < keys.length, `keys split across both nodes (${ownedHere} local)`);
  assert.equal(local.hits - before, ownedHere, 'exactly the locally owned keys were served locally');
  assert.equal(await embedded.get('missing-key'), null);
  const binLocal = node.view.owned[node.view.partitionOfSlot(keySlot('bin'))] === 1;
  assert.deepEqual(await embedded.getBuffer('bin'), Buffer.from([0, 200, 255]), `binary value (${binLocal ? 'local' : 'remote'})`);
  await embedded.set('ttl-key', 'x', { ttlMs: 30_000 });
  const ttl = await embedded.ttl('ttl-key');
  assert.ok(ttl > 25_000 && ttl <= 30_000);

  // A plain network client sees the same data.
  const plain = await Ringleader.connect({ coordinators: [coord.url] });
  try {
    assert.deepEqual(await plain.mget(keys), values);
  } finally {
    plain.close();
  }
});

test('embed() refuses bad options with a TypeError naming the option', async () => {
  await assert.rejects(Ringleader.embed({ coordinator: [], port: 0 }), /coordinator/);
  await assert.rejects(Ringleader.embed({ coordinator: coord.url, port: -1 }), /port/);
});
