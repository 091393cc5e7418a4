// `ringleader status | members | locate | drain` against a real coordinator and 3 real node processes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator, startNodeProcess, waitUntil, type Proc } from './node-helpers.js';

const procs: Proc[] = [];
let cleanup: (() => void) | null = null;
after(() => {
  for (const p of procs) p.kill();
  cleanup?.();
});

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function json<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

interface TableJson { epoch: number; members: Array<{ id: string; name: string; state: string }>; partitions: string[][]; states?: string[][] }

/** How many copies of `state` member `id` holds (format 1: primary first, then backups). */
function held(t: TableJson, id: string, state: string): number {
  let n = 0;
  t.partitions.forEach((ids, p) => ids.forEach((x, i) => {
    if (x === id && (t.states?.[p]?.[i] ?? (i === 0 ? 'primary' : 'backup')) === state) n++;
  }));
  return n;
}

test('status, members, locate and drain (text and --json) agree with the coordinator', async () => {
  const coord = await startCoordinator(['--partitions', '16', '--replicas', '2']);
  procs.push(coord.proc);
  cleanup = coord.cleanup;
  const url = coord.url;
  for (const name of ['ops-a', 'ops-b', 'ops-c']) procs.push((await startNodeProcess(['--coordinator', url, '--name', name])).proc);
  await waitUntil('3 active members that applied the current table', async () => {
    const t = await json<TableJson>(`${url}/v1/table`);
    const m = await json<{ members: Array<{ state: string; appliedEpoch: number }> }>(`${url}/v1/members`);
    return t.members.filter((x) => x.state === 'active').length === 3 && m.members.every((x) => x.appliedEpoch === t.epoch);
  }, 60_000);
  await waitUntil('statistics from every node', async () => (await json<{ members: unknown[] }>(`${url}/v1/stats`)).members.length === 3, 30_000);

  // Copies may still be syncing (a new epoch each time one is done): compare against a table of the same epoch,
  // taken before and after both runs of `status`.
  type Report = { epoch: number; members: Array<{ id: string; name: string; primaries: number; backups: number; learners: number; usedBytes: number | null; opsPerSec: number | null }>; warnings: string[]; balance: { idealPrimaries: number } };
  let report!: Report;
  let table!: TableJson;
  let text!: { code: number | null; stdout: string; stderr: string };
  await waitUntil('a table that stays the same while status runs', async () => {
    const before = await json<TableJson>(`${url}/v1/table`);
    const s = await cli(['status', '--json', '--coordinator', url]);
    assert.equal(s.code, 0, s.stderr);
    text = await cli(['status', '--coordinator', url]);
    assert.equal(text.code, 0, text.stderr);
    report = JSON.parse(s.stdout) as Report;
    table = await json<TableJson>(`${url}/v1/table`);
    return before.epoch === table.epoch && report.epoch === table.epoch;
  }, 120_000);
  assert.deepEqual(report.members.map((m) => m.name), ['ops-a', 'ops-b', 'ops-c']);
  for (const m of report.members) {
    assert.equal(m.primaries, held(table, m.id, 'primary'), `${m.name} primaries`);
    assert.equal(m.backups, held(table, m.id, 'backup'), `${m.name} backups`);
    assert.equal(m.learners, held(table, m.id, 'learner'), `${m.name} learners`);
    assert.equal(typeof m.usedBytes, 'number', 'memory from heartbeats');
    assert.equal(typeof m.opsPerSec, 'number', 'ops/s from heartbeats');
  }
  assert.equal(report.members.reduce((a, m) => a + m.primaries, 0), 16);
  assert.equal(report.balance.idealPrimaries, 5.3);

  assert.match(text.stdout, new RegExp(`^epoch ${table.epoch} {2}partitions 16 {2}replicas 2 {2}members 3`));
  for (const n of ['ops-a', 'ops-b', 'ops-c']) assert.match(text.stdout, new RegExp(`^${n}\\s+active`, 'm'));
  assert.match(text.stdout, /^balance: ideal 5\.3 primaries per member/m);
  // Warnings follow the table: partitions short of serving copies (learners still syncing) are named, else none.
  const short = table.partitions.filter((ids, p) => ids.filter((_, i) => ['primary', 'backup'].includes(table.states?.[p]?.[i] ?? (i === 0 ? 'primary' : 'backup'))).length < 2).length;
  if (short === 0) assert.match(text.stdout, /^warnings: none$/m);
  else assert.match(text.stdout, new RegExp(`^ {2}! ${short} partition\\(s\\) with fewer than 2 serving copies`, 'm'));

  const loc = await cli(['locate', 'user:42', '--json', '--coordinator', url]);
  assert.equal(loc.code, 0, loc.stderr);
  assert.deepEqual(JSON.parse(loc.stdout), await json(`${url}/v1/locate/user%3A42`));
  const locText = await cli(['locate', 'user:42', '--coordinator', url]);
  assert.match(locText.stdout, /^key "user:42" {2}slot \d+ {2}partition \d+/);
  assert.match(locText.stdout, /^primary {2}ops-[abc] \(127\.0\.0\.1:\d+\)$/m);

  const mem = await cli(['members', '--json', '--coordinator', url]);
  assert.equal(mem.code, 0, mem.stderr);
  assert.deepEqual((JSON.parse(mem.stdout) as { members: Array<{ name: string; state: string }> }).members.map((m) => [m.name, m.state]), [['ops-a', 'active'], ['ops-b', 'active'], ['ops-c', 'active']]);

  const unknown = await cli(['drain', 'nobody', '--coordinator', url]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^ringleader drain: no member named "nobody" \(members: ops-a, ops-b, ops-c\)\n$/);

  const drain = await cli(['drain', 'ops-c', '--wait', '--json', '--coordinator', url]);
  assert.equal(drain.code, 0, drain.stderr);
  assert.equal((JSON.parse(drain.stdout) as { state: string }).state, 'left');
  await waitUntil('ops-c out of the table', async () => !(await json<TableJson>(`${url}/v1/table`)).members.some((m) => m.name === 'ops-c'), 30_000);
  const after2 = JSON.parse((await cli(['status', '--json', '--coordinator', url])).stdout) as { members: Array<{ name: string; primaries: number }> };
  assert.deepEqual(after2.members.map((m) => m.name), ['ops-a', 'ops-b']);
  assert.equal(after2.members.reduce((a, m) => a + m.primaries, 0), 16);
  const h = await json<{ members: number }>(`${url}/healthz`);
  assert.equal(h.members, 2, '/healthz does not count the member that left');
});

test('the CLI sends Authorization: Bearer from RINGLEADER_TOKEN or --token-file', async () => {
  const seen: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ key: 'k', slot: 1, partition: 0, primary: null, backups: [], epoch: 1 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'rl-token-'));
  try {
    const file = join(dir, 'token');
    writeFileSync(file, 's3cret-from-file\n');
    const base = ['locate', 'k', '--json', '--coordinator', `http://127.0.0.1:${port}`];
    assert.equal((await cli(base, { RINGLEADER_TOKEN: 's3cret-env' })).code, 0);
    assert.equal((await cli([...base, '--token-file', file], { RINGLEADER_TOKEN: '' })).code, 0);
    assert.equal((await cli(base, { RINGLEADER_TOKEN: '' })).code, 0);
    assert.deepEqual(seen, ['Bearer s3cret-env', 'Bearer s3cret-from-file', undefined]);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
