/**
 * In-process nodes for data-plane tests with hand-made tables (no coordinator): a RESP server, a store and a
 * replicator per node, an ioredis connection to each, and tables the test publishes.
 */
import { Redis } from 'ioredis';
import { ClusterView, NodeServer, createCommandTable, resolveNodeServerOptions } from '../src/node/index.js';
import { Replicator, resolveReplicationOptions } from '../src/node/replication/index.js';
import { PartitionTable, memberIdFor } from '../src/partitioning/index.js';
import { Store } from '../src/storage/index.js';
import { systemClock } from '../src/shared/clock.js';
import { createLogger, silentLogger } from '../src/shared/logger.js';
import type { CopyReport, CopyState } from '../src/protocol/control.js';

export interface TestNode {
  name: string;
  id: string;
  address: string;
  port: number;
  server: NodeServer;
  view: ClusterView;
  replicator: Replicator;
  reports: CopyReport[];
  redis: Redis;
  apply(t: PartitionTable): void;
  close(): Promise<void>;
}

/** Starts one node on an ephemeral port (replication options override the test defaults). */
export async function startTestNode(name: string, replication = {}): Promise<TestNode> {
  const id = memberIdFor(name);
  const view = new ClusterView(id);
  const server = new NodeServer(resolveNodeServerOptions({ port: 0, crossSlotCheck: true, enableFlush: true }), view, createCommandTable(), systemClock, silentLogger());
  const port = await server.listen();
  const reports: CopyReport[] = [];
  let node: TestNode | null = null;
  const replicator = new Replicator({
    view, clock: systemClock, logger: process.env.RL_DEBUG ? createLogger({ name, level: 'debug' }) : silentLogger(), password: '',
    options: resolveReplicationOptions({ handoverTimeoutMs: 5000, ...replication }),
    sendReports: async (copies) => {
      reports.push(...copies);
    },
    onPeerTable: (json) => node?.apply(PartitionTable.fromJSON(json)),
  });
  server.replication = replicator;
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: true });
  await redis.connect();
  node = {
    name, id, address: `127.0.0.1:${port}`, port, server, view, replicator, reports, redis,
    apply(t) {
      if (view.apply(t) === null) return;
      server.store ??= new Store({ partitionCount: t.partitionCount });
      replicator.attachStore(server.store);
      replicator.applyTable(t);
    },
    async close() {
      redis.disconnect();
      replicator.close();
      await server.close();
    },
  };
  return node;
}

/** A format-2 table: `layout[p]` = [[node, state], ...] (primary first), `terms[p]`. */
export function table(epoch: number, nodes: TestNode[], layout: Array<Array<[TestNode, CopyState]>>, terms: number[]): PartitionTable {
  return PartitionTable.fromJSON({
    format: 2,
    epoch,
    partitionCount: layout.length,
    replicas: 3,
    members: nodes.map((n) => ({ id: n.id, name: n.name, address: n.address, zone: null, capacity: 1, state: 'active' })),
    partitions: layout.map((copies) => copies.map(([n]) => n.id)),
    states: layout.map((copies) => copies.map(([, s]) => s)),
    terms,
  });
}

/** Polls `cond` every 10 ms until it holds; throws naming `what` after timeoutMs. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** RL.DIGEST p on node n: [term, offset, mode, complete, keys, digest]. */
export async function digest(n: TestNode, p: number): Promise<[number, number, string, number, number, string]> {
  return (await n.redis.call('RL.DIGEST', p)) as [number, number, string, number, number, string];
}
