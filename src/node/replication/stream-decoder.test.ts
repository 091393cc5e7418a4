import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeCommand } from '../../protocol/resp/command-encoder.js';
import { ReplyDecoder, type RespReply } from '../../protocol/resp/reply-decoder.js';
import { HashValue, TypedValue } from '../../storage/index.js';
import { decodeFrame, encodeOp, encodeSnap, encodeTable, isPlainOp, type StreamOp } from './frames.js';
import { StreamDecoder, StreamProtocolError } from './stream-decoder.js';

interface Item {
  elements?: Buffer[];
  raw?: Buffer;
  line?: string;
  error?: boolean;
}

/** Decodes `wire` fed in chunks of `chunk` bytes; elements and raw bytes are copied (they are views). */
function decode(wire: Buffer, chunk = wire.length, limits = {}): Item[] {
  const out: Item[] = [];
  const d = new StreamDecoder({
    frame: (elements, raw) => out.push({ elements: elements.map((e) => Buffer.from(e)), raw: Buffer.from(raw) }),
    line: (line, error) => out.push({ line, error }),
  }, limits);
  for (let i = 0; i < wire.length; i += chunk) d.push(wire.subarray(i, i + chunk));
  assert.equal(d.bufferedBytes, 0);
  return out;
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');

function hash(): HashValue {
  const h = new HashValue();
  h.set('f\u00ff', 'v\r\n');
  return h;
}

test('frames and status lines, whole and byte by byte: elements and raw bytes as sent', () => {
  const frames = [
    encodeOp(3, 2, 11, { kind: 'set', key: 'a\u00ff', value: 'hello', expiresAt: 5 }),
    encodeSnap(3, [{ key: 'x', value: Buffer.from([0, 13, 10, 36]), expiresAt: 1_700_000_000_000 }]),
    encodeTable({ epoch: 7 }),
    encodeOp(3, 2, 12, { kind: 'del', key: '' }),
  ];
  const wire = Buffer.concat([latin1('+OK\r\n'), frames[0]!, latin1('-ERR nope\r\n'), ...frames.slice(1)]);
  for (const chunk of [wire.length, 7, 1]) {
    const items = decode(wire, chunk);
    assert.equal(items.length, 6);
    assert.deepEqual(items[0], { line: 'OK', error: false });
    assert.deepEqual(items[2], { line: 'ERR nope', error: true });
    const got = [items[1]!, ...items.slice(3)];
    for (let i = 0; i < frames.length; i++) assert.deepEqual(got[i]!.raw, frames[i]);
    assert.deepEqual(got[0]!.elements, ['OP', '3', '2', '11', 'S', 'a\u00ff', 'hello', '5'].map(latin1));
    assert.deepEqual(got[3]!.elements, ['OP', '3', '2', '12', 'D', ''].map(latin1));
  }
});

test('the elements decode to the same frames as through the generic reply decoder', () => {
  const ops: StreamOp[] = [
    { kind: 'set', key: 'k', value: Buffer.from([255, 0, 13]), expiresAt: 0 },
    { kind: 'set', key: 'h', value: TypedValue.of(hash()), expiresAt: 9 },
    { kind: 'expire', key: 'e', expiresAt: 123456789012 },
    { kind: 'flush' },
  ];
  for (const [i, op] of ops.entries()) {
    const wire = encodeOp(7, 1, i + 1, op);
    const [item] = decode(wire, 3);
    const replies: RespReply[] = [];
    new ReplyDecoder((r) => replies.push(r)).push(wire);
    assert.deepEqual(decodeFrame(item!.elements, 16), decodeFrame(replies[0], 16));
  }
});

test('isPlainOp: only entries whose decoded form keeps no bytes', () => {
  const els = (wire: Buffer) => decode(wire)[0]!.elements!;
  assert.equal(isPlainOp(els(encodeOp(1, 1, 1, { kind: 'set', key: 'k', value: 'v', expiresAt: 0 }))), true);
  assert.equal(isPlainOp(els(encodeOp(1, 1, 1, { kind: 'del', key: 'k' }))), true);
  assert.equal(isPlainOp(els(encodeOp(1, 1, 1, { kind: 'flush' }))), true);
  assert.equal(isPlainOp(els(encodeOp(1, 1, 1, { kind: 'set', key: 'h', value: TypedValue.of(hash()), expiresAt: 0 }))), false);
  assert.equal(isPlainOp(els(encodeSnap(1, [{ key: 'k', value: 'v', expiresAt: 0 }]))), false);
  assert.equal(isPlainOp([latin1('OP')]), false);
});

test('encodeOp writes the bytes encodeCommand would (property)', () => {
  const keyArb = fc.string({ maxLength: 40 }).map((s) => Buffer.from(s, 'utf8').toString('latin1'));
  const num = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
  fc.assert(fc.property(fc.integer({ min: 0, max: 16383 }), num, num, keyArb, fc.oneof(fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)), keyArb), num, (p, term, offset, key, value, exp) => {
    const lat = (v: string | Buffer) => (typeof v === 'string' ? latin1(v) : v);
    assert.deepEqual(encodeOp(p, term, offset, { kind: 'set', key, value, expiresAt: exp }), encodeCommand(['OP', p, term, offset, 'S', latin1(key), lat(value), exp]));
    assert.deepEqual(encodeOp(p, term, offset, { kind: 'del', key }), encodeCommand(['OP', p, term, offset, 'D', latin1(key)]));
    assert.deepEqual(encodeOp(p, term, offset, { kind: 'expire', key, expiresAt: exp }), encodeCommand(['OP', p, term, offset, 'E', latin1(key), exp]));
  }), { numRuns: 300 });
});

test('garbage and broken limits are refused with a StreamProtocolError, never a crash or a hang', () => {
  const bad = [
    '$3\r\nabc\r\n', // a bulk outside a frame
    ':1\r\n',
    '*0\r\n',
    '*-1\r\n',
    '*1\r\n:5\r\n', // an element that is not a bulk string
    '*1\r\n$3\r\nabcXY', // bulk not terminated by CRLF
    '*1\r\n$x\r\n',
    '*1\r\n$-1\r\n',
    '*2\r\r',
    '*99999999999999999999\r\n',
  ];
  for (const text of bad) {
    assert.throws(() => decode(latin1(text)), StreamProtocolError, JSON.stringify(text));
  }
  assert.throws(() => decode(latin1('*3\r\n'), 4, { maxElements: 2 }), /element count 3 is more than 2/);
  assert.throws(() => decode(latin1('*1\r\n$10\r\n'), 100, { maxBulkBytes: 9 }), /bulk length 10 is more than 9/);
  assert.throws(() => decode(latin1(`+${'x'.repeat(100)}`), 100, { maxLineBytes: 64 }), /line longer than 64/);
  assert.throws(() => new StreamDecoder({ frame: () => {}, line: () => {} }, { maxElements: 0 }), /maxElements/);
  // Random bytes: a StreamProtocolError or an incomplete item, nothing else.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
    const d = new StreamDecoder({ frame: () => {}, line: () => {} });
    try {
      d.push(Buffer.from(u));
    } catch (err) {
      assert.ok(err instanceof StreamProtocolError, String(err));
    }
  }), { numRuns: 500 });
});

test('a large value split over many chunks decodes whole, and the raw bytes of the next frame are exact', () => {
  const big = Buffer.alloc(1 << 20, 7);
  const wire = Buffer.concat([encodeOp(1, 1, 1, { kind: 'set', key: 'big', value: big, expiresAt: 0 }), encodeOp(1, 1, 2, { kind: 'del', key: 'big' })]);
  const items = decode(wire, 1000);
  assert.equal(items.length, 2);
  assert.deepEqual(items[0]!.elements![6], big);
  assert.deepEqual(items[1]!.raw, encodeOp(1, 1, 2, { kind: 'del', key: 'big' }));
});
