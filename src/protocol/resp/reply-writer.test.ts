import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyWriter, REPLY_OK } from './reply-writer.js';

function out(w: ReplyWriter): string {
  return Buffer.concat(w.take()).toString('latin1');
}

test('reply writer: RESP2 encodings', () => {
  const w = new ReplyWriter();
  w.raw(REPLY_OK);
  w.simple('a\r\nb');
  w.error('ERR bad');
  w.integer(42);
  w.integer(-7);
  w.integer(12345678901234567890n);
  w.bulk('h\u00e9');
  w.bulk(Buffer.from([0, 13, 10]));
  w.nil();
  w.nilArray();
  w.map(1);
  w.bulk('k');
  w.double(1.5);
  w.boolean(true);
  w.set(0);
  assert.equal(out(w), '+OK\r\n+a b\r\n-ERR bad\r\n:42\r\n:-7\r\n:12345678901234567890\r\n$2\r\nh\u00e9\r\n$3\r\n\u0000\r\n\r\n$-1\r\n*-1\r\n*2\r\n$1\r\nk\r\n$3\r\n1.5\r\n:1\r\n*0\r\n');
});

test('reply writer: RESP3 encodings', () => {
  const w = new ReplyWriter();
  w.resp3 = true;
  w.nil();
  w.map(2);
  w.double(Infinity);
  w.boolean(false);
  w.set(1);
  w.verbatim('hi');
  assert.equal(out(w), '_\r\n%2\r\n,inf\r\n#f\r\n~1\r\n=6\r\ntxt:hi\r\n');
});

test('reply writer: big values are passed by reference and batches never overwrite taken bytes', () => {
  const w = new ReplyWriter();
  const big = Buffer.alloc(100_000, 97);
  w.bulk(big);
  const first = w.take();
  assert.ok(first.includes(big));
  const snapshot = Buffer.concat(first);
  for (let i = 0; i < 5000; i++) w.bulk('x'.repeat(50));
  const second = Buffer.concat(w.take());
  assert.equal(second.length, 5000 * 57);
  assert.ok(Buffer.concat(first).equals(snapshot));
  assert.equal(w.take().length, 0);
});

test('reply writer: a big string value becomes its own chunk, the slab stays small', () => {
  const w = new ReplyWriter();
  const big = 'z'.repeat(1_000_000);
  w.simple('OK');
  w.bulk(big);
  w.simple('OK');
  const chunks = w.take();
  assert.equal(chunks.length, 4);
  assert.equal(Buffer.concat(chunks).toString('latin1'), `+OK\r\n$1000000\r\n${big}\r\n+OK\r\n`);
  assert.ok(chunks.every((c) => c.length === 1_000_000 || c.buffer.byteLength <= 64 * 1024 || c.length <= 16), 'no slab grew to the value size');
});
