// In-process nodes for tests of the replication stream over real sockets with hand-made tables (no coordinator):
// each is a RESP server + store + replicator, with an ioredis connection; tables are published by the test.
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { ClusterView, NodeServer, createCommandTable, resolveNodeServerOptions } from '../src/node/index.js';
import { Replicator, resolveReplicationOptions } from '../src/node/replication/index.js';
import { PartitionTable, memberIdFor } from '../src/partitioning/index.js';
import { Store } from '../src/storage/index.js';
import { systemClock } from '../src/shared/clock.js';
import { createLogger, silentLogger } from '../src/shared/logger.js';
import type { CopyReport, CopyState, OutOfSync, ReplicationMode } from '../src/protocol/control.js';

export const P = 8;

export interface TestNode {
  name: string;
  id: string;
  address: string;
  server: NodeServer;
  view: ClusterView;
  replicator: Replicator;
  reports: CopyReport[];
  /** Out-of-sync requests this node sent (sync mode, as primary). */
  outOfSync: OutOfSync[];
  redis: Redis;
  apply(t: PartitionTable): void;
  close(): Promise<void>;
}

export async function startTestNode(name: string, replication = {}): Promise<TestNode> {
  const id = memberIdFor(name);
  const view = new ClusterView(id);
  const server = new NodeServer(resolveNodeServerOptions({ port: 0, crossSlotCheck: true, enableFlush: true }), view, createCommandTable(), systemClock, silentLogger());
  const port = await server.listen();
  const reports: CopyReport[] = [];
  const outOfSync: OutOfSync[] = [];
  let node: TestNode | null = null;
  const replicator = new Replicator({
    view, clock: systemClock, logger: process.env.RL_DEBUG ? createLogger({ name, level: 'debug' }) : silentLogger(), password: '',
    options: resolveReplicationOptions({ handoverTimeoutMs: 5000, ...replication }),
    sendReports: async (copies, asked) => {
      reports.push(...copies);
      outOfSync.push(...asked);
    },
    onPeerTable: (json) => node?.apply(PartitionTable.fromJSON(json)),
  });
  server.replication = replicator;
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: true });
  await redis.connect();
  node = {
    name, id, address: `127.0.0.1:${port}`, server, view, replicator, reports, outOfSync, redis,
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

/** A format-2 table: `layout[p]` = [[node, state], ...] (primary first), `terms[p]`; `settings` = replication mode etc. */
/** Starts in-process nodes (a name, or [name, replication options]) in parallel; all closed after the test. */
export async function startTestNodes<S extends ReadonlyArray<string | readonly [string, object]>>(t: TestContext, ...specs: S): Promise<{ -readonly [K in keyof S]: TestNode }> {
  const nodes = await Promise.all(specs.map((s) => (typeof s === 'string' ? startTestNode(s) : startTestNode(s[0], s[1]))));
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  return nodes as { -readonly [K in keyof S]: TestNode };
}

export function table(epoch: number, nodes: TestNode[], layout: Array<Array<[TestNode, CopyState]>>, terms: number[], settings: { replication?: ReplicationMode; minInSync?: number } = {}): PartitionTable {
  return PartitionTable.fromJSON({
    format: 2,
    epoch,
    partitionCount: P,
    replicas: 3,
    members: nodes.map((n) => ({ id: n.id, name: n.name, address: n.address, zone: null, capacity: 1, state: 'active' })),
    partitions: layout.map((copies) => copies.map(([n]) => n.id)),
    states: layout.map((copies) => copies.map(([, s]) => s)),
    terms,
    ...settings,
  });
}

export const all = <T>(f: (p: number) => T): T[] => Array.from({ length: P }, (_, p) => f(p));

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function digest(n: TestNode, p: number): Promise<[number, number, string, number, number, string]> {
  return (await n.redis.call('RL.DIGEST', p)) as [number, number, string, number, number, string];
}

/** True once `n` reported every partition `synced` (a learner finished its snapshot, or a follower resumed). */
export const syncedAll = (n: TestNode) => (): boolean => new Set(n.reports.filter((r) => r.status === 'synced').map((r) => r.partition)).size === P;

/** True when every node's copy of every partition is at the same offset with the same digest. */
export async function sameCopies(...ns: TestNode[]): Promise<boolean> {
  for (let p = 0; p < P; p++) {
    const ds = await Promise.all(ns.map((n) => digest(n, p)));
    if (ds.some((d) => d[1] !== ds[0]![1] || d[5] !== ds[0]![5])) return false;
  }
  return true;
}

/** Node a primary of every partition at term 1, b its in-sync backup, and k:1 = 'one' written through a. */
export async function primaryWithBackup(t: TestContext, bOptions: object, settings: { replication?: ReplicationMode; minInSync?: number } = {}, aOptions: object = {}): Promise<{ a: TestNode; b: TestNode; nodes: TestNode[]; t1: PartitionTable }> {
  const [a, b] = await startTestNodes(t, ['a', aOptions], ['b', bOptions]);
  const nodes = [a, b];
  const t1 = table(1, nodes, all(() => [[a, 'primary'], [b, 'backup']]), all(() => 1), settings);
  a.apply(t1);
  b.apply(t1);
  await a.redis.set('k:1', 'one');
  await waitFor('b synced', syncedAll(b));
  return { a, b, nodes, t1 };
}

/** Keys spread over every partition, with the partition of each. */
export function keysFor(t: PartitionTable, count: number): Array<{ key: string; p: number }> {
  return Array.from({ length: count }, (_, i) => ({ key: `k:${i}`, p: t.partitionOfKey(`k:${i}`) }));
}

