/**
 * Client benchmark: our client vs ioredis Cluster against the same 3-node cluster (coordinator in-process, 3 node
 * processes), in the same run, alternating rounds. get/set with 50 concurrent callers: ops/s and p99 per client.
 * Then getOrLoad with 1000 concurrent callers on one cold key: loader calls (must be 1) and time to serve all.
 * `npm run bench -- client` (env BENCH_SECONDS per round, default 3; BENCH_ROUNDS, default 3). Prints a table, then
 * one JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Cluster } from 'ioredis';
import { startCoordinator } from '../src/coordinator/index.js';
import { Ringleader } from '../src/index.js';
import { freePort } from '../src/testing/ports.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CALLERS = 50;
const KEYS = 10_000;
const VALUE = 'x'.repeat(100);

interface Ops {
  get(k: string): Promise<unknown>;
  set(k: string, v: string): Promise<unknown>;
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

/** CALLERS loops for SECONDS, each doing `op` back to back; returns ops/s and p99 ms. */
async function drive(op: (i: number) => Promise<unknown>): Promise<{ opsPerSec: number; p99Ms: number; p50Ms: number }> {
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, c) => {
      let i = c * 7919;
      while (performance.now() < end) {
        const t = performance.now();
        await op(i++);
        lat.push(performance.now() - t);
        n++;
      }
    }),
  );
  const sorted = Float64Array.from(lat).sort();
  return { opsPerSec: n / SECONDS, p99Ms: pct(sorted, 0.99), p50Ms: pct(sorted, 0.5) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export default async function run(): Promise<void> {
  const coord = await startCoordinator({ port: 0, planDebounceMs: 20, placement: { partitionCount: 271, replicas: 1 } });
  const procs: ChildProcess[] = [];
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const ports: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      ports.push(port);
      procs.push(spawn(process.execPath, ['--import', 'tsx', main, 'node', '--coordinator', coord.url, '--port', String(port), '--name', `bench-${i}`], { stdio: 'ignore' }));
    }
    const ours = await Ringleader.connect({ coordinators: [coord.url], connectTimeoutMs: 20_000 });
    // Wait until all three members hold partitions and every node answers for its slots.
    const t0 = performance.now();
    for (;;) {
      const t = ours.table;
      if (t && t.members.length === 3 && t.members.every((m) => t.partitionsOf(m.id).primary.length > 0)) {
        try {
          await Promise.all(Array.from({ length: 300 }, (_, i) => ours.set(`warm:${i}`, '1')));
          break;
        } catch {
          // nodes still applying the table
        }
      }
      if (performance.now() - t0 > 60_000) throw new Error('cluster did not become ready within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ioredis = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })), { enableReadyCheck: true, scaleReads: 'master' });
    // ioredis twice: as configured by default, and with its automatic pipelining on (what our client always does).
    const ioredisAuto = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })), { enableReadyCheck: true, scaleReads: 'master', enableAutoPipelining: true });
    for (const c of [ioredis, ioredisAuto]) {
      await new Promise<void>((resolve, reject) => {
        c.once('ready', () => resolve());
        c.once('error', reject);
      });
    }
    const clients: Array<[string, Ops]> = [
      ['ringleader', { get: (k) => ours.get(k), set: (k, v) => ours.set(k, v) }],
      ['ioredis', { get: (k) => ioredis.get(k), set: (k, v) => ioredis.set(k, v) }],
      ['ioredis-autopipelining', { get: (k) => ioredisAuto.get(k), set: (k, v) => ioredisAuto.set(k, v) }],
    ];
    for (const [, c] of clients) for (let i = 0; i < KEYS; i += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => c.set(`key:${i + j}`, VALUE)));

    const results: Record<string, { get: number[]; getP99: number[]; set: number[]; setP99: number[] }> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, c] of round % 2 === 0 ? clients : [...clients].reverse()) {
        const r = (results[name] ??= { get: [], getP99: [], set: [], setP99: [] });
        const s = await drive((i) => c.set(`key:${i % KEYS}`, VALUE));
        const g = await drive((i) => c.get(`key:${i % KEYS}`));
        r.set.push(s.opsPerSec);
        r.setP99.push(s.p99Ms);
        r.get.push(g.opsPerSec);
        r.getP99.push(g.p99Ms);
      }
    }

    // Cold key stampede: 1000 concurrent getOrLoad on one missing key.
    let loads = 0;
    const coldKey = `cold:${Date.now()}`;
    const tc = performance.now();
    const values = await Promise.all(
      Array.from({ length: 1000 }, () =>
        ours.getOrLoad(coldKey, async () => {
          loads++;
          await new Promise((r) => setTimeout(r, 50));
          return 'loaded';
        }),
      ),
    );
    const coldMs = performance.now() - tc;
    if (!values.every((v) => v === 'loaded')) throw new Error('getOrLoad returned a wrong value');

    // Embedded mode: a 4th node in this process; GET of keys it owns, local path vs network path (same keys, same run).
    const emb = await Ringleader.embed({ coordinator: coord.url, port: 0, name: 'bench-embedded' });
    const node = emb.embeddedNode!;
    const te = performance.now();
    while (!(emb.table && emb.table.members.length === 4 && node.view.epoch >= emb.table.epoch && node.view.owned.some((x) => x === 1))) {
      if (performance.now() - te > 30_000) throw new Error('embedded node did not get partitions');
      await new Promise((r) => setTimeout(r, 50));
    }
    const localKeys: string[] = [];
    for (let i = 0; localKeys.length < 1000; i++) {
      const k = `emb:${i}`;
      const loc = emb.locate(k);
      if (loc.primary?.id === node.id) localKeys.push(k);
    }
    for (const k of localKeys) await emb.set(k, VALUE);
    const embRows: Array<{ path: string; opsPerSec: number; p50Ms: number; p99Ms: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const l = await drive((i) => emb.get(localKeys[i % localKeys.length]!));
      const n = await drive((i) => ours.get(localKeys[i % localKeys.length]!));
      embRows.push({ path: 'local', ...l }, { path: 'network', ...n });
    }
    const embSummary = ['local', 'network'].map((path) => {
      const rs = embRows.filter((r) => r.path === path);
      return { path, getOpsPerSec: Math.round(median(rs.map((r) => r.opsPerSec))), p50Ms: +median(rs.map((r) => r.p50Ms)).toFixed(3), p99Ms: +median(rs.map((r) => r.p99Ms)).toFixed(3) };
    });
    const localHits = emb.localStore!.hits;
    await emb.close();

    const row = (name: string) => {
      const r = results[name]!;
      return { client: name, getOpsPerSec: Math.round(median(r.get)), getP99Ms: +median(r.getP99).toFixed(2), setOpsPerSec: Math.round(median(r.set)), setP99Ms: +median(r.setP99).toFixed(2) };
    };
    const rows = [row('ringleader'), row('ioredis'), row('ioredis-autopipelining')];
    console.table(rows);
    const ratio = { get: +(rows[0]!.getOpsPerSec / rows[1]!.getOpsPerSec).toFixed(2), set: +(rows[0]!.setOpsPerSec / rows[1]!.setOpsPerSec).toFixed(2) };
    const ratioAuto = { get: +(rows[0]!.getOpsPerSec / rows[2]!.getOpsPerSec).toFixed(2), set: +(rows[0]!.setOpsPerSec / rows[2]!.setOpsPerSec).toFixed(2) };
    console.log(`ringleader/ioredis ops/s ratio: get ${ratio.get}x, set ${ratio.set}x; vs ioredis with autopipelining: get ${ratioAuto.get}x, set ${ratioAuto.set}x (medians of ${ROUNDS} rounds x ${SECONDS}s, ${CALLERS} callers)`);
    console.log(`getOrLoad stampede: 1000 callers on one cold key -> ${loads} loader call(s), all served in ${coldMs.toFixed(1)} ms (loader takes 50 ms)`);
    console.table(embSummary);
    console.log(`embedded GET of locally owned keys: local path ${(embSummary[0]!.getOpsPerSec / embSummary[1]!.getOpsPerSec).toFixed(2)}x the network path (${localHits} local hits)`);
    console.log(JSON.stringify({ bench: 'client', embedded: embSummary, seconds: SECONDS, rounds: ROUNDS, callers: CALLERS, rows, ratio, ratioAutopipelining: ratioAuto, stampede: { callers: 1000, loaderCalls: loads, totalMs: +coldMs.toFixed(1) } }));
    ours.close();
    ioredis.disconnect();
    ioredisAuto.disconnect();
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await coord.close();
  }
}
