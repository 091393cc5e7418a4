// Shared parts of the node-lease tests (lease-failover, lease-outage): the cluster timings, the refusal text, and
// helpers to find a key of a partition, open raw connections and call until a partition is served.
import assert from 'node:assert/strict';
import { keySlot } from '../src/hashing/index.js';
import { partitionOfSlot } from '../src/partitioning/index.js';
import { waitFor, type LocalCluster, type TableView } from '../src/testing/local-cluster.js';
import { RawRespClient, type RawReply } from '../src/testing/resp-raw.js';

// Heartbeats every 250 ms, dead after 2000 ms: the coordinator's lease is 2000 − max(200, 400) = 1600 ms.
export const CLUSTER = { partitions: 16, replicas: 2, heartbeatMs: 250, suspectAfterMs: 1000, deadAfterMs: 2000 } as const;
export const LEASE_REFUSAL = /^-TRYAGAIN lease expired: no contact with the coordinator\r\n$/;

/** A key of partition p (P partitions). */
export function keyIn(p: number, P: number, prefix: string): string {
  for (let i = 0; ; i++) {
    const k = `${prefix}:${i}`;
    if (partitionOfSlot(keySlot(k), P) === p) return k;
  }
}

/** Opens a raw connection to a node's RESP port, closed after the test. */
export async function raw(t: { after: (fn: () => void) => void }, port: number): Promise<RawRespClient> {
  const c = await RawRespClient.connect(port);
  t.after(() => c.close());
  return c;
}

/** Sends a command until the reply is not a transient refusal (TRYAGAIN, CLUSTERDOWN, MOVED during a change); returns it. */
export async function callUntilServed(c: RawRespClient, args: string[], what: string): Promise<RawReply> {
  let last: RawReply | null = null;
  await waitFor(what, async () => {
    last = await c.call(args);
    return !/^-(TRYAGAIN|CLUSTERDOWN|MOVED)/.test(last.raw);
  }, 20_000, 50);
  return last!;
}

/** The name of partition p's primary in `table`. */
export function primaryName(cluster: LocalCluster, table: TableView, p: number): string {
  const id = table.primaryOf(p);
  const n = id === undefined ? undefined : cluster.nodeById(id);
  assert.ok(n !== undefined, `partition ${p} has a primary that is a known node (${id})`);
  return n.name;
}
