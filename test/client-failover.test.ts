// The Ringleader client through a failover, with real processes (LocalCluster: coordinator + 4 nodes, replicas 2):
// a steady load of reads and writes while one node is killed with kill -9. Reads must all succeed (retried through
// the failover within retryBudgetMs); a write may only fail with OUTCOME_UNKNOWN, and only when it was in flight on
// the killed node (sent, no reply): never a definite failure, never a silent resend (checked with INCR counters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRingleaderError } from '../src/shared/errors.js';
import { clusterWithClients } from './client-fixture.js';

const WORKERS = 8;

interface Failure {
  op: 'read' | 'write';
  code: string;
  address: string | null;
  message: string;
}

test('kill -9 of one of 4 nodes under load: every read succeeds (readFrom primary and any), writes fail only with OUTCOME_UNKNOWN on the killed node', { timeout: 150_000 }, async (t) => {
  // Half the workers read through the readFrom 'any' client: reads from backups ride through the failover as well.
  const { cluster, primary: client, any: anyReader, keys } = await clusterWithClients(t, { nodes: 4, partitions: 32, replicas: 2 }, { prefix: 'cf', count: 400, value: (k) => `${k}:init` });

  const failures: Failure[] = [];
  const counts = { reads: 0, writes: 0 };
  let maxMs = 0;
  let running = true;
  let seq = 0;
  // Counters detect a silent resend: an INCR applied twice but acknowledged once leaves a counter above its
  // acknowledged + unknown increments.
  const counters = Array.from({ length: 32 }, (_, i) => `cf:count:${i}`);
  const incr = new Map(counters.map((k) => [k, { ok: 0, unknown: 0 }]));
  const worker = async (w: number): Promise<void> => {
    while (running) {
      const n = seq++;
      const key = keys[(w * 7919 + n * 104_729) % keys.length]!;
      const write = n % 2 === 0;
      const counter = n % 4 === 0 ? counters[(w + n) % counters.length]! : null;
      const t0 = performance.now();
      try {
        if (counter !== null) {
          await client.incr(counter);
          incr.get(counter)!.ok++;
          counts.writes++;
        } else if (write) {
          await client.set(key, `${key}:${w}:${n}`);
          counts.writes++;
        } else {
          const v = await (w % 2 === 0 ? client : anyReader).get(key);
          assert.ok(v !== null && v.startsWith(`${key}:`), `read of ${key} returned ${v}`);
          counts.reads++;
        }
      } catch (err) {
        if (!isRingleaderError(err)) throw err;
        if (counter !== null && err.code === 'OUTCOME_UNKNOWN') incr.get(counter)!.unknown++;
        failures.push({ op: write ? 'write' : 'read', code: err.code, address: (err.details?.address as string | undefined) ?? null, message: err.message });
      }
      maxMs = Math.max(maxMs, performance.now() - t0);
    }
  };
  const done = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  try {
    const ops = (): number => counts.reads + counts.writes + failures.length;
    await cluster.waitFor('the load to run', () => ops() >= 500, 60_000);
    const victim = cluster.node('node-2');
    const before = await cluster.table();
    assert.ok(before.primariesOf(victim.id).length > 0, 'the victim is primary of some partitions');
    const atKill = ops();
    const t0 = performance.now();
    await cluster.kill9('node-2');
    // Every partition has a primary on a survivor, the table is applied everywhere, and the load went on meanwhile.
    await cluster.waitStable(60_000, { settled: false });
    const failoverMs = performance.now() - t0;
    await cluster.waitFor('1000 more ops after the failover', () => ops() - atKill >= 1000, 60_000);
    running = false;
    await done;
    const victimAddress = `127.0.0.1:${victim.port}`;
    const unknown = failures.filter((f) => f.code === 'OUTCOME_UNKNOWN');
    t.diagnostic(`failover (kill -9 -> every partition served by a survivor): ${failoverMs.toFixed(0)} ms`);
    t.diagnostic(`${counts.reads} reads ok, ${counts.writes} writes ok, ${unknown.length} OUTCOME_UNKNOWN, ${failures.length - unknown.length} other failures; slowest call ${maxMs.toFixed(0)} ms`);
    const bad = failures.filter((f) => f.op === 'read' || f.code !== 'OUTCOME_UNKNOWN' || f.address !== victimAddress);
    assert.deepEqual(bad, [], `only writes in flight on the killed node (${victimAddress}) may fail, with OUTCOME_UNKNOWN`);
    // At most one call per worker can have been in flight on the killed node when it died.
    assert.ok(unknown.length <= WORKERS, `${unknown.length} OUTCOME_UNKNOWN (at most ${WORKERS} calls were in flight)`);
    assert.ok(counts.reads > 0 && counts.writes > 0);
    // No INCR was applied more often than it was sent once: at most acknowledged + unknown.
    let below = 0;
    for (const [k, c] of incr) {
      const v = Number((await client.get(k)) ?? 0);
      assert.ok(v <= c.ok + c.unknown, `${k} = ${v} > ${c.ok} acknowledged + ${c.unknown} unknown INCRs: one was applied twice`);
      if (v < c.ok) below++;
    }
    t.diagnostic(`counters below their acknowledged INCRs (lost acknowledged writes): ${below} of ${counters.length}`);
  } finally {
    running = false;
    await done.catch(() => {});
  }
});
