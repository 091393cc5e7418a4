// Failure detection with real processes: a node killed with kill -9 is out of the table in well under the heartbeat
// deadline (its watch stream closes, the coordinator's probe of its port is refused); a node paused with SIGSTOP is
// not (its port still accepts connections): only the heartbeat deadline declares it dead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster } from '../src/testing/local-cluster.js';
import { tcpProber } from '../src/coordinator/index.js';
import { CoordinatorClient } from '../src/control/index.js';
import type { PartitionTable } from '../src/partitioning/index.js';

const DEAD_AFTER_MS = 1500; // the coordinator's default at 500 ms heartbeats

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

const holds = (t: PartitionTable, id: string): boolean => {
  const h = t.partitionsOf(id);
  return h.primary.length + h.backup.length + h.learner.length + h.handingOff.length > 0;
};

/** Watches the coordinator's tables from this process; resolves with the monotonic time of the first table where `cond` holds. */
function firstTable(url: string, cond: (t: PartitionTable) => boolean): { at: Promise<{ ms: number; table: PartitionTable }>; close: () => void } {
  const client = new CoordinatorClient({ coordinators: [url] });
  const watch = client.watch();
  const at = new Promise<{ ms: number; table: PartitionTable }>((resolve) => {
    watch.on('table', (t) => {
      if (cond(t)) resolve({ ms: performance.now(), table: t });
    });
  });
  return { at, close: () => watch.close() };
}

test('kill -9 of a node: out of the table well under the heartbeat deadline (fast path); SIGSTOP: only by heartbeats', { timeout: 120_000 }, async (t) => {
  const cluster = await LocalCluster.start({ nodes: 4, partitions: 32, replicas: 2 });
  t.after(() => cluster.close());
  const url = cluster.coordinatorUrl;
  const victim = cluster.node('node-2');
  const before = await cluster.table();
  assert.ok(before.copiesOf(0).length > 0);

  // kill -9: the watch stream closes with the process, the probe is refused, the member is dead at once.
  const gone = firstTable(url, (tb) => !holds(tb, victim.id) && tb.member(victim.id) === undefined);
  t.after(gone.close);
  const fastBefore = await metric(url, 'ringleader_coordinator_fast_deaths_total');
  const t0 = performance.now();
  await cluster.kill9('node-2');
  const { ms, table } = await gone.at;
  const elapsed = ms - t0;
  t.diagnostic(`kill -9 -> table without node-2's copies (epoch ${table.epoch}): ${elapsed.toFixed(0)} ms`);
  assert.equal(await metric(url, 'ringleader_coordinator_fast_deaths_total'), fastBefore + 1, 'declared dead by the fast path');
  assert.ok(elapsed < DEAD_AFTER_MS / 2, `detected in ${elapsed.toFixed(0)} ms, well under the ${DEAD_AFTER_MS} ms heartbeat deadline`);
  for (let p = 0; p < table.partitionCount; p++) assert.ok(table.primaryOf(p) !== undefined, `partition ${p} failed over to a backup`);
  await cluster.waitStable(60_000);

  // SIGSTOP: the process holds its sockets, so its port still accepts connections: a probe says `open`, never `refused`.
  const paused = cluster.node('node-3');
  const deadByBeat = firstTable(url, (tb) => tb.member(paused.id) === undefined);
  t.after(deadByBeat.close);
  const t1 = performance.now();
  cluster.pause('node-3');
  assert.equal(await tcpProber.probe(`127.0.0.1:${paused.port}`, 2000), 'open', 'a stopped process\'s port still accepts');
  const { ms: ms2 } = await deadByBeat.at;
  const elapsed2 = ms2 - t1;
  t.diagnostic(`SIGSTOP -> table without node-3: ${elapsed2.toFixed(0)} ms`);
  assert.ok(elapsed2 >= DEAD_AFTER_MS - 500 - 100, `declared dead after ${elapsed2.toFixed(0)} ms: by the heartbeat deadline, not at once`);
  assert.equal(await metric(url, 'ringleader_coordinator_fast_deaths_total'), fastBefore + 1, 'the fast path did not fire for the paused node');
  const members = await cluster.members();
  assert.equal(members.members.find((m) => m.id === paused.id)?.state, 'dead');
  cluster.resume('node-3');
  await cluster.waitFor('node-3 to re-join', async () => (await cluster.members()).members.find((m) => m.id === paused.id)?.state === 'active', 30_000);
});
