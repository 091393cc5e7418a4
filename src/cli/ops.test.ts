import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bar, fmtBytes, statusReport, statusText } from './ops.js';
import { asUsageError, bytesOption, coordinatorsOption, intOption, numberOption, UsageError } from './options.js';
import { prettyLine } from '../shared/logger.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const member = (id: string, name: string, state = 'active') => ({ id, name, address: `127.0.0.1:${name.length}`, zone: null, capacity: 1, state });
const status = (id: string, name: string, appliedEpoch: number, state = 'active') => ({ ...member(id, name, state), state: state as 'active', incarnation: 1, appliedEpoch, lastHeartbeatAgoMs: 10 });

test('statusReport counts copies by state (format 2), balance, syncs, hand-overs and warnings', () => {
  const table = {
    epoch: 9, partitionCount: 4, replicas: 2,
    members: [member(A, 'a'), member(B, 'b'), member(C, 'c')],
    partitions: [[A, B], [B, A, C], [A], [C, B]],
    states: [['primary', 'backup'], ['primary', 'backup', 'learner'], ['primary'], ['primary', 'handing-off']],
    terms: [1, 2, 1, 3],
  };
  const members = { epoch: 9, members: [status(A, 'a', 9), status(B, 'b', 7), status(C, 'c', 9)] };
  const stats = { members: [{ id: A, usedBytes: 95, maxMemoryBytes: 100, keys: 3, opsPerSec: 12, connectedClients: 1, ageMs: 5 }] };
  const r = statusReport(table, members, stats);
  assert.deepEqual(r.members.map((m) => [m.name, m.primaries, m.backups, m.learners, m.handingOff]), [['a', 2, 1, 0, 0], ['b', 1, 1, 0, 1], ['c', 1, 0, 1, 0]]);
  assert.deepEqual(r.balance, { idealPrimaries: 1.3, maxPrimaries: 2, minPrimaries: 1, ratio: 1.5 });
  assert.deepEqual(r.syncs, { learnerCopies: 1, partitions: [1], servingCopies: 6, totalCopies: 8, progress: 0.75 });
  assert.deepEqual(r.handovers, { handingOffCopies: 1, partitions: [3] });
  assert.deepEqual(r.warnings, [
    'a memory near its limit: 95B of 100B (95%)',
    'b is behind: applied epoch 7, current 9',
    '2 partition(s) with fewer than 2 serving copies: 2, 3',
  ]);
  const text = statusText(r);
  assert.match(text, /^epoch 9 {2}partitions 4 {2}replicas 2 {2}members 3$/m);
  assert.match(text, /^syncing: 1 copies in 1 partitions {2}\[###############\.\.\.\.\.\] 75% of copies serving$/m);
  assert.match(text, /^ {2}c {2}\[##########\.\.\.\.\.\.\.\.\.\.\] 50% {2}1 syncing, 1 serving$/m);
  assert.match(text, /^hand-overs: 1 in partitions 3$/m);
});

test('statusReport reads a format-1 table as primary first, then backups; an empty cluster has no warnings but the short partitions', () => {
  const r = statusReport({ epoch: 2, partitionCount: 2, replicas: 2, members: [member(A, 'a')], partitions: [[A], [A]] }, { epoch: 2, members: [status(A, 'a', 2)] }, null);
  assert.deepEqual(r.members.map((m) => [m.primaries, m.backups, m.usedBytes]), [[2, 0, null]]);
  assert.deepEqual(r.warnings, [], 'one member: one copy is all there can be');
  const empty = statusReport({ epoch: 0, partitionCount: 3, replicas: 2, members: [], partitions: [[], [], []] }, { epoch: 0, members: [] }, null);
  assert.deepEqual(empty.warnings, ['3 partition(s) with fewer than 1 serving copies: 0, 1, 2']);
  assert.equal(empty.balance.ratio, 0);
});

test('bar and fmtBytes', () => {
  assert.equal(bar(0.5, 10), '[#####.....] 50%');
  assert.equal(bar(7, 4), '[####] 100%');
  assert.equal(bar(-1, 4), '[....] 0%');
  assert.equal(fmtBytes(512), '512B');
  assert.equal(fmtBytes(1536), '1.5KB');
  assert.equal(fmtBytes(3 * 1024 ** 3), '3.0GB');
});

test('flag parsers name the flag and refuse garbage', () => {
  const port = intOption('--port', 0, 65535);
  assert.equal(port('7001'), 7001);
  for (const bad of ['', 'abc', '1.5', '0x10', '70000', '-1', '1e3', ' ']) assert.throws(() => port(bad), (e: Error) => e instanceof UsageError && e.message.startsWith('--port must be'), bad);
  const lf = numberOption('--load-factor', 1, 100, true);
  assert.equal(lf('1.25'), 1.25);
  for (const bad of ['1', '0.5', 'NaN', 'Infinity', '101', '']) assert.throws(() => lf(bad), UsageError, bad);
  assert.equal(bytesOption('--maxmemory')('256mb'), 256 * 1024 * 1024);
  assert.throws(() => bytesOption('--maxmemory')('12zb'), /--maxmemory must be a size/);
  assert.deepEqual(coordinatorsOption('http://a:1, http://b:2/', undefined), ['http://a:1', 'http://b:2']);
  assert.deepEqual(coordinatorsOption('https://c:3', ['http://a:1']), ['http://a:1', 'https://c:3']);
  for (const bad of [',', 'a:1', 'ftp://x', 'http://']) assert.throws(() => coordinatorsOption(bad, undefined), /--coordinator/, bad);
  assert.throws(() => coordinatorsOption(Array.from({ length: 17 }, (_, i) => `http://h${i}:1`).join(','), undefined), /at most 16/);
  const e = asUsageError(new TypeError('suspectAfterMs (900) must be > heartbeatMs (1000); NodeServerOptions.port bad'), { suspectAfterMs: '--suspect-after-ms', heartbeatMs: '--heartbeat-ms', port: '--port' });
  assert.ok(e instanceof UsageError);
  assert.equal(e.message, '--suspect-after-ms (900) must be > --heartbeat-ms (1000); --port bad');
});

test('prettyLine formats pino JSON and passes anything else through', () => {
  const line = prettyLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 1, 12, 0, 1, 234), pid: 1, hostname: 'h', name: 'node', msg: 'slow', ms: 12, err: { message: 'x' } }));
  assert.equal(line, '12:00:01.234 WARN  node: slow  ms=12 err={"message":"x"}');
  for (const junk of ['', 'not json', '42', 'null', '[1,2]', '{"msg":', '\u0000\uffff']) assert.equal(typeof prettyLine(junk), 'string', junk);
  assert.equal(prettyLine('plain text'), 'plain text');
});
