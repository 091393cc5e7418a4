import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionTable, memberIdFor } from '../partitioning/index.js';
import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { Store } from '../storage/index.js';
import { RawRespClient } from '../testing/resp-raw.js';
import { ClusterView } from './cluster-view.js';
import { createCommandTable } from './commands/index.js';
import { resolveNodeServerOptions } from './options.js';
import { NodeServer } from './server.js';

const SELF = memberIdFor('self');
const OTHER = memberIdFor('other');

/** A format-2 table of two partitions: `primaries[p]` serves p at `terms[p]`, the other member backs it up. */
function table(epoch: number, primaries: string[], terms: number[]): PartitionTable {
  return PartitionTable.fromJSON({
    format: 2, epoch, partitionCount: 2, replicas: 2,
    partitions: primaries.map((p) => [p, p === SELF ? OTHER : SELF]),
    states: primaries.map(() => ['primary', 'backup']),
    terms,
    members: [
      { id: SELF, name: 'self', address: '127.0.0.1:7001', zone: null, capacity: 1, state: 'active' },
      { id: OTHER, name: 'other', address: '127.0.0.1:7002', zone: null, capacity: 1, state: 'active' },
    ],
  });
}

async function cluster(t: { after(fn: () => unknown): void }): Promise<{ view: ClusterView; c: RawRespClient }> {
  const view = new ClusterView(SELF);
  const server = new NodeServer(resolveNodeServerOptions({ port: 0 }), view, createCommandTable(), systemClock, silentLogger());
  const port = await server.listen();
  view.apply(table(1, [SELF, OTHER], [1, 1]));
  server.store = new Store({ partitionCount: 2 });
  const c = await RawRespClient.connect(port);
  t.after(async () => {
    c.close();
    await server.close();
  });
  return { view, c };
}

// bar is slot 5061 -> partition 0 of 2; foo is slot 12182 -> partition 1.

test('a WATCHed key whose partition changed primary (term + 1) aborts EXEC, even when the node serves it again', async (t) => {
  const { view, c } = await cluster(t);
  assert.equal((await c.call(['SET', 'bar', '1'])).raw, '+OK\r\n');
  assert.equal((await c.call(['WATCH', 'bar'])).raw, '+OK\r\n');
  view.apply(table(2, [SELF, OTHER], [2, 1])); // a failover away and back: still ours, new term
  assert.equal((await c.call(['MULTI'])).raw, '+OK\r\n');
  assert.equal((await c.call(['PING'])).raw, '+QUEUED\r\n');
  assert.equal((await c.call(['EXEC'])).raw, '*-1\r\n');
  // Without a change of primary the same transaction runs.
  assert.equal((await c.call(['WATCH', 'bar'])).raw, '+OK\r\n');
  view.apply(table(3, [SELF, OTHER], [2, 1]));
  await c.call(['MULTI']);
  await c.call(['INCR', 'bar']);
  assert.equal((await c.call(['EXEC'])).raw, '*1\r\n:2\r\n');
});

test('a WATCHed key whose partition left this node aborts EXEC; a transaction whose slot moved answers MOVED', async (t) => {
  const { view, c } = await cluster(t);
  await c.call(['WATCH', 'bar']);
  await c.call(['MULTI']);
  await c.call(['PING']);
  view.apply(table(2, [OTHER, SELF], [2, 2]));
  assert.equal((await c.call(['EXEC'])).raw, '*-1\r\n');
  view.apply(table(3, [SELF, SELF], [3, 2]));
  await c.call(['MULTI']);
  assert.equal((await c.call(['SET', 'bar', 'x'])).raw, '+QUEUED\r\n');
  view.apply(table(4, [OTHER, SELF], [4, 2]));
  assert.equal((await c.call(['EXEC'])).raw, '-MOVED 5061 127.0.0.1:7002\r\n');
  assert.equal((await c.call(['EXEC'])).raw, '-ERR EXEC without MULTI\r\n', 'the transaction was discarded');
  assert.equal((await c.call(['GET', 'foo'])).raw, '$-1\r\n');
});

test('queueing is bounded by client-query-buffer-limit; the refused command aborts the transaction', async (t) => {
  const view = new ClusterView(SELF);
  const server = new NodeServer(resolveNodeServerOptions({ port: 0, maxQueryBufferBytes: 4096 }), view, createCommandTable(), systemClock, silentLogger());
  const port = await server.listen();
  view.apply(table(1, [SELF, SELF], [1, 1]));
  server.store = new Store({ partitionCount: 2 });
  const c = await RawRespClient.connect(port);
  t.after(async () => {
    c.close();
    await server.close();
  });
  await c.call(['MULTI']);
  let last = '';
  for (let i = 0; i < 10 && !last.startsWith('-'); i++) last = (await c.call(['SET', 'bar', 'x'.repeat(1000)])).raw;
  assert.match(last, /^-ERR transaction too big/);
  assert.equal((await c.call(['EXEC'])).raw, '-EXECABORT Transaction discarded because of previous errors.\r\n');
  assert.equal((await c.call(['EXISTS', 'bar'])).raw, ':0\r\n');
});
