// Node leases (contract C5) with real processes: a node answers nothing about its partitions' keys, reads included,
// once the coordinator has not answered a heartbeat for the lease (the dead deadline minus a margin). So a primary
// paused past the dead deadline and failed over never serves, after SIGCONT, a value the new primary has overwritten
// nor acknowledges a write the new primary never sees; and a coordinator outage longer than the lease makes every
// (strict) node answer -TRYAGAIN until heartbeats are answered again, with no restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../src/hashing/index.js';
import { partitionOfSlot } from '../src/partitioning/index.js';
import { LocalCluster, waitFor, type TableView } from '../src/testing/local-cluster.js';
import { RawRespClient, type RawReply } from '../src/testing/resp-raw.js';
import { TcpProxy } from '../src/testing/tcp-proxy.js';

// Heartbeats every 250 ms, dead after 2000 ms: the coordinator's lease is 2000 − max(200, 400) = 1600 ms.
const CLUSTER = { partitions: 16, replicas: 2, heartbeatMs: 250, suspectAfterMs: 1000, deadAfterMs: 2000 } as const;
const LEASE_REFUSAL = /^-TRYAGAIN lease expired: no contact with the coordinator\r\n$/;

/** A key of partition p (P partitions). */
function keyIn(p: number, P: number, prefix: string): string {
  for (let i = 0; ; i++) {
    const k = `${prefix}:${i}`;
    if (partitionOfSlot(keySlot(k), P) === p) return k;
  }
}

const show = (r: RawReply): string => JSON.stringify(r.raw.slice(0, 120));

/** Opens a raw connection to a node's RESP port, closed after the test. */
async function raw(t: { after: (fn: () => void) => void }, port: number): Promise<RawRespClient> {
  const c = await RawRespClient.connect(port);
  t.after(() => c.close());
  return c;
}

/** Sends a command until the reply is not a transient refusal (TRYAGAIN, CLUSTERDOWN, MOVED during a change); returns it. */
async function callUntilServed(c: RawRespClient, args: string[], what: string): Promise<RawReply> {
  let last: RawReply | null = null;
  await waitFor(what, async () => {
    last = await c.call(args);
    return !/^-(TRYAGAIN|CLUSTERDOWN|MOVED)/.test(last.raw);
  }, 20_000, 50);
  return last!;
}

function primaryName(cluster: LocalCluster, table: TableView, p: number): string {
  const id = table.primaryOf(p);
  const n = id === undefined ? undefined : cluster.nodeById(id);
  assert.ok(n !== undefined, `partition ${p} has a primary that is a known node (${id})`);
  return n.name;
}

test('a primary paused past the dead deadline and failed over: after SIGCONT it refuses reads and writes of those partitions, never serving an overwritten value', { timeout: 90_000 }, async (t) => {
  const cluster = await LocalCluster.start({ nodes: 3, ...CLUSTER });
  t.after(() => cluster.close());
  const P = CLUSTER.partitions;
  const victim = cluster.node('node-1');
  const before = await cluster.table();
  const p = before.primariesOf(victim.id)[0];
  assert.ok(p !== undefined, 'node-1 is primary of some partition');
  const key = keyIn(p, P, 'lease');
  const old = await raw(t, victim.port);
  assert.equal((await callUntilServed(old, ['SET', key, 'old'], 'SET via node-1')).raw, '+OK\r\n');
  assert.equal((await old.call(['GET', key])).raw, '$3\r\nold\r\n');
  // A second connection, opened now, whose commands are sent while node-1 is stopped: they wait in its socket buffer
  // and run right after SIGCONT, before node-1 can have heard from the coordinator.
  const buffered = await raw(t, victim.port);
  await buffered.call(['PING']);

  cluster.pause('node-1');
  t.after(() => cluster.resume('node-1')); // close() kills it either way; never leave a stopped process behind
  let after: TableView | null = null;
  await cluster.waitFor(`partition ${p} failed over from the paused node-1`, async () => {
    after = await cluster.table();
    const id = after.primaryOf(p);
    return id !== undefined && id !== victim.id;
  }, 30_000);
  const successor = primaryName(cluster, after!, p);
  const fresh = await raw(t, cluster.node(successor).port);
  assert.equal((await callUntilServed(fresh, ['SET', key, 'new'], `SET via the new primary ${successor}`)).raw, '+OK\r\n');

  // Sent while node-1 is stopped: a read, a write, and a transaction, all about partition p.
  buffered.send(['GET', key]);
  buffered.send(['SET', key, 'late-write']);
  buffered.send(['MULTI']);
  buffered.send(['SET', key, 'late-multi']);
  buffered.send(['EXEC']);
  cluster.resume('node-1');
  const replies: RawReply[] = [];
  for (let i = 0; i < 5; i++) replies.push(await buffered.next(15_000));
  t.diagnostic(`buffered replies after SIGCONT: ${replies.map(show).join(', ')}`);
  assert.match(replies[0]!.raw, /^-(TRYAGAIN|MOVED) /, `GET after SIGCONT is refused (never the old value): ${show(replies[0]!)}`);
  assert.match(replies[1]!.raw, /^-(TRYAGAIN|MOVED) /, `SET after SIGCONT is refused (never acknowledged): ${show(replies[1]!)}`);
  assert.match(replies[4]!.raw, /^-(TRYAGAIN|MOVED|EXECABORT) /, `EXEC after SIGCONT is refused: ${show(replies[4]!)}`);

  // Reads on a new connection right after SIGCONT, until node-1 has the new table (MOVED): never the old value.
  const seen = new Map<string, number>();
  const served: string[] = [];
  await waitFor('node-1 to redirect partition p (it has the new table)', async () => {
    const r = await old.call(['GET', key]);
    const kind = r.raw.startsWith('-') ? r.raw.split(' ')[0]! + (LEASE_REFUSAL.test(r.raw) ? ' (lease)' : '') : r.raw;
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
    if (!r.raw.startsWith('-')) served.push(show(r));
    return r.raw.startsWith('-MOVED');
  }, 30_000, 10);
  t.diagnostic(`direct reads on node-1 after SIGCONT: ${[...seen].map(([k, n]) => `${k} x${n}`).join(', ')}`);
  assert.deepEqual(served, [], `node-1 served GET ${key} after SIGCONT before it had the new table`);

  // The refused writes changed nothing on the new primary; the write it acknowledged is there.
  assert.equal((await callUntilServed(fresh, ['GET', key], 'GET via the new primary')).raw, '$3\r\nnew\r\n');
  const refused = Number((await cluster.info('node-1', 'cluster')).get('ringleader_lease_refused'));
  t.diagnostic(`node-1 lease refusals: ${refused}`);
});

test('a node cut off from the coordinator only: its lease lapses before it is declared dead, so it never acknowledges a write or serves a read once another copy can take over', { timeout: 90_000 }, async (t) => {
  const cluster = await LocalCluster.start({ nodes: 2, ...CLUSTER });
  t.after(() => cluster.close());
  const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(cluster.coordinatorUrl).port));
  t.after(() => proxy.close());
  // node-cut reaches the coordinator through the proxy only; its peers and clients reach it directly.
  const cut = await cluster.addNode('node-cut', ['--coordinator', proxy.url]);
  const P = CLUSTER.partitions;
  const p = (await cluster.table()).primariesOf(cut.id)[0];
  assert.ok(p !== undefined, 'node-cut is primary of some partition');
  const key = keyIn(p, P, 'cut');
  const c = await raw(t, cut.port);
  assert.equal((await callUntilServed(c, ['SET', key, 'v0'], 'SET via node-cut')).raw, '+OK\r\n');

  proxy.cut();
  const cutAt = performance.now();
  // Writes to node-cut until it refuses one: it must be the lease that refuses, while the table still names it
  // (the coordinator declares it dead only deadAfterMs after its last heartbeat arrived).
  let acknowledged = 'v0';
  let refusal: RawReply | null = null;
  for (let i = 1; refusal === null; i++) {
    const r = await c.call(['SET', key, `v${i}`]);
    if (r.raw === '+OK\r\n') acknowledged = `v${i}`;
    else refusal = r;
    assert.ok(performance.now() - cutAt < 15_000, 'node-cut still acknowledges writes 15 s after the cut');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const refusedAfter = performance.now() - cutAt;
  t.diagnostic(`node-cut's first refusal ${refusedAfter.toFixed(0)} ms after the cut: ${show(refusal)}; last acknowledged ${acknowledged}`);
  assert.match(refusal.raw, LEASE_REFUSAL);
  const stillNamed = await cluster.table();
  assert.equal(stillNamed.primaryOf(p), cut.id, 'refused by its lease before the coordinator failed it over');

  let after: TableView | null = null;
  await cluster.waitFor(`partition ${p} failed over from node-cut`, async () => {
    after = await cluster.table();
    const id = after.primaryOf(p);
    return id !== undefined && id !== cut.id;
  }, 30_000);
  const successor = await raw(t, cluster.node(primaryName(cluster, after!, p)).port);
  const kept = await callUntilServed(successor, ['GET', key], 'GET via the new primary');
  assert.equal(kept.raw, `$${acknowledged.length}\r\n${acknowledged}\r\n`, 'the last write node-cut acknowledged is on the new primary');
  assert.equal((await successor.call(['SET', key, 'new'])).raw, '+OK\r\n');

  // Still cut: node-cut has not heard of the new table; it must not serve the value it holds.
  for (let i = 0; i < 10; i++) {
    const r = await c.call(['GET', key]);
    assert.match(r.raw, /^-(TRYAGAIN|MOVED) /, `GET via node-cut while cut: ${show(r)}`);
  }
  proxy.heal();
  const served: string[] = [];
  await waitFor('node-cut to follow the new table after the cut heals', async () => {
    const r = await c.call(['GET', key]);
    if (r.raw.startsWith('$') && r.raw !== '$3\r\nnew\r\n') served.push(show(r));
    return r.raw.startsWith('-MOVED') || r.raw === '$3\r\nnew\r\n';
  }, 30_000, 20);
  assert.deepEqual(served, [], 'node-cut never served a value overwritten on the new primary');
  assert.equal((await successor.call(['GET', key])).raw, '$3\r\nnew\r\n');
});
