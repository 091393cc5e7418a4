/** Shared pieces of the data-plane scenario tests (test/dataplane-*.test.ts): clients, workloads, the end checks. */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from 'ioredis';
import { Ringleader } from '../src/client/index.js';
import { LocalCluster, type LocalClusterOptions } from '../src/testing/local-cluster.js';
import { History, formatCheck, type CheckOptions } from '../src/testing/history.js';
import { Workload, ioredisAdapter, ioredisClusterFor, readAll, ringleaderAdapter, type KvAdapter, type WorkloadOptions } from '../src/testing/workload.js';

export interface Scenario {
  cluster: LocalCluster;
  history: History;
  io: KvAdapter;
  rl: KvAdapter;
  ioCluster: Cluster;
  client: Ringleader;
}

/** Starts a local cluster and both clients; everything is closed after the test, pass or fail. */
export async function startScenario(t: TestContext, options: Partial<LocalClusterOptions>): Promise<Scenario> {
  const cluster = await LocalCluster.start(options);
  t.after(() => cluster.close());
  const ioCluster = ioredisClusterFor(cluster.running.map((n) => n.port));
  t.after(() => ioCluster.disconnect());
  const client = await Ringleader.connect({ coordinators: [cluster.coordinatorUrl], connectTimeoutMs: 20_000 });
  t.after(() => client.close());
  return { cluster, history: new History(), io: ioredisAdapter(ioCluster), rl: ringleaderAdapter(client), ioCluster, client };
}

/** `n` keys named `<prefix>:<i>`. */
export function keyRange(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}:${i}`);
}

/** A workload per client on the same keys; returns a stop function. */
export function runWorkloads(s: Scenario, options: Partial<WorkloadOptions> & Pick<WorkloadOptions, 'keys'>): { stop(): Promise<void>; ops(): number } {
  const ws = [s.io, s.rl].map((kv, i) => new Workload(s.history, kv, { seed: (options.seed ?? 1) * 10 + i, ...options }).start());
  return {
    stop: async () => void (await Promise.all(ws.map((w) => w.stop()))),
    ops: () => ws.reduce((a, w) => a + w.counts.ok + w.counts.failed + w.counts.unknown, 0),
  };
}

/** Waits until the workloads did at least `n` more ops (so every step of a scenario runs under load). */
export async function letRun(cluster: LocalCluster, load: { ops(): number }, n: number): Promise<void> {
  const start = load.ops();
  await cluster.waitFor(`${n} workload ops`, () => load.ops() - start >= n, 60_000);
}

export interface EndCheck {
  /** Assert that no op failed or was unknown (planned changes must not fail a request). */
  noFailures: boolean;
  check: Partial<CheckOptions>;
  /** Compare every node's key count with the table (skipped when TTL keys may be expiring). */
  copies: boolean;
}

/**
 * The end of a scenario: waits for a stable table, reads every key once through the Ringleader client, checks the
 * whole history (reads during the run included) and, optionally, that each node holds exactly its partitions' keys.
 * One assertion message carries every finding, so a failure says all that went wrong.
 */
export async function finish(t: TestContext, s: Scenario, keys: readonly string[], options: Partial<EndCheck> = {}): Promise<void> {
  const o: EndCheck = { noFailures: true, check: {}, copies: true, ...options };
  const table = await s.cluster.waitStable(60_000);
  const final = await readAll(s.history, s.rl, keys, 500);
  const findings: string[] = [];
  const result = s.history.check({ requireFinalRead: true, ...o.check });
  for (const line of formatCheck(result, 2).split('\n')) t.diagnostic(line);
  if (!result.valid) findings.push(`history: ${formatCheck(result, 5)}`);
  if (final.failed > 0) findings.push(`${final.failed} final reads failed`);
  const bad = s.history.ops.filter((op) => op.outcome !== 'ok');
  if (o.noFailures && bad.length > 0) findings.push(`${bad.length} requests failed after the clients' retries:\n${s.history.errorSummary()}`);
  if (o.copies) {
    const present = [...final.values].filter(([, v]) => v !== null).map(([k]) => k);
    const problems = await s.cluster.checkCopies(present, table);
    if (problems.length > 0) findings.push(`copies do not match the table (epoch ${table.epoch}, ${present.length} keys present):\n  ${problems.join('\n  ')}`);
  }
  assert.ok(findings.length === 0, findings.join('\n'));
}
