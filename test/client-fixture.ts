/** Shared setup of the client tests against real processes (client-failover, client-read-from). */
import type { TestContext } from 'node:test';
import { Ringleader } from '../src/client/index.js';
import { LocalCluster, type LocalClusterOptions } from '../src/testing/local-cluster.js';

export interface ClusterWithClients {
  cluster: LocalCluster;
  /** A client with the default readFrom 'primary'. */
  primary: Ringleader;
  /** A client with readFrom 'any' (backups serve reads too). */
  any: Ringleader;
  /** `${prefix}:0` .. `${prefix}:${count - 1}`, written through `primary` with `value(key)`. */
  keys: string[];
}

/** Starts a local cluster, connects both clients and writes `count` keys; all closed after the test, pass or fail. */
export async function clusterWithClients(t: TestContext, options: Partial<LocalClusterOptions>, keys: { prefix: string; count: number; value: (key: string) => string }): Promise<ClusterWithClients> {
  const cluster = await LocalCluster.start(options);
  t.after(() => cluster.close());
  const primary = await Ringleader.connect({ coordinators: [cluster.coordinatorUrl], connectTimeoutMs: 20_000 });
  t.after(() => primary.close());
  const any = await Ringleader.connect({ coordinators: [cluster.coordinatorUrl], connectTimeoutMs: 20_000, readFrom: 'any' });
  t.after(() => any.close());
  const names = Array.from({ length: keys.count }, (_, i) => `${keys.prefix}:${i}`);
  for (let i = 0; i < names.length; i += 50) await primary.mset(names.slice(i, i + 50).map((k) => [k, keys.value(k)] as const));
  return { cluster, primary, any, keys: names };
}
