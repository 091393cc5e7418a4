// Integration: the authenticated control plane. A coordinator with a token refuses every change without it (401,
// one stable code, nothing changes), nodes/clients that present it work, --public-reads opens reads only, and
// without a token the coordinator listens on loopback only. The CLI reads --token-file / RINGLEADER_TOKEN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator, tokenMatches, isLoopbackHost, validateToken } from '../src/coordinator/index.js';
import { CoordinatorClient, MemberSession } from '../src/control/index.js';
import { startNode } from '../src/node/index.js';
import { Ringleader } from '../src/client/index.js';
import { readToken } from '../src/cli/options.js';

const TOKEN = 's3cr3t-token_for.tests';

async function call(url: string, method: string, path: string, opts: { token?: string; body?: unknown; header?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.header !== undefined) headers['authorization'] = opts.header;
  else if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  const res = await fetch(url + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').startsWith('application/json') && text ? (JSON.parse(text) as Record<string, unknown>) : null;
  return { status: res.status, json, headers: res.headers };
}

const JOIN = { name: 'n1', address: '127.0.0.1:7001' };

test('token: every change needs it; missing or wrong gets 401 UNAUTHORIZED and nothing changes', async (t) => {
  const c = await startCoordinator({ port: 0, token: TOKEN, planDebounceMs: 0 });
  t.after(() => c.close());
  const id = '0'.repeat(40);
  const attempts = [
    { method: 'POST', path: '/v1/members', body: JOIN },
    { method: 'PUT', path: `/v1/members/${id}/heartbeat`, body: { appliedEpoch: 0 } },
    { method: 'DELETE', path: `/v1/members/${id}` },
    { method: 'POST', path: '/v1/recover', body: { garbage: true } },
    // a route nobody registered: still 401 before 404 (the hook is on method, not per route)
    { method: 'PUT', path: `/v1/members/${id}/copies`, body: {} },
  ];
  for (const a of attempts) {
    for (const auth of [{}, { token: 'wrong' }, { token: TOKEN + 'x' }, { header: TOKEN }, { header: 'Basic abc' }, { header: 'Bearer ' }]) {
      const r = await call(c.url, a.method, a.path, { ...auth, body: a.body });
      assert.equal(r.status, 401, `${a.method} ${a.path} ${JSON.stringify(auth)}`);
      assert.equal((r.json!['error'] as { code: string }).code, 'UNAUTHORIZED');
      assert.ok(!JSON.stringify(r.json).includes(TOKEN), 'the token is never echoed');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
  }
  // reads are protected too without --public-reads; /healthz stays open for probes
  for (const path of ['/v1/table', '/v1/members', '/v1/watch', '/metrics', '/v1/locate/k']) {
    assert.equal((await call(c.url, 'GET', path)).status, 401, path);
  }
  assert.equal((await call(c.url, 'GET', '/healthz')).status, 200);
  await c.coordinator.flush();
  assert.equal(c.coordinator.epoch, 0, 'nothing was published');
  assert.equal(c.coordinator.members().length, 0, 'nobody joined');

  // with the token, the same join works
  const ok = await call(c.url, 'POST', '/v1/members', { token: TOKEN, body: JOIN });
  assert.equal(ok.status, 200);
  assert.equal(typeof ok.json!['clusterId'], 'string');
  const readOk = await call(c.url, 'GET', '/v1/members', { token: TOKEN });
  assert.equal(readOk.status, 200);
});

test('--public-reads: reads and the watch need no token, changes still do', async (t) => {
  const c = await startCoordinator({ port: 0, token: TOKEN, publicReads: true });
  t.after(() => c.close());
  for (const path of ['/v1/table', '/v1/members', '/metrics', '/v1/locate/k']) assert.equal((await call(c.url, 'GET', path)).status, 200, path);
  const ac = new AbortController();
  const w = await fetch(c.url + '/v1/watch', { signal: ac.signal });
  assert.equal(w.status, 200);
  ac.abort();
  assert.equal((await call(c.url, 'POST', '/v1/members', { body: JOIN })).status, 401);
});

test('nodes and clients present the token; the control client surfaces 401 as UNAUTHORIZED', async (t) => {
  const c = await startCoordinator({ port: 0, token: TOKEN, planDebounceMs: 0, heartbeatMs: 100, suspectAfterMs: 1000, deadAfterMs: 2000 });
  t.after(() => c.close());
  const anon = new CoordinatorClient({ coordinators: [c.url] });
  await assert.rejects(anon.join(JOIN), (e: { code?: string }) => e.code === 'UNAUTHORIZED');
  const bad = new MemberSession(new CoordinatorClient({ coordinators: [c.url], token: 'nope' }), { member: JOIN, appliedEpoch: () => 0 });
  await assert.rejects(bad.start(), (e: { code?: string }) => e.code === 'UNAUTHORIZED', 'a wrong token is not retried for 30 s');

  const node = await startNode({ name: 'auth-node', coordinators: [c.url], coordinatorToken: TOKEN, server: { port: 0 } });
  t.after(() => node.close());
  const table = await node.waitForTable(1);
  assert.equal(table.members.length, 1);
  const client = await Ringleader.connect({ coordinators: [c.url], coordinatorToken: TOKEN, connectTimeoutMs: 10_000 });
  t.after(() => client.close());
  await client.set('k', 'v');
  assert.equal(await client.get('k'), 'v');
  await assert.rejects(Ringleader.connect({ coordinators: [c.url], connectTimeoutMs: 1500 }), (e: { code?: string }) => e.code === 'NO_TABLE');
});

test('without a token: loopback only, and said so', async () => {
  await assert.rejects(startCoordinator({ port: 0, host: '0.0.0.0' }), /loopback only/);
  await assert.rejects(startCoordinator({ port: 0, token: 'has space' }), /printable ASCII/);
  const c = await startCoordinator({ port: 0, host: '0.0.0.0', token: TOKEN });
  await c.close();
  assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost') && isLoopbackHost('127.1.2.3'));
  assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('::') && !isLoopbackHost('10.0.0.1') && !isLoopbackHost('example.com'));
  assert.ok(tokenMatches('abc', 'abc') && !tokenMatches('abc', 'abd') && !tokenMatches('ab', 'abc') && !tokenMatches('', 'abc'));
  assert.throws(() => validateToken(''), /empty/);
  assert.throws(() => validateToken('x'.repeat(5000)), /longer/);
});

test('CLI: --token-file and RINGLEADER_TOKEN; bad files are clear errors that never print the token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'token');
  writeFileSync(file, TOKEN + '\n');
  assert.equal(readToken(file, {}), TOKEN);
  assert.equal(readToken(undefined, { RINGLEADER_TOKEN: TOKEN }), TOKEN);
  assert.equal(readToken(undefined, {}), null);
  assert.throws(() => readToken(join(dir, 'missing'), {}), /--token-file .*ENOENT/);
  writeFileSync(join(dir, 'spaces'), 'two words\n');
  assert.throws(() => readToken(join(dir, 'spaces'), {}), (e: Error) => /printable ASCII/.test(e.message) && !e.message.includes('two words'));
  writeFileSync(join(dir, 'empty'), '');
  assert.throws(() => readToken(join(dir, 'empty'), {}), /printable ASCII/);
  assert.throws(() => readToken(dir, {}), /not a regular file/);

  // the real CLI, token from the environment: the log never contains it, and a change without it is refused
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'coordinator', '--port', '0', '--host', '0.0.0.0'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RINGLEADER_TOKEN: TOKEN },
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 20_000;
  while (!/"listening":"([^"]+)"/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const url = /"listening":"([^"]+)"/.exec(out)![1]!.replace('0.0.0.0', '127.0.0.1');
  assert.equal((await call(url, 'POST', '/v1/members', { body: JOIN })).status, 401);
  assert.equal((await call(url, 'POST', '/v1/members', { token: TOKEN, body: JOIN })).status, 200);
  assert.ok(!out.includes(TOKEN), 'the token never appears in the logs');
});
