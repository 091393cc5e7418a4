// Node leases (contract C5) with real processes, the cost side: a coordinator outage longer than the lease makes every
// node in the default `strict` lease mode answer -TRYAGAIN for its keys (reads included) until heartbeats are
// answered again, then they serve on their own with no restart; a node with `--lease-mode off` serves throughout.
// Then a kill -9 + restart of the coordinator (file mode): the same, for as long as the restart outlasts the lease.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster, waitFor } from '../src/testing/local-cluster.js';
import { RawRespClient } from '../src/testing/resp-raw.js';
import { CLUSTER, LEASE_REFUSAL, callUntilServed, keyIn, primaryName, raw } from './lease-fixture.js';

test('the coordinator stopped longer than the lease: every strict node answers TRYAGAIN (reads, backup reads, EXEC, KEYS); after SIGCONT all serve again without a restart', { timeout: 90_000 }, async (t) => {
  const cluster = await LocalCluster.start({ nodes: 2, ...CLUSTER });
  t.after(() => cluster.close());
  // A fourth node that opts out of the lease keeps serving through the outage (the `off` trade-off).
  const relaxed = await cluster.addNode('node-off', ['--lease-mode', 'off']);
  const P = CLUSTER.partitions;
  const table = await cluster.table();
  const membersBefore = (await cluster.members()).members;
  const pids = new Map(cluster.running.map((n) => [n.name, n.proc.pid]));

  // One key per partition, written through its primary.
  const keys = Array.from({ length: P }, (_, p) => keyIn(p, P, 'outage'));
  const conns = new Map<string, RawRespClient>();
  for (const n of cluster.running) conns.set(n.name, await raw(t, n.port));
  for (let p = 0; p < P; p++) {
    const c = conns.get(primaryName(cluster, table, p))!;
    assert.equal((await callUntilServed(c, ['SET', keys[p]!, `v${p}`], `SET ${keys[p]}`)).raw, '+OK\r\n');
  }
  const strictPrimary = (name: string): number => table.primariesOf(cluster.node(name).id)[0]!;
  const strictNames = ['node-1', 'node-2'].filter((n) => table.primariesOf(cluster.node(n).id).length > 0);
  assert.equal(strictNames.length, 2, 'both strict nodes are primaries of some partitions');
  // A backup copy on a strict node, read over a READONLY connection.
  const backupP = Array.from({ length: P }, (_, p) => p).find((p) => {
    const b = table.servingOf(p).slice(1).map((id) => cluster.nodeById(id)?.name);
    return b.some((n) => n !== undefined && n !== 'node-off');
  })!;
  const backupName = table.servingOf(backupP).slice(1).map((id) => cluster.nodeById(id)!.name).find((n) => n !== 'node-off')!;
  const ro = await raw(t, cluster.node(backupName).port);
  assert.equal((await ro.call(['READONLY'])).raw, '+OK\r\n');
  await callUntilServed(ro, ['GET', keys[backupP]!], 'a READONLY read from a backup');

  cluster.coordinator.signal('SIGSTOP');
  const stoppedAt = performance.now();
  t.after(() => cluster.coordinator.signal('SIGCONT'));
  for (const name of strictNames) {
    const p = strictPrimary(name);
    await waitFor(`${name} to refuse GET once its lease lapsed`, async () => LEASE_REFUSAL.test((await conns.get(name)!.call(['GET', keys[p]!])).raw), 15_000, 50);
  }
  t.diagnostic(`every strict node refused after ${(performance.now() - stoppedAt).toFixed(0)} ms (lease 1600 ms)`);
  const name = strictNames[0]!;
  const c = conns.get(name)!;
  const p = strictPrimary(name);
  assert.match((await c.call(['SET', keys[p]!, 'during-outage'])).raw, LEASE_REFUSAL, 'writes are refused');
  assert.match((await c.call(['KEYS', '*'])).raw, LEASE_REFUSAL, 'keyless commands over the served partitions too');
  assert.equal((await c.call(['MULTI'])).raw, '+OK\r\n');
  assert.equal((await c.call(['GET', keys[p]!])).raw, '+QUEUED\r\n');
  assert.match((await c.call(['EXEC'])).raw, LEASE_REFUSAL, 'EXEC is refused as a whole');
  assert.match((await ro.call(['GET', keys[backupP]!])).raw, LEASE_REFUSAL, 'READONLY reads from a backup need the lease too');
  assert.equal((await c.call(['PING'])).raw, '+PONG\r\n', 'commands about no key still work');
  const info = await cluster.info(name, 'cluster');
  assert.equal(info.get('ringleader_lease'), 'lapsed');
  assert.ok(Number(info.get('ringleader_lease_refused')) >= 4);
  // The node without a lease still serves its keys.
  const offP = table.primariesOf(relaxed.id)[0];
  assert.ok(offP !== undefined, 'node-off is primary of some partition');
  assert.equal((await conns.get('node-off')!.call(['GET', keys[offP]!])).raw, `$${`v${offP}`.length}\r\nv${offP}\r\n`, '--lease-mode off serves on');
  assert.equal((await cluster.info('node-off', 'cluster')).get('ringleader_lease'), 'off');

  cluster.coordinator.signal('SIGCONT');
  const resumedAt = performance.now();
  for (let q = 0; q < P; q++) {
    const owner = primaryName(cluster, table, q);
    const r = await callUntilServed(conns.get(owner)!, ['GET', keys[q]!], `${owner} serving again`);
    assert.equal(r.raw, `$${`v${q}`.length}\r\nv${q}\r\n`, `partition ${q} on ${owner}: the value written before the outage`);
  }
  t.diagnostic(`all partitions served again ${(performance.now() - resumedAt).toFixed(0)} ms after SIGCONT`);
  assert.equal((await ro.call(['GET', keys[backupP]!])).raw.startsWith('$'), true, 'backup reads resume');
  // Nobody restarted or re-joined: same processes, same incarnations.
  for (const n of cluster.running) assert.equal(n.proc.pid, pids.get(n.name), `${n.name} was not restarted`);
  const membersAfter = (await cluster.members()).members;
  for (const m of membersBefore) assert.equal(membersAfter.find((x) => x.id === m.id)?.incarnation, m.incarnation, `${m.name} kept its incarnation`);

  // kill -9 and restart of the coordinator (file mode, same data dir): nodes refuse while their leases are lapsed
  // (if the restart outlasts the lease) and serve again on their own once it answers heartbeats.
  const watched = conns.get(name)!;
  const refusedAt: number[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const r = await watched.call(['GET', keys[p]!]).catch(() => null);
      if (r !== null && LEASE_REFUSAL.test(r.raw)) refusedAt.push(performance.now());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    const restartAt = performance.now();
    await cluster.restartCoordinator('kill9');
    const restartMs = performance.now() - restartAt;
    for (let q = 0; q < P; q++) {
      const owner = primaryName(cluster, table, q);
      const r = await callUntilServed(conns.get(owner)!, ['GET', keys[q]!], `${owner} serving after the coordinator restart`);
      assert.equal(r.raw, `$${`v${q}`.length}\r\nv${q}\r\n`, `partition ${q} on ${owner} after the coordinator restart`);
    }
    const window = refusedAt.length === 0 ? 0 : refusedAt[refusedAt.length - 1]! - refusedAt[0]!;
    t.diagnostic(`coordinator restart took ${restartMs.toFixed(0)} ms; ${name} refused by its lease for ~${window.toFixed(0)} ms (${refusedAt.length} polls)`);
  } finally {
    polling = false;
    await poller;
  }
  for (const n of cluster.running) assert.equal(n.proc.pid, pids.get(n.name), `${n.name} was not restarted`);
});
