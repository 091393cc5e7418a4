// Cold-start protection across processes: 3 client processes x 300 concurrent getOrLoad on 50 cold keys must run the
// loader exactly once per key (each load appends a line to a shared file); and when the process holding a key's load
// lease is killed mid-load, another process loads the key within the lease time.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionTable } from '../src/partitioning/table.js';
import { memberIdFor } from '../src/partitioning/member.js';
import { startCoordinator } from '../src/coordinator/index.js';
import { startNode } from '../src/node/index.js';
import { Ringleader } from '../src/client/index.js';
import { freePort } from '../src/testing/ports.js';

const children: ChildProcess[] = [];
let dir = '';
let tableJson = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rl-getorload-'));
  const addresses: string[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(p);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      p.stdout!.on('data', (d: Buffer) => ((out += d.toString()), out.includes('Ready to accept') && resolve()));
      p.on('exit', () => reject(new Error('redis-server exited')));
    });
    addresses.push(`127.0.0.1:${port}`);
  }
  const members = addresses.map((address, i) => ({ id: memberIdFor(`g${i}`), name: `g${i}`, address, zone: null, capacity: 1, state: 'active' as const }));
  tableJson = JSON.stringify(PartitionTable.fromJSON({ epoch: 1, partitionCount: 8, replicas: 1, members, partitions: Array.from({ length: 8 }, (_, p) => [members[p % 2]!.id]) }).toJSON());
});

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * A client process: N concurrent getOrLoad over KEYS; each load appends "<key>\n" to LOG; `hang` keys never finish
 * loading (to be killed mid-load). Prints "done <json>" when all calls settled.
 */
const WORKER = `
import { appendFileSync } from 'node:fs';
import { Ringleader } from ${JSON.stringify(new URL('../src/client/index.ts', import.meta.url).pathname)};
import { PartitionTable } from ${JSON.stringify(new URL('../src/partitioning/table.ts', import.meta.url).pathname)};
let c;
if (process.env.COORD) {
  c = await Ringleader.connect({ coordinators: [process.env.COORD], loadLeaseMs: Number(process.env.LEASE_MS), commandTimeoutMs: 5000, connectTimeoutMs: 20000 });
} else {
  const table = PartitionTable.fromJSON(JSON.parse(process.env.TABLE));
  const source = { subscribe(onTable) { queueMicrotask(() => onTable(table)); }, fetch: async () => table, close() {} };
  c = new Ringleader({ coordinators: ['http://127.0.0.1:1'], loadLeaseMs: Number(process.env.LEASE_MS), commandTimeoutMs: 5000 }, source);
  await c.ready();
}
const keys = JSON.parse(process.env.KEYS);
const calls = Number(process.env.CALLS);
const hang = process.env.HANG === '1';
const t0 = performance.now();
const results = await Promise.all(Array.from({ length: calls }, (_, i) => {
  const key = keys[i % keys.length];
  return c.getOrLoadDetailed(key, async () => {
    appendFileSync(process.env.LOG, key + ' ' + process.pid + '\\n');
    if (hang) { console.log('loading ' + key); await new Promise(() => {}); }
    await new Promise((r) => setTimeout(r, 50));
    return 'value:' + key;
  }, { ttlMs: 60000 });
}));
const bad = results.filter((r, i) => r.value !== 'value:' + keys[i % keys.length]).length;
console.log('done ' + JSON.stringify({ bad, ms: Math.round(performance.now() - t0), sources: results.reduce((a, r) => (a[r.source] = (a[r.source] ?? 0) + 1, a), {}) }));
c.close();
`;

function worker(env: Record<string, string>): { proc: ChildProcess; lines: string[]; waitFor: (re: RegExp, ms: number) => Promise<string> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WORKER], { env: { ...process.env, TABLE: tableJson, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    for (const l of listeners) l();
  });
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const waitFor = (re: RegExp, ms: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.find((l) => re.test(l));
        if (hit !== undefined) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(hit);
        }
      };
      const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms; stderr: ${stderr.slice(-2000)}`)), ms);
      listeners.add(check);
      proc.on('exit', () => setTimeout(() => reject(new Error(`worker exited without ${re}; stderr: ${stderr.slice(-2000)}`)), 50));
      check();
    });
  return { proc, lines, waitFor };
}

test('3 client processes x 300 concurrent getOrLoad on 50 cold keys run the loader exactly once per key', async () => {
  const log = join(dir, 'loads-1.log');
  const keys = Array.from({ length: 50 }, (_, i) => `customer:${Date.now()}:${i}`);
  const ws = [0, 1, 2].map(() => worker({ LOG: log, KEYS: JSON.stringify(keys), CALLS: '300', LEASE_MS: '5000' }));
  const done = await Promise.all(ws.map((w) => w.waitFor(/^done /, 60_000)));
  for (const d of done) assert.equal(JSON.parse(d.slice(5)).bad, 0, d);
  const loads = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]!);
  const perKey = new Map<string, number>();
  for (const k of loads) perKey.set(k, (perKey.get(k) ?? 0) + 1);
  assert.equal(perKey.size, 50, 'every key loaded');
  assert.deepEqual([...perKey.entries()].filter(([, n]) => n !== 1), [], 'no key loaded twice');
});

test('when the loading process is killed mid-load, another process loads the key within the lease', async () => {
  const log = join(dir, 'loads-2.log');
  const key = `crash:${Date.now()}`;
  const leaseMs = 1500;
  const a = worker({ LOG: log, KEYS: JSON.stringify([key]), CALLS: '10', LEASE_MS: String(leaseMs), HANG: '1' });
  await a.waitFor(/^loading /, 30_000);
  const b = worker({ LOG: log, KEYS: JSON.stringify([key]), CALLS: '10', LEASE_MS: String(leaseMs) });
  // b is waiting on a's lease now (give it a moment to start polling), then a dies mid-load.
  await new Promise((r) => setTimeout(r, 300));
  const killedAt = performance.now();
  a.proc.kill('SIGKILL');
  const done = await b.waitFor(/^done /, 30_000);
  const waited = performance.now() - killedAt;
  assert.equal(JSON.parse(done.slice(5)).bad, 0);
  assert.ok(existsSync(log));
  const loaders = readFileSync(log, 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]));
  assert.deepEqual(loaders, [a.proc.pid, b.proc.pid], 'a started the load, b loaded after a died');
  assert.ok(waited < leaseMs + 1500, `b finished ${Math.round(waited)} ms after the kill (lease ${leaseMs} ms)`);
});

test('against Ringleader nodes (coordinator + 2 nodes, lease released with RL.LOADUNLOCK): 3 processes x 300 calls on 50 cold keys -> one load per key', async (t) => {
  const coord = await startCoordinator({ port: 0, planDebounceMs: 20, placement: { partitionCount: 32, replicas: 1 } });
  const nodes = [await startNode({ name: 'gl-1', coordinators: [coord.url], server: { port: 0 } }), await startNode({ name: 'gl-2', coordinators: [coord.url], server: { port: 0 } })];
  t.after(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await coord.close();
  });
  // Wait until both nodes serve their partitions.
  const probe = await Ringleader.connect({ coordinators: [coord.url] });
  try {
    const end = Date.now() + 20_000;
    for (;;) {
      const tb = probe.table;
      if (tb && tb.members.length === 2 && nodes.every((n) => n.view.epoch >= tb.epoch)) break;
      assert.ok(Date.now() < end, 'cluster not ready');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    probe.close();
  }
  const log = join(dir, 'loads-3.log');
  const keys = Array.from({ length: 50 }, (_, i) => `rl-customer:${Date.now()}:${i}`);
  const ws = [0, 1, 2].map(() => worker({ LOG: log, KEYS: JSON.stringify(keys), CALLS: '300', LEASE_MS: '5000', COORD: coord.url }));
  const done = await Promise.all(ws.map((w) => w.waitFor(/^done /, 90_000)));
  for (const d of done) assert.equal(JSON.parse(d.slice(5)).bad, 0, d);
  const perKey = new Map<string, number>();
  for (const l of readFileSync(log, 'utf8').trim().split('\n')) perKey.set(l.split(' ')[0]!, (perKey.get(l.split(' ')[0]!) ?? 0) + 1);
  assert.equal(perKey.size, 50);
  assert.deepEqual([...perKey.entries()].filter(([, n]) => n !== 1), []);
  // The leases were released, not left to expire: only the 50 values are stored, no lock keys remain.
  assert.equal(nodes.map((n) => n.server.store?.dbsize() ?? 0).reduce((a, b) => a + b, 0), 50);
});
