// Shared fixture of the differential tests (compat-differential, compat-types): a redis-server and a standalone node,
// plus a one-node Redis Cluster (all slots on it) and a node that checks slots like one (CROSSSLOT, cluster texts);
// helpers that run the same commands on both sides of a pair and compare the replies.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, type RunningNode } from '../src/node/index.js';
import { RawRespClient, startRedisServer, type RedisServerProcess, type RespNode } from '../src/testing/index.js';

export type Cmd = readonly string[];
export type Proto = 2 | 3;

/** A redis-server and a node to compare. */
export interface Pair {
  readonly redisPort: number;
  readonly nodePort: number;
}

export interface DifferentialServers {
  /** Debian's redis-server and a standalone node. */
  standalone(): Pair;
  /** The one-node Redis Cluster and a node with the cross-slot check. */
  cluster(): Pair;
}

export interface DifferentialOptions {
  /** Name prefix of the nodes (and of the cluster's temporary directory). */
  readonly name: string;
  /** DEBUG enabled on the standalone pair (`--enable-debug-command yes` / `enableDebug`). */
  readonly enableDebug?: boolean;
}

/** Starts the two pairs before the file's tests (waiting for cluster_state:ok) and stops them after. */
export function useDifferentialServers(opts: DifferentialOptions): DifferentialServers {
  let redis: RedisServerProcess | undefined;
  let node: RunningNode | undefined;
  let redisCluster: RedisServerProcess | undefined;
  let clusterNode: RunningNode | undefined;
  let clusterDir: string | undefined;
  const debug = opts.enableDebug === true;

  before(async () => {
    clusterDir = mkdtempSync(join(tmpdir(), `rl-${opts.name}-cluster-`));
    [redis, redisCluster, node, clusterNode] = await Promise.all([
      startRedisServer(debug ? ['--enable-debug-command', 'yes'] : []),
      startRedisServer(['--cluster-enabled', 'yes', '--dir', clusterDir, '--cluster-config-file', join(clusterDir, 'nodes.conf')]),
      startNode({ name: opts.name, standalone: true, server: { port: 0, enableFlush: true, ...(debug ? { enableDebug: true } : {}) } }),
      startNode({ name: `${opts.name}-cluster`, standalone: true, server: { port: 0, enableFlush: true, crossSlotCheck: true } }),
    ]);
    const c = await RawRespClient.connect(redisCluster.port);
    try {
      assert.equal((await c.call(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383'])).raw, '+OK\r\n');
      const deadline = Date.now() + 30_000;
      while (!(await c.call(['CLUSTER', 'INFO'])).raw.includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error('the one-node Redis Cluster did not reach cluster_state:ok');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      c.close();
    }
  });

  after(async () => {
    await Promise.all([node?.close(), clusterNode?.close(), redis?.stop(), redisCluster?.stop()]);
    if (clusterDir !== undefined) rmSync(clusterDir, { recursive: true, force: true });
  });

  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('the differential servers are not started (use them inside tests)');
    return x;
  };
  return {
    standalone: () => ({ redisPort: started(redis).port, nodePort: started(node).port }),
    cluster: () => ({ redisPort: started(redisCluster).port, nodePort: started(clusterNode).port }),
  };
}

/** Whether the node's reply to `cmd` agrees with redis-server's (after the calling file's normalisations). */
export type Agree = (cmd: Cmd, redis: RespNode, node: RespNode) => boolean;

/** deepStrictEqual as a boolean. */
export function deepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Runs `cmds` one by one on both sides of `pair` in RESP `proto`, from empty; throws on the first reply that does not agree. */
export async function runBoth(cmds: readonly Cmd[], proto: Proto, pair: Pair, agree: Agree): Promise<void> {
  const [r, n] = await Promise.all([RawRespClient.connect(pair.redisPort), RawRespClient.connect(pair.nodePort)]);
  try {
    for (const c of [r, n]) {
      await c.call(['FLUSHALL']);
      await c.call(['HELLO', String(proto)]);
    }
    const log: string[] = [];
    for (const cmd of cmds) {
      const a = await r.call(cmd);
      const b = await n.call(cmd);
      log.push(`${JSON.stringify(cmd)} -> ${JSON.stringify(a.raw)}`);
      if (!agree(cmd, a.node, b.node)) {
        assert.fail(`RESP${proto}: replies differ for ${JSON.stringify(cmd)}\n  redis: ${JSON.stringify(a.raw)}\n  node:  ${JSON.stringify(b.raw)}\nafter:\n  ${log.slice(-15, -1).join('\n  ')}`);
      }
    }
  } finally {
    r.close();
    n.close();
  }
}

/**
 * Runs `script` on redis-server and on the node (each time from empty, two connections `a` and `b` in RESP `proto`)
 * and asserts the texts it returns are equal: for scenarios with a second connection (WATCH).
 */
export async function sameWithTwoConnections(pair: Pair, proto: Proto, script: (a: RawRespClient, b: RawRespClient) => Promise<string>): Promise<void> {
  const out: string[] = [];
  for (const port of [pair.redisPort, pair.nodePort]) {
    const [a, b] = await Promise.all([RawRespClient.connect(port), RawRespClient.connect(port)]);
    try {
      for (const c of [a, b]) await c.call(['HELLO', String(proto)]);
      await a.call(['FLUSHALL']);
      out.push(await script(a, b));
    } finally {
      a.close();
      b.close();
    }
  }
  assert.equal(out[1], out[0], `RESP${proto}`);
}

/** Runs per property; COMPAT_RUNS raises it for a longer local search (found differences go to the files' regressions). */
export const RUNS = Number(process.env.COMPAT_RUNS ?? 40);

/** Generated sequences of `cmd` (1 to `maxLength` commands) in RESP2 or RESP3, each given to `run`. */
export async function property(cmd: fc.Arbitrary<Cmd>, run: (cmds: readonly Cmd[], proto: Proto) => Promise<void>, maxLength = 25): Promise<void> {
  await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength }), fc.constantFrom<Proto>(2, 3), (cmds, proto) => run(cmds, proto)), { numRuns: RUNS });
}
