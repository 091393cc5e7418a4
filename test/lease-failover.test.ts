// Node leases (contract C5) with real processes: a node answers nothing about its partitions' keys, reads included,
// once the coordinator has not answered a heartbeat for the lease (the dead deadline minus a margin). So a primary
// paused past the dead deadline and failed over never serves, after SIGCONT, a value the new primary has overwritten
// nor acknowledges a write the new primary never sees, and a node cut off from the coordinator stops acknowledging
// before another copy can take over. One cluster for the three scenarios (each waits for a stable table first):
// each node reaches the coordinator through its own TcpProxy (LocalCluster controlProxy) that can cut that link alone.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster, waitFor, type TableView } from '../src/testing/local-cluster.js';
import type { RawReply } from '../src/testing/resp-raw.js';
import { CLUSTER, LEASE_REFUSAL, callUntilServed, keyIn, primaryName, raw } from './lease-fixture.js';

const show = (r: RawReply): string => JSON.stringify(r.raw.slice(0, 120));

let cluster: LocalCluster;

before(async () => {
  // Every node reaches the coordinator through its own TcpProxy (controlProxy), so one node's link can be cut alone.
  cluster = await LocalCluster.start({ nodes: 3, controlProxy: true, ...CLUSTER });
  await cluster.addNode('node-cut');
});

after(async () => {
  await cluster?.close();
});

/**
 * Pauses `name` (SIGSTOP) until its partition p failed over and the new primary acknowledged a write, sends it a read,
 * a write and a transaction about p while it is still stopped (they wait in its socket buffer), resumes it (SIGCONT)
 * and returns their replies plus those of reads on p until it redirects; with `cutLink`, its coordinator link is cut
 * for the whole pause and a while after SIGCONT, so it resumes without having heard of the new table.
 */
async function pausedPrimary(t: TestContext, name: string, cutLink: boolean): Promise<{ buffered: RawReply[]; reads: RawReply[]; key: string }> {
  await cluster.waitStable(60_000);
  const P = CLUSTER.partitions;
  const victim = cluster.node(name);
  const p = (await cluster.table()).primariesOf(victim.id)[0];
  assert.ok(p !== undefined, `${name} is primary of some partition`);
  const key = keyIn(p, P, `${name}:paused`);
  const direct = await raw(t, victim.port);
  assert.equal((await callUntilServed(direct, ['SET', key, 'old'], `SET via ${name}`)).raw, '+OK\r\n');
  assert.equal((await direct.call(['GET', key])).raw, '$3\r\nold\r\n');
  const pending = await raw(t, victim.port);
  await pending.call(['PING']);

  if (cutLink) cluster.cutFromCoordinator(name);
  cluster.pause(name);
  let tb: TableView | null = null;
  try {
    await cluster.waitFor(`partition ${p} failed over from the paused ${name}`, async () => {
      tb = await cluster.table();
      const id = tb.primaryOf(p);
      return id !== undefined && id !== victim.id;
    }, 30_000);
    const successor = await raw(t, cluster.node(primaryName(cluster, tb!, p)).port);
    assert.equal((await callUntilServed(successor, ['SET', key, 'new'], 'SET via the new primary')).raw, '+OK\r\n');
    for (const args of [['GET', key], ['SET', key, 'late-write'], ['MULTI'], ['SET', key, 'late-multi'], ['EXEC']]) pending.send(args);
  } finally {
    cluster.resume(name);
  }
  const buffered: RawReply[] = [];
  for (let i = 0; i < 5; i++) buffered.push(await pending.next(15_000));
  const reads: RawReply[] = [];
  if (cutLink) {
    for (let i = 0; i < 10; i++) reads.push(await direct.call(['GET', key]));
    cluster.healToCoordinator(name);
  }
  await waitFor(`${name} to redirect partition ${p} (it has the new table)`, async () => {
    const r = await direct.call(['GET', key]);
    reads.push(r);
    return r.raw.startsWith('-MOVED') || r.raw === '$3\r\nnew\r\n'; // (it may serve p again after re-joining)
  }, 30_000, 10);
  const successor = await raw(t, cluster.node(primaryName(cluster, await cluster.table(), p)).port);
  assert.equal((await callUntilServed(successor, ['GET', key], 'GET via the primary')).raw, '$3\r\nnew\r\n', 'the late writes sent to the old primary changed nothing');
  t.diagnostic(`buffered replies after SIGCONT: ${buffered.map(show).join(', ')}`);
  t.diagnostic(`direct reads after SIGCONT: ${summary(reads)}`);
  return { buffered, reads, key };
}

/** "-MOVED x3, -TRYAGAIN (lease) x2" */
function summary(replies: RawReply[]): string {
  const seen = new Map<string, number>();
  for (const r of replies) {
    const kind = r.raw.startsWith('-') ? r.raw.split(' ')[0]! + (LEASE_REFUSAL.test(r.raw) ? ' (lease)' : '') : r.raw.trim();
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
  }
  return [...seen].map(([k, n]) => `${k} x${n}`).join(', ');
}

/** The old primary never answered with the overwritten value nor acknowledged a late write. */
function assertNothingStale(name: string, res: { buffered: RawReply[]; reads: RawReply[] }): void {
  const [get, set, , , exec] = res.buffered;
  assert.match(get!.raw, /^-(TRYAGAIN|MOVED) /, `GET sent to ${name} while stopped is refused after SIGCONT, never the old value: ${show(get!)}`);
  assert.match(set!.raw, /^-(TRYAGAIN|MOVED) /, `SET sent to ${name} while stopped is refused (never acknowledged): ${show(set!)}`);
  assert.match(exec!.raw, /^-(TRYAGAIN|MOVED|EXECABORT) /, `EXEC sent to ${name} while stopped is refused: ${show(exec!)}`);
  const served = res.reads.filter((r) => !r.raw.startsWith('-') && r.raw !== '$3\r\nnew\r\n');
  assert.deepEqual(served.map(show), [], `${name} served a value overwritten on the new primary`);
}

test('a primary paused past the dead deadline and failed over refuses, after SIGCONT, reads and writes of that partition: never an overwritten value, never an acknowledgement', { timeout: 90_000 }, async (t) => {
  // Whichever comes first after SIGCONT, the new table (MOVED) or the client's commands (the lease has lapsed).
  assertNothingStale('node-1', await pausedPrimary(t, 'node-1', false));
});

test('the same, resuming before it can hear of the new table: the lease alone refuses (TRYAGAIN naming the lease)', { timeout: 90_000 }, async (t) => {
  const res = await pausedPrimary(t, 'node-cut', true);
  assertNothingStale('node-cut', res);
  for (const r of [res.buffered[0]!, res.buffered[1]!, res.buffered[4]!, ...res.reads.slice(0, 10)]) assert.match(r.raw, LEASE_REFUSAL, `refused by the lease: ${show(r)}`);
});

test('a node cut off from the coordinator only: its lease lapses before it is declared dead, so it never acknowledges a write or serves a read once another copy can take over', { timeout: 90_000 }, async (t) => {
  await cluster.waitStable(60_000);
  // node-cut reaches the coordinator through the proxy only; its peers and clients reach it directly.
  const cut = cluster.node('node-cut');
  const P = CLUSTER.partitions;
  const p = (await cluster.table()).primariesOf(cut.id)[0];
  assert.ok(p !== undefined, 'node-cut is primary of some partition');
  const key = keyIn(p, P, 'cut');
  t.after(() => cluster.healToCoordinator('node-cut'));
  const c = await raw(t, cut.port);
  assert.equal((await callUntilServed(c, ['SET', key, 'v0'], 'SET via node-cut')).raw, '+OK\r\n');

  cluster.cutFromCoordinator('node-cut');
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
  cluster.healToCoordinator('node-cut');
  const served: string[] = [];
  await waitFor('node-cut to follow the new table after the cut heals', async () => {
    const r = await c.call(['GET', key]);
    if (r.raw.startsWith('$') && r.raw !== '$3\r\nnew\r\n') served.push(show(r));
    return r.raw.startsWith('-MOVED') || r.raw === '$3\r\nnew\r\n';
  }, 30_000, 20);
  assert.deepEqual(served, [], 'node-cut never served a value overwritten on the new primary');
  assert.equal((await successor.call(['GET', key])).raw, '$3\r\nnew\r\n');
});
