// Integration: the coordinator as a real process (the CLI), killed with SIGKILL and restarted on the same data dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CoordinatorClient, MemberSession } from '../src/control/index.js';
import { FileStateStore } from '../src/coordinator/index.js';

interface Proc {
  child: ChildProcess;
  url: string;
  port: number;
}

/** Starts `ringleader coordinator` and resolves once it printed its bound address. */
function startCli(args: string[], t: { after: (fn: () => void) => void }): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'coordinator', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RINGLEADER_LOG_LEVEL: 'info' } });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coordinator did not start: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const j = JSON.parse(line) as { listening?: string };
        if (j.listening) {
          clearTimeout(timer);
          resolve({ child, url: j.listening, port: Number(new URL(j.listening).port) });
        }
      } catch {
        // not a JSON log line
      }
    });
    child.on('exit', (code) => reject(new Error(`coordinator exited with ${code}: ${stderr}`)));
  });
}

function kill9(p: Proc): Promise<void> {
  return new Promise((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill('SIGKILL');
  });
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a coordinator killed with SIGKILL resumes the same epoch and table, and heartbeating members are not disturbed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-coord-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Tolerant deadlines: this test is about restarts, not detection. The lease (15000 − 20% = 12000 ms) outlasts a
  // restart, even a slow one on a loaded machine (5 s seen), so the members' leases must never lapse.
  const flags = ['--partitions', '64', '--heartbeat-ms', '100', '--suspect-after-ms', '5000', '--dead-after-ms', '15000'];
  const first = await startCli(['--port', '0', '--data-dir', dir, ...flags], t);
  const client = new CoordinatorClient({ coordinators: [first.url], requestTimeoutMs: 500, maxAttempts: 1, backoffMinMs: 20, backoffMaxMs: 100 });
  const watch = client.watch();
  t.after(() => watch.close());
  const epochs: number[] = [];
  watch.on('table', (tb) => epochs.push(tb.epoch));
  const sessions = ['a', 'b', 'c'].map((name, i) => {
    const s = new MemberSession(client, { member: { name, address: `127.0.0.1:${7300 + i}` }, appliedEpoch: () => watch.lastEpoch < 0 ? 0 : watch.lastEpoch });
    t.after(() => s.stop());
    return s;
  });
  await Promise.all(sessions.map((s) => s.start()));
  await waitFor(async () => (await client.members()).members.every((m) => m.state === 'active'));
  await waitFor(async () => (await client.getTable()).members.every((m) => m.state === 'active'));
  const before = await client.getTable();
  await waitFor(() => watch.lastEpoch === before.epoch);

  // Leases are checked every 10 ms through the restart and the quiet period after it.
  await waitFor(() => sessions.every((s) => s.lease.valid()));
  let lapses = 0;
  const monitor = setInterval(() => (lapses += sessions.filter((s) => !s.lease.valid()).length), 10);
  t.after(() => clearInterval(monitor));
  const restartStarted = performance.now();
  await kill9(first);
  const second = await startCli(['--port', String(first.port), '--data-dir', dir, ...flags], t);
  t.diagnostic(`coordinator restarted in ${(performance.now() - restartStarted).toFixed(0)} ms (lease 12000 ms)`);
  const after = await client.getTable();
  assert.equal(after.epoch, before.epoch);
  assert.deepEqual(after.toJSON(), before.toJSON());
  // Members keep heartbeating through the restart; for several detection windows nothing changes.
  await new Promise((r) => setTimeout(r, 1500));
  const later = await client.getTable();
  assert.equal(later.epoch, before.epoch, 'no new epoch: nothing moved because the coordinator restarted');
  assert.ok((await client.members()).members.every((m) => m.state === 'active'));
  // The watcher reconnected to the new process and saw no epoch twice.
  assert.deepEqual(epochs, [...new Set(epochs)].sort((x, y) => x - y));
  clearInterval(monitor);
  assert.equal(lapses, 0, 'a restart shorter than the lease never lets a member\'s lease lapse (its node keeps serving)');
  await kill9(second);
});

test('SIGKILL in the middle of a stream of writes never leaves a torn members.json', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-coord-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let port = 0;
  let lastPublished = 0;
  for (let round = 0; round < 3; round++) {
    const proc = await startCli(['--port', String(port), '--data-dir', dir, '--partitions', '512', '--plan-debounce-ms', '0', '--heartbeat-ms', '60000'], t);
    port = proc.port;
    const client = new CoordinatorClient({ coordinators: [proc.url], requestTimeoutMs: 1000, maxAttempts: 1 });
    const resumed = (await client.health()).epoch;
    assert.ok(resumed >= lastPublished, `round ${round}: resumed epoch ${resumed} >= last published ${lastPublished}`);
    const watch = client.watch({ since: resumed });
    let seen = resumed;
    watch.on('table', (tb) => (seen = tb.epoch));
    // Joins as fast as they are answered; every one changes the membership, so the store writes continuously.
    let stop = false;
    let joined = 0;
    let lastError = '';
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        await client
          .join({ name: `r${round}-${i}`, address: `127.0.0.1:${10000 + i}` })
          .then(() => joined++)
          .catch((e: Error) => {
            lastError = e.message;
            return new Promise((r) => setTimeout(r, 20)); // never a hot loop against a dead process
          });
      }
    })();
    const t0 = Date.now();
    try {
      // A few published epochs are enough to be mid-stream; the deadline is generous because a slow disk (fsync per
      // write) makes each epoch slow, and that is not what this test is about.
      await waitFor(() => seen >= resumed + 4 + round * 3, 60_000).catch((e: Error) => {
        throw new Error(`${e.message}: round ${round}, resumed ${resumed}, seen ${seen}, joins ok ${joined}, last error ${lastError}`);
      });
      await kill9(proc);
    } finally {
      stop = true;
      await writer;
      watch.close();
    }
    t.diagnostic(`round ${round}: ${seen - resumed} epochs published in ${Date.now() - t0} ms before SIGKILL`);
    lastPublished = seen;
    // A table is published only after it is stored: the file holds at least the last epoch a watcher saw.
    const text = readFileSync(join(dir, 'members.json'), 'utf8');
    const state = JSON.parse(text) as { epoch: number };
    assert.ok(state.epoch >= seen, `stored epoch ${state.epoch} >= published ${seen}`);
    const loaded = await new FileStateStore(dir).load();
    assert.equal(loaded?.epoch, state.epoch, 'the file passes the state schema');
  }
  const proc = await startCli(['--port', String(port), '--data-dir', dir, '--partitions', '512'], t);
  assert.deepEqual(readdirSync(dir), ['members.json'], 'temp files of interrupted writes are removed at start');
  await kill9(proc);
});
