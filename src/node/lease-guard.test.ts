import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lease } from '../control/lease.js';
import { PartitionTable, memberIdFor } from '../partitioning/index.js';
import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { Store } from '../storage/index.js';
import { ManualClock } from '../testing/manual-clock.js';
import { RawRespClient } from '../testing/resp-raw.js';
import { ClusterView, type LeaseCheck } from './cluster-view.js';
import { createCommandTable } from './commands/index.js';
import { resolveNodeServerOptions } from './options.js';
import { NodeServer } from './server.js';
import { resolveNodeOptions } from './node.js';

const SELF = memberIdFor('self');
const OTHER = memberIdFor('other');
const LAPSED = '-TRYAGAIN lease expired: no contact with the coordinator\r\n';

/** bar = slot 5061 = partition 0 (primary here), foo = slot 12182 = partition 1 (a backup here). */
async function serverWith(t: { after: (fn: () => unknown) => void }, lease: LeaseCheck): Promise<{ server: NodeServer; c: RawRespClient; view: ClusterView }> {
  const view = new ClusterView(SELF);
  view.apply(PartitionTable.fromJSON({
    epoch: 1, partitionCount: 2, replicas: 2, partitions: [[SELF, OTHER], [OTHER, SELF]],
    members: [
      { id: SELF, name: 'self', address: '127.0.0.1:7001', zone: null, capacity: 1, state: 'active' },
      { id: OTHER, name: 'other', address: '127.0.0.1:7002', zone: null, capacity: 1, state: 'active' },
    ],
  }));
  view.readable[1] = 1; // a complete backup copy of partition 1 (the replicator sets this in cluster mode)
  view.lease = lease;
  const server = new NodeServer(resolveNodeServerOptions({ port: 0, enableFlush: true }), view, createCommandTable(), systemClock, silentLogger());
  server.store = new Store({ partitionCount: 2 });
  const port = await server.listen();
  t.after(() => server.close());
  const c = await RawRespClient.connect(port);
  t.after(() => c.close());
  return { server, c, view };
}

const call = async (c: RawRespClient, ...args: string[]): Promise<string> => (await c.call(args)).raw;

test('once the lease lapses, every answer about served keys is TRYAGAIN naming the lease: reads, writes, backup reads, EXEC, KEYS/SCAN/DBSIZE/FLUSHALL', async (t) => {
  const clock = new ManualClock(0);
  const lease = new Lease(clock);
  lease.grant(0, 1000);
  const { server, c } = await serverWith(t, lease);
  assert.equal(await call(c, 'SET', 'bar', '1'), '+OK\r\n');
  assert.equal(await call(c, 'SET', 'foo', 'x'), '-MOVED 12182 127.0.0.1:7002\r\n');
  server.store!.set(1, 'foo', 'backup-copy'); // as if streamed from the primary
  clock.advance(999);
  assert.equal(await call(c, 'GET', 'bar'), '$1\r\n1\r\n', 'valid until sentAt + leaseMs');
  clock.advance(1);

  assert.equal(await call(c, 'GET', 'bar'), LAPSED);
  assert.equal(await call(c, 'SET', 'bar', '2'), LAPSED);
  assert.equal(await call(c, 'MGET', 'bar', '{bar}x'), LAPSED, 'multi-key commands too');
  for (const cmd of [['KEYS', '*'], ['SCAN', '0'], ['RANDOMKEY'], ['DBSIZE'], ['FLUSHALL']]) assert.equal(await call(c, ...cmd), LAPSED, cmd[0]);
  assert.equal(await call(c, 'MULTI'), '+OK\r\n');
  assert.equal(await call(c, 'INCR', 'bar'), '+QUEUED\r\n', 'queuing says nothing about data');
  assert.equal(await call(c, 'EXEC'), LAPSED, 'EXEC refuses the whole transaction');
  assert.equal(await call(c, 'GET', 'foo'), '-MOVED 12182 127.0.0.1:7002\r\n', 'redirections are unaffected');
  assert.equal(await call(c, 'READONLY'), '+OK\r\n');
  assert.equal(await call(c, 'GET', 'foo'), LAPSED, 'a READONLY read from a backup needs the lease too');
  assert.equal(await call(c, 'PING'), '+PONG\r\n');
  assert.match(await call(c, 'INFO', 'cluster'), /ringleader_lease:lapsed\r\nringleader_lease_remaining_ms:0\r\nringleader_lease_refused:10\r\n/);

  // The next answered heartbeat: serving resumes, and nothing refused was applied.
  lease.grant(clock.monotonic(), 1000);
  assert.equal(await call(c, 'GET', 'bar'), '$1\r\n1\r\n');
  assert.equal(await call(c, 'GET', 'foo'), '$11\r\nbackup-copy\r\n');
  assert.equal(await call(c, 'DBSIZE'), ':1\r\n');
  assert.match(await call(c, 'INFO', 'cluster'), /ringleader_lease:valid\r\nringleader_lease_remaining_ms:1000\r\n/);
  assert.equal(server.stats.leaseRefused, 10);
});

test('a lease that lapses between running a batch and writing its replies (a pause) closes the connection unanswered', async (t) => {
  // valid() answers true when the command runs and false when its reply is about to be written.
  const answers = [true, false];
  const scripted: LeaseCheck = { valid: () => answers.shift() ?? true, remainingMs: () => 0 };
  const { server, c } = await serverWith(t, scripted);
  c.send(['SET', 'bar', 'applied']);
  await c.whenClosed();
  assert.equal(server.stats.leaseLateCloses, 1);
  // The write ran (its outcome is unknown to the client): this is why a node that re-joins drops its data.
  assert.equal(server.store!.get(0, 'bar')?.toString(), 'applied');
});

test('standalone (no lease): nothing is refused and no clock is read for it', async (t) => {
  const view = new ClusterView(SELF);
  assert.equal(view.lease.valid(), true);
  assert.equal(view.lease.remainingMs(), Number.POSITIVE_INFINITY);
  const { c } = await serverWith(t, view.lease);
  assert.equal(await call(c, 'SET', 'bar', '1'), '+OK\r\n');
  assert.match(await call(c, 'INFO', 'cluster'), /ringleader_lease:off\r\nringleader_lease_remaining_ms:-1\r\n/);
});

test('NodeOptions.leaseMode: strict by default, off on request, anything else refused naming the option', () => {
  assert.equal(resolveNodeOptions({ name: 'n', coordinators: ['http://127.0.0.1:1'] }).leaseMode, 'strict');
  assert.equal(resolveNodeOptions({ name: 'n', coordinators: ['http://127.0.0.1:1'], leaseMode: 'off' }).leaseMode, 'off');
  assert.throws(() => resolveNodeOptions({ name: 'n', coordinators: ['http://127.0.0.1:1'], leaseMode: 'lenient' as never }), /NodeOptions\.leaseMode must be one of strict, off/);
});
