import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { ManualClock } from '../testing/manual-clock.js';
import { systemClock } from '../shared/clock.js';
import { RespConnection } from './connection.js';

// A command whose deadline passes before the connection is even open must never be written later: the caller was told
// it failed. The connection fails instead (sent: false), so nothing queued goes out behind the caller's back.
test('a command that times out before the connection opened fails it with sent=false and is never written', async () => {
  let received = 0;
  const srv = createServer((sock) => sock.on('data', (d: Buffer) => (received += d.length)));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const clock = new ManualClock();
    const conn = new RespConnection(`127.0.0.1:${(srv.address() as AddressInfo).port}`, { commandTimeoutMs: 100, password: undefined, readonly: false, clock }, () => {});
    const p = conn.send(['SET', 'k', 'v']);
    // The socket cannot have connected yet (that needs a turn of the event loop): the deadline passes first.
    clock.advance(150);
    await assert.rejects(p, (e: { code?: string; details?: { sent?: boolean } }) => e.code === 'CONNECTION_CLOSED' && e.details?.sent === false);
    assert.equal(conn.isClosed, true);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received, 0, 'nothing was written');
  } finally {
    srv.close();
  }
});

test('READONLY goes first on a connection with readonly set (after AUTH when a password is set)', async () => {
  const frames: string[] = [];
  const srv = createServer((sock) =>
    sock.on('data', (d: Buffer) => {
      const text = d.toString();
      frames.push(text);
      const n = (text.match(/\*\d+\r\n/g) ?? []).length;
      for (let i = 0; i < n; i++) sock.write('+OK\r\n');
    }),
  );
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const conn = new RespConnection(`127.0.0.1:${(srv.address() as AddressInfo).port}`, { commandTimeoutMs: 2000, password: 'pw', readonly: true, clock: systemClock }, () => {});
    assert.equal(await conn.send(['PING']), 'OK');
    const all = frames.join('');
    assert.ok(all.startsWith('*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*1\r\n$8\r\nREADONLY\r\n*1\r\n$4\r\nPING\r\n'), JSON.stringify(all));
    conn.close();
  } finally {
    srv.close();
  }
});
