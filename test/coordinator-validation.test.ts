// Integration: bad input gets a 4xx with a stable code and changes nothing (real HTTP, port 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoordinator } from '../src/coordinator/index.js';
import { CoordinatorClient } from '../src/control/index.js';

test('every kind of bad request gets its 4xx code and changes nothing', async (t) => {
  const running = await startCoordinator({ port: 0, suspectAfterMs: 60_000, deadAfterMs: 120_000, planDebounceMs: 0, placement: { partitionCount: 8, replicas: 2 } });
  t.after(() => running.close());
  const url = running.url;
  const client = new CoordinatorClient({ coordinators: [url] });
  const a = await client.join({ name: 'a', address: '127.0.0.1:7001' });
  await running.coordinator.flush();
  const snapshot = async () => {
    await running.coordinator.flush();
    const m = await client.members();
    return JSON.stringify({ epoch: m.epoch, members: m.members.map(({ lastHeartbeatAgoMs: _, ...rest }) => rest) });
  };
  const before = await snapshot();

  const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const cases: Array<[string, string, string, RequestInit, number, string]> = [
    ['body over the size limit', 'POST', '/v1/members', json({ name: 'x'.repeat(70_000), address: '127.0.0.1:1' }), 413, 'BODY_TOO_LARGE'],
    ['invalid JSON', 'POST', '/v1/members', { body: '{"name": "b",', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON'],
    ['empty JSON body', 'POST', '/v1/members', { body: '', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON'],
    ['not JSON at all', 'POST', '/v1/members', { body: 'name=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no body', 'POST', '/v1/members', {}, 400, 'INVALID_REQUEST'],
    ['unknown field', 'POST', '/v1/members', json({ name: 'b', address: '127.0.0.1:7002', weight: 3 }), 400, 'INVALID_REQUEST'],
    ['__proto__ field', 'POST', '/v1/members', { body: '{"name":"b","address":"127.0.0.1:7002","__proto__":{"x":1}}', headers: { 'content-type': 'application/json' } }, 400, 'INVALID_JSON'],
    ['wrong type: name', 'POST', '/v1/members', json({ name: 7, address: '127.0.0.1:7002' }), 400, 'INVALID_REQUEST'],
    ['wrong type: capacity', 'POST', '/v1/members', json({ name: 'b', address: '127.0.0.1:7002', capacity: '2' }), 400, 'INVALID_REQUEST'],
    ['capacity out of range', 'POST', '/v1/members', json({ name: 'b', address: '127.0.0.1:7002', capacity: 0 }), 400, 'INVALID_REQUEST'],
    ['control character in name', 'POST', '/v1/members', json({ name: 'b\u0000c', address: '127.0.0.1:7002' }), 400, 'INVALID_REQUEST'],
    ['newline in name', 'POST', '/v1/members', json({ name: 'b\nc', address: '127.0.0.1:7002' }), 400, 'INVALID_REQUEST'],
    ['path in name', 'POST', '/v1/members', json({ name: '../etc', address: '127.0.0.1:7002' }), 400, 'INVALID_REQUEST'],
    ['slash in name', 'POST', '/v1/members', json({ name: 'a/b', address: '127.0.0.1:7002' }), 400, 'INVALID_REQUEST'],
    ['address without port', 'POST', '/v1/members', json({ name: 'b', address: 'localhost' }), 400, 'INVALID_REQUEST'],
    ['zone with control chars', 'POST', '/v1/members', json({ name: 'b', address: '127.0.0.1:7002', zone: 'z\u0007' }), 400, 'INVALID_REQUEST'],
    ['unsupported protocol version', 'POST', '/v1/members', json({ name: 'b', address: '127.0.0.1:7002', protocolVersion: 2 }), 400, 'UNSUPPORTED_PROTOCOL_VERSION'],
    ['duplicate name with another address', 'POST', '/v1/members', json({ name: 'a', address: '127.0.0.1:9999' }), 409, 'DUPLICATE_MEMBER_NAME'],
    ['heartbeat: unknown field', 'PUT', `/v1/members/${a.id}/heartbeat`, json({ appliedEpoch: 1, extra: true }), 400, 'INVALID_REQUEST'],
    ['heartbeat: wrong type', 'PUT', `/v1/members/${a.id}/heartbeat`, json({ appliedEpoch: '1' }), 400, 'INVALID_REQUEST'],
    ['heartbeat: negative epoch', 'PUT', `/v1/members/${a.id}/heartbeat`, json({ appliedEpoch: -1 }), 400, 'INVALID_REQUEST'],
    ['heartbeat: epoch ahead', 'PUT', `/v1/members/${a.id}/heartbeat`, json({ appliedEpoch: 99 }), 409, 'EPOCH_AHEAD'],
    ['heartbeat: stale incarnation', 'PUT', `/v1/members/${a.id}/heartbeat`, json({ appliedEpoch: 1, incarnation: 7 }), 409, 'STALE_INCARNATION'],
    ['heartbeat: unknown member', 'PUT', `/v1/members/${'0'.repeat(40)}/heartbeat`, json({ appliedEpoch: 0 }), 404, 'MEMBER_NOT_FOUND'],
    ['heartbeat: stats with an unknown field', 'PUT', `/v1/members/${a.id}/heartbeat`, json({ appliedEpoch: 1, stats: { usedBytes: 1, maxMemoryBytes: 0, keys: 0, opsPerSec: 0, connectedClients: 0, cpu: 1 } }), 400, 'INVALID_REQUEST'],
    ['heartbeat: negative used bytes', 'PUT', `/v1/members/${a.id}/heartbeat`, json({ appliedEpoch: 1, stats: { usedBytes: -1, maxMemoryBytes: 0, keys: 0, opsPerSec: 0, connectedClients: 0 } }), 400, 'INVALID_REQUEST'],
    ['heartbeat: ops/s as a string', 'PUT', `/v1/members/${a.id}/heartbeat`, json({ appliedEpoch: 1, stats: { usedBytes: 1, maxMemoryBytes: 0, keys: 0, opsPerSec: '5', connectedClients: 0 } }), 400, 'INVALID_REQUEST'],
    ['heartbeat: stats missing a field', 'PUT', `/v1/members/${a.id}/heartbeat`, json({ appliedEpoch: 1, stats: { usedBytes: 1 } }), 400, 'INVALID_REQUEST'],
    ['stats: query parameter', 'GET', '/v1/stats?member=a', {}, 400, 'INVALID_REQUEST'],
    ['heartbeat: malformed id', 'PUT', '/v1/members/xyz/heartbeat', json({ appliedEpoch: 0 }), 400, 'INVALID_REQUEST'],
    ['copies: unknown field', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 1, epoch: 1, copies: [], extra: 1 }), 400, 'INVALID_REQUEST'],
    ['copies: unknown status', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 1, epoch: 1, copies: [{ partition: 0, term: 1, offset: 0, status: 'done' }] }), 400, 'INVALID_REQUEST'],
    ['copies: fractional term', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 1, epoch: 1, copies: [{ partition: 0, term: 1.5, offset: 0, status: 'synced' }] }), 400, 'INVALID_REQUEST'],
    ['copies: negative offset', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 1, epoch: 1, copies: [{ partition: 0, term: 1, offset: -1, status: 'synced' }] }), 400, 'INVALID_REQUEST'],
    ['copies: missing incarnation', 'PUT', `/v1/members/${a.id}/copies`, json({ epoch: 1, copies: [] }), 400, 'INVALID_REQUEST'],
    ['copies: partition out of range', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 1, epoch: 1, copies: [{ partition: 8, term: 1, offset: 0, status: 'synced' }] }), 400, 'INVALID_REQUEST'],
    ['copies: a partition twice', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 1, epoch: 1, copies: [{ partition: 0, term: 1, offset: 0, status: 'synced' }, { partition: 0, term: 1, offset: 0, status: 'failed' }] }), 400, 'INVALID_REQUEST'],
    ['copies: more than 16384 items', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 1, epoch: 1, copies: Array.from({ length: 16385 }, () => ({ partition: 0, term: 1, offset: 0, status: 'synced' })) }), 400, 'INVALID_REQUEST'],
    ['copies: body over 2 MiB', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 1, epoch: 1, copies: [], pad: 'x'.repeat(2_200_000) }), 413, 'BODY_TOO_LARGE'],
    ['copies: stale incarnation', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 2, epoch: 1, copies: [] }), 409, 'STALE_INCARNATION'],
    ['copies: epoch ahead', 'PUT', `/v1/members/${a.id}/copies`, json({ incarnation: 1, epoch: 99, copies: [] }), 409, 'EPOCH_AHEAD'],
    ['copies: unknown member', 'PUT', `/v1/members/${'0'.repeat(40)}/copies`, json({ incarnation: 1, epoch: 1, copies: [] }), 404, 'MEMBER_NOT_FOUND'],
    ['copies: query parameter', 'PUT', `/v1/members/${a.id}/copies?x=1`, json({ incarnation: 1, epoch: 1, copies: [] }), 400, 'INVALID_REQUEST'],
    ['leave: unknown member', 'DELETE', `/v1/members/${'f'.repeat(40)}`, {}, 404, 'MEMBER_NOT_FOUND'],
    ['unknown query parameter', 'GET', '/v1/table?epoch=1', {}, 400, 'INVALID_REQUEST'],
    ['assignment: bad epoch', 'GET', `/v1/members/${a.id}/assignment?from=1e3`, {}, 400, 'INVALID_REQUEST'],
    ['unknown endpoint', 'GET', '/v1/nope', {}, 404, 'NOT_FOUND'],
    ['wrong method', 'PATCH', '/v1/members', json({}), 404, 'NOT_FOUND'],
  ];
  for (const [label, method, path, init, status, code] of cases) {
    const res = await fetch(url + path, { method, ...init });
    const body = await res.json();
    assert.equal(res.status, status, `${label}: status (${JSON.stringify(body)})`);
    assert.equal(body.error?.code, code, `${label}: code`);
    assert.equal(typeof body.error?.message, 'string', `${label}: message`);
    assert.deepEqual(Object.keys(body), ['error'], `${label}: body shape`);
  }
  assert.equal(await snapshot(), before, 'no request changed the state');
  // A well-formed report of 16384 items (the most a table can have) fits in the body limit and is answered.
  const big = { incarnation: a.incarnation, epoch: 1, copies: Array.from({ length: 8 }, (_, p) => ({ partition: p, term: 1, offset: Number.MAX_SAFE_INTEGER, status: 'serving' as const })) };
  assert.deepEqual(await client.reportCopies(a.id, big), { epoch: 1 });
  const maxBody = JSON.stringify({ incarnation: 1, epoch: 1, copies: Array.from({ length: 16384 }, (_, p) => ({ partition: p, term: Number.MAX_SAFE_INTEGER, offset: Number.MAX_SAFE_INTEGER, status: 'synced' })) });
  assert.ok(maxBody.length < 2 * 1024 * 1024, `${maxBody.length} bytes`);
});

test('a re-join with the same name and address is accepted as a new incarnation; the old one is fenced', async (t) => {
  const running = await startCoordinator({ port: 0, suspectAfterMs: 60_000, deadAfterMs: 120_000, planDebounceMs: 0, placement: { partitionCount: 8, replicas: 1 } });
  t.after(() => running.close());
  const client = new CoordinatorClient({ coordinators: [running.url], maxAttempts: 1 });
  const first = await client.join({ name: 'a', address: '127.0.0.1:7001' });
  await running.coordinator.flush();
  const tableBefore = await client.getTable();
  const again = await client.join({ name: 'a', address: '127.0.0.1:7001' });
  assert.equal(again.id, first.id);
  assert.equal(again.incarnation, first.incarnation + 1);
  await running.coordinator.flush();
  const tableAfter = await client.getTable();
  for (let p = 0; p < 8; p++) assert.equal(tableAfter.primaryOf(p), tableBefore.primaryOf(p), 'placement unchanged');
  await assert.rejects(client.heartbeat(first.id, 0, first.incarnation), (e: { code?: string }) => e.code === 'STALE_INCARNATION');
  const ok = await client.heartbeat(first.id, tableAfter.epoch, again.incarnation);
  assert.equal(ok.state, 'active');
});
