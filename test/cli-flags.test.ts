// Every subcommand rejects a bad flag the way a new user needs it: one line on stderr naming the flag, exit code 2, no
// stack trace and no JSON log line. Lists have one syntax everywhere (comma-separated and repeatable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePort } from '../src/testing/ports.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ringleader ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** [args, the flag (as typed) the one line must name] */
const BAD: Array<[string[], string]> = [
  [['node', '--port', 'abc'], '--port'],
  [['node', '--port=99999'], '--port'],
  [['node', '--port', '-1'], '--port'],
  [['node', '--maxmemory-policy', 'lfu'], '--maxmemory-policy'],
  [['node', '--maxmemory', '12zb'], '--maxmemory'],
  [['node', '--capacity', '0'], '--capacity'],
  [['node', '--capacity', 'lots'], '--capacity'],
  [['node', '--name', 'bad name!'], '--name'],
  [['node', '--metrics-port', '70000'], '--metrics-port'],
  [['node', '--partitions', '0'], '--partitions'],
  [['node', '--coordinator', 'not a url'], '--coordinator'],
  [['node', '--log-level', 'loud'], '--log-level'],
  [['node', '--prot', '7001'], '--prot'],
  [['coordinator', '--load-factor', '0.5'], '--load-factor'],
  [['coordinator', '--partitions', '70000'], '--partitions'],
  [['coordinator', '--replicas', 'two'], '--replicas'],
  [['coordinator', '--heartbeat-ms', '2000', '--suspect-after-ms', '1000'], '--suspect-after-ms'],
  [['coordinator', '--suspect-after-ms', '900', '--dead-after-ms', '800'], '--dead-after-ms'],
  [['coordinator', '--vnodes', '1e3'], '--vnodes'],
  [['coordinator', '--lease-ms', '1500'], '--lease-ms'],
  [['coordinator', '--lease-ms', '400'], '--lease-ms'],
  [['node', '--lease-mode', 'lenient'], '--lease-mode'],
  [['client', '--port', 'x'], '--port'],
  [['client', '--coordinator', 'ftp://x'], '--coordinator'],
  [['client', '--coordinator', ','], '--coordinator'],
  [['demo', '--nodes', '0'], '--nodes'],
  [['demo', '--churn-ms', 'soon'], '--churn-ms'],
  [['status', '--timeout-ms', '0'], '--timeout-ms'],
  [['status', '--coordinator', 'x'], '--coordinator'],
  [['members', '--jsn'], '--jsn'],
  [['locate', 'k', '--timeout-ms', 'x'], '--timeout-ms'],
  [['drain', 'n', '--wait-timeout-ms', '-5'], '--wait-timeout-ms'],
  [['status', '--token-file', '/nonexistent/token'], '--token-file'],
];

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) await fn(t);
  }));
}

test('a bad flag on any subcommand: one line naming the flag, exit 2, no stack trace, no log line', async () => {
  await pool(BAD, 3, async ([args, flag]) => {
    const r = await cli(args);
    const what = `ringleader ${args.join(' ')} -> exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
    assert.equal(r.code, 2, what);
    assert.equal(r.stdout, '', what);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, what);
    assert.ok(lines[0]!.startsWith(`ringleader ${args[0]}: `), what);
    assert.ok(lines[0]!.includes(flag), `names ${flag}: ${what}`);
    assert.doesNotMatch(r.stderr, /\n\s+at |"level":|Error:/, what);
  });
});

test('missing arguments and unknown commands are usage errors too; --help exits 0', async () => {
  for (const args of [['locate'], ['drain'], ['bogus'], ['status', 'extra']]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  }
  const help = await cli(['node', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--coordinator <url>/);
});

test('lists: comma-separated and repeated --coordinator are the same list, on every subcommand that takes one', async () => {
  const [a, b, c] = [await freePort(), await freePort(), await freePort()];
  // Nothing listens on these ports: the error lists every coordinator tried, in order.
  const r = await cli(['status', '--timeout-ms', '2000', '--coordinator', `http://127.0.0.1:${a},http://127.0.0.1:${b}`, '--coordinator', `http://127.0.0.1:${c}`]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  const tried = [...r.stderr.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(tried, [a, b, c], r.stderr);
  for (const sub of ['node', 'client', 'status', 'members', 'locate', 'drain']) {
    const h = await cli([sub, '--help']);
    assert.match(h.stdout, /--coordinator <url>\s+coordinator URL; comma-separated or repeated/, `${sub} --help:\n${h.stdout}`);
  }
});
