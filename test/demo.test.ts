// The seed demo end to end: `ringleader demo` on ephemeral ports with 3 nodes and fast churn. The customer endpoint
// answers with the key's location and a value loaded once from the slow fake DB; the epoch advances as nodes come and
// go; SIGTERM stops every process the demo started (no orphans), the nodes leave first, and a second run starts clean;
// a demo killed hard (SIGKILL) takes its children with it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keySlot } from '../src/hashing/slot.js';
import { freePort } from '../src/testing/ports.js';

/** Every descendant pid of `pid` (children, grandchildren...). */
function descendants(pid: number): number[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const kids = new Map<number, number[]>();
  for (const line of out.trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number) as [number, number];
    if (!kids.has(pp)) kids.set(pp, []);
    kids.get(pp)!.push(p);
  }
  const all: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const k of kids.get(stack.pop()!) ?? []) {
      all.push(k);
      stack.push(k);
    }
  }
  return all;
}

/** The last lines of every child log the demo wrote (for failure messages). */
function tailLogs(logDir: string): string {
  try {
    return readdirSync(logDir)
      .map((f) => `--- ${f} ---\n${readFileSync(join(logDir, f), 'utf8').split('\n').slice(-15).join('\n')}`)
      .join('\n');
  } catch (err) {
    return `(no logs: ${(err as Error).message})`;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let demo: ChildProcess | null = null;
let known: number[] = [];
const dir = mkdtempSync(join(tmpdir(), 'rl-demo-'));

after(async () => {
  // On failure: ask the demo to clean up (SIGINT), then kill its whole process group (it runs detached in its own),
  // so a failing run leaves no processes behind either.
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    known = [...new Set([...known, ...descendants(demo.pid!)])];
    const gone = new Promise((r) => demo!.once('exit', r));
    demo.kill('SIGINT');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
    try {
      process.kill(-demo.pid!, 'SIGKILL');
    } catch {
      // group already gone
    }
  }
  for (const p of known) if (alive(p)) process.kill(p, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('the demo serves /customer/1232 with location and a once-loaded value, churns epochs, and SIGTERM leaves no orphans', async () => {
  const coordinatorPort = await freePort();
  const clientPort = await freePort();
  // Below the ephemeral range (32768+), and so are the nodes' metrics ports (RESP port + 10000).
  const basePort = 10000 + Math.floor(Math.random() * 12000);
  demo = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--nodes', '3', '--churn-ms', '1500', '--coordinator-port', String(coordinatorPort), '--client-port', String(clientPort), '--base-port', String(basePort), '--data-dir', dir, '--partitions', '64'],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let out = '';
  demo.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => demo!.once('exit', (code) => r(code)));

  const deadline = Date.now() + 100_000;
  while (!out.includes('ready.')) {
    assert.ok(Date.now() < deadline, `demo not ready within 100 s; output:\n${out}`);
    assert.equal(demo.exitCode, null, `demo exited early:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const url = `http://127.0.0.1:${clientPort}/customer/1232`;
  const first = await getJson(url);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const b = first.body as { key: string; slot: number; partition: number; primary: { name: string; address: string }; backups: unknown[]; epoch: number; value: { id: number }; loads: number };
  const show = JSON.stringify(b);
  assert.equal(b.key, 'customer:1232', show);
  assert.equal(b.slot, keySlot('customer:1232'), show);
  assert.equal(b.partition, Math.floor((b.slot * 64) / 16384), show);
  assert.match(b.primary.name, /^node-\d+$/, show);
  assert.match(b.primary.address, /^127\.0\.0\.1:\d+$/, show);
  assert.equal(b.value.id, 1232, show);
  assert.equal(b.loads, 1, show);
  const again = await getJson(url);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  // Cached now; copies move with the partition, so churn never makes it load again.
  assert.equal((again.body as { loads: number }).loads, 1, JSON.stringify(again.body));

  // Churn moves the cluster to new epochs and the endpoint reports them: wait for a churn step, then for a newer epoch.
  while (!/churn: (stopping|starting) node-\d+/.test(out)) {
    assert.ok(Date.now() < deadline + 30_000, `no churn step; output:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const base = (await getJson(url)).body as { epoch: number };
  let epoch = base.epoch;
  while (epoch <= base.epoch) {
    assert.ok(Date.now() < deadline + 60_000, `epoch did not advance past ${base.epoch}; output:\n${out}`);
    await new Promise((r) => setTimeout(r, 300));
    const r = await getJson(url);
    if (r.status === 200) {
      epoch = (r.body as { epoch: number }).epoch;
      assert.equal((r.body as { loads: number }).loads, 1, `the value moved with its partition through churn: ${JSON.stringify(r.body)}`);
    }
  }
  assert.match(out, /epoch \d+ {2}members \d+/, 'prints a line per epoch');

  known = descendants(demo.pid!);
  assert.ok(known.length >= 4, `expected the coordinator, the client and at least 2 nodes as children, saw ${known.length}`);
  // A join or a leave prints one epoch line, not a second one for the member's bookkeeping transition.
  for (const line of out.split('\n')) {
    const events = /\(([^)]*)\)/.exec(line)?.[1];
    if (line.includes(' epoch ') && events) assert.ok(!events.split(', ').every((e) => / (active|left)$/.test(e)), `bookkeeping-only epoch printed: ${line}\n${out}`);
  }
  // `kill -TERM` as a user would: the nodes stop first (they leave while the coordinator answers), then the rest.
  const stopAt = Date.now();
  demo.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
  assert.notEqual(code, 'timeout', `demo did not exit after SIGTERM:\n${out}`);
  // The stop is bounded by design (~1.3 s for nodes, ~0.5 s for the coordinator, then SIGKILL): allow a loaded machine
  // a wide margin, but not the old 5 s + 3 s grace periods.
  assert.ok(Date.now() - stopAt < 6000, `stop took ${Date.now() - stopAt} ms`);
  assert.match(out, /all stopped/, out);
  // A child killed at the very end may need a moment to be reaped by init after the demo exited.
  let stillAlive = known.filter(alive);
  for (let i = 0; i < 30 && stillAlive.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    stillAlive = known.filter(alive);
  }
  const describe = stillAlive.length ? execFileSync('ps', ['-o', 'pid,ppid,stat,etime,args', '-p', stillAlive.join(',')], { encoding: 'utf8' }) : '';
  assert.deepEqual(stillAlive, [], `no orphan processes:\n${describe}\n${out}`);
});

async function runDemo(args: string[]): Promise<{ proc: ChildProcess; output: () => string; exited: Promise<unknown> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  proc.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise((r) => proc.once('exit', r));
  const deadline = Date.now() + 100_000;
  while (!text.includes('ready.')) {
    assert.ok(Date.now() < deadline, `demo not ready within 100 s; output:\n${text}`);
    assert.equal(proc.exitCode, null, `demo exited early:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, output: () => text, exited };
}

test('a second run on the same data dir starts clean; a demo killed with SIGKILL leaves no processes behind', async () => {
  // The first test's run left its state in `dir`. A new run shows only its own nodes.
  const args = ['--nodes', '2', '--no-churn', '--coordinator-port', String(await freePort()), '--client-port', String(await freePort()), '--base-port', String(10000 + Math.floor(Math.random() * 12000)), '--data-dir', dir, '--partitions', '16'];
  const run = await runDemo(args);
  demo = run.proc;
  // `ready.` comes from the client service; the epoch lines come from the demo's own watcher: wait for both nodes.
  const until2 = Date.now() + 60_000;
  while (!/ epoch \d+ {2}members 2 /.test(run.output())) {
    assert.ok(Date.now() < until2, `no epoch line with both nodes:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const epochLines = run.output().split('\n').filter((l) => / epoch \d+ /.test(l));
  for (const l of epochLines) {
    const members = Number(/members (\d+)/.exec(l)![1]);
    assert.ok(members <= 2, `ghost members from the earlier run: ${l}\n${run.output()}`);
    assert.doesNotMatch(l, /-> nobody/, run.output());
  }
  known = descendants(run.proc.pid!);
  assert.ok(known.length >= 3, `expected coordinator, client and nodes, saw ${known.length}`);
  run.proc.kill('SIGKILL');
  await run.exited;
  // Its children notice (their stdin pipe closed) and stop by themselves.
  let stillAlive = known.filter(alive);
  const until = Date.now() + 20_000;
  while (stillAlive.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    stillAlive = known.filter(alive);
  }
  const describe = stillAlive.length ? execFileSync('ps', ['-o', 'pid,ppid,stat,etime,args', '-p', stillAlive.join(',')], { encoding: 'utf8' }) : '';
  const logs = stillAlive.length ? tailLogs(join(dir, 'logs')) : '';
  assert.deepEqual(stillAlive, [], `children outlived a killed demo:\n${describe}\n${logs}`);
});
