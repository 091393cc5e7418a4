import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { systemClock } from '../shared/clock.js';
import { ConnectionPool } from './pool.js';

test('lanes: a partition always takes the same connection, partitions spread over perNode connections, closed ones are replaced', async () => {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const address = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const pool = new ConnectionPool({ commandTimeoutMs: 1000, password: undefined, readonly: false, clock: systemClock }, 3);
  try {
    const c0 = pool.get(address, 0);
    assert.equal(pool.get(address, 3), c0, 'lane 3 % 3 = 0');
    assert.equal(pool.get(address, 300), c0);
    const c1 = pool.get(address, 1);
    const c2 = pool.get(address, 5);
    assert.equal(new Set([c0, c1, c2]).size, 3);
    assert.equal(pool.countFor(address), 3);
    // Without a lane: round-robin over the same connections (never a fourth).
    const seen = new Set(Array.from({ length: 9 }, () => pool.get(address)));
    assert.equal(seen.size, 3);
    for (const c of [c0, c1, c2]) assert.ok(seen.has(c));
    assert.equal(pool.countFor(address), 3);
    // A bad lane is ignored (round-robin), never a new slot.
    pool.get(address, -1);
    pool.get(address, 1.5);
    assert.equal(pool.countFor(address), 3);
    // A connection that closes is forgotten; its lane gets a new one, the others keep theirs.
    c1.close('test');
    assert.equal(pool.countFor(address), 2);
    const c1b = pool.get(address, 4);
    assert.notEqual(c1b, c1);
    assert.equal(pool.get(address, 0), c0);
    assert.equal(pool.countFor(address), 3);
  } finally {
    pool.closeAll();
    for (const s of sockets) s.destroy();
    srv.close();
  }
});

test('one connection per node: every lane shares it', () => {
  const pool = new ConnectionPool({ commandTimeoutMs: 1000, password: undefined, readonly: false, clock: systemClock }, 1);
  try {
    const a = pool.get('127.0.0.1:1', 7);
    assert.equal(pool.get('127.0.0.1:1', 8), a);
    assert.equal(pool.get('127.0.0.1:1'), a);
  } finally {
    pool.closeAll();
  }
});
