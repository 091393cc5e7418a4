import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { PartitionTable, memberIdFor } from '../partitioning/index.js';
import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { Store } from '../storage/index.js';
import { ClusterView } from './cluster-view.js';
import { createCommandTable } from './commands/index.js';
import { resolveNodeServerOptions } from './options.js';
import { NodeServer } from './server.js';

const SELF = memberIdFor('self');
const OTHER = memberIdFor('other');

function table(epoch: number, partitions: string[][]): PartitionTable {
  return PartitionTable.fromJSON({
    epoch, partitionCount: partitions.length, replicas: 1, partitions,
    members: [
      { id: SELF, name: 'self', address: '127.0.0.1:7001', zone: null, capacity: 1, state: 'active' },
      { id: OTHER, name: 'other', address: '127.0.0.1:7002', zone: null, capacity: 1, state: 'active' },
    ],
  });
}

/** Sends one request and resolves with the first reply line(s) received. */
function request(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString('latin1'));
    });
    s.once('error', reject);
  });
}

test('the ownership guard: CLUSTERDOWN without a table, MOVED for other primaries, served when owned', async (t) => {
  const view = new ClusterView(SELF);
  const server = new NodeServer(resolveNodeServerOptions({ port: 0 }), view, createCommandTable(), systemClock, silentLogger());
  const port = await server.listen();
  t.after(() => server.close());
  assert.equal(await request(port, 'GET foo\r\n'), '-CLUSTERDOWN The cluster is down\r\n');
  assert.equal(await request(port, 'PING\r\n'), '+PONG\r\n', 'keyless commands work without a table');
  // foo is slot 12182 -> partition 1 of 2.
  view.apply(table(1, [[SELF], [OTHER]]));
  server.store = new Store({ partitionCount: 2 });
  assert.equal(await request(port, 'GET foo\r\n'), '-MOVED 12182 127.0.0.1:7002\r\n');
  assert.equal(await request(port, 'SET bar 1\r\n'), '+OK\r\n', 'bar is slot 5061 -> partition 0, ours');
  assert.equal(await request(port, 'MGET bar foo\r\n'), "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
  view.apply(table(2, [[OTHER], [SELF]]));
  assert.equal(await request(port, 'GET bar\r\n'), '-MOVED 5061 127.0.0.1:7002\r\n');
  assert.equal(await request(port, 'GET foo\r\n'), '$-1\r\n');
  assert.equal(await request(port, 'CLUSTER KEYSLOT {user1000}.following\r\n'), ':3443\r\n');
});
