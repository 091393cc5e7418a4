import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReplyDecoder, type RespReply } from '../../protocol/resp/reply-decoder.js';
import { encodeCommand } from '../../protocol/resp/command-encoder.js';
import { encodeSnapshotBatch, HashValue, SetValue, TypedValue, ZSetValue } from '../../storage/index.js';
import {
  decodeFrame, encodeNotPrimary, encodeOp, encodeResume, encodeSnap, encodeSnapBatch, encodeSnapBegin, encodeSnapEnd, encodeTable, encodeTermEnd, FrameError, type Frame,
} from './frames.js';

function decodeAll(wire: Buffer, chunk = wire.length, partitionCount = 256): Frame[] {
  const replies: RespReply[] = [];
  const d = new ReplyDecoder((r) => replies.push(r));
  for (let i = 0; i < wire.length; i += chunk) d.push(wire.subarray(i, i + chunk));
  return replies.map((r) => decodeFrame(r, partitionCount));
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');

test('every frame kind round-trips, whole and byte by byte', () => {
  const wire = Buffer.concat([
    encodeSnapBegin(3, 2, 10),
    encodeSnap(3, [{ key: 'k\u00ff', value: 'v', expiresAt: 0 }, { key: 'x', value: Buffer.from([0, 13, 10]), expiresAt: 1_700_000_000_000 }]),
    encodeOp(3, 2, 11, { kind: 'set', key: 'a', value: 'hello', expiresAt: 5 }),
    encodeOp(3, 2, 12, { kind: 'del', key: 'a' }),
    encodeOp(3, 2, 13, { kind: 'expire', key: 'b', expiresAt: 0 }),
    encodeOp(3, 2, 14, { kind: 'flush' }),
    encodeSnapEnd(3),
    encodeResume(4, 7, 99),
    encodeTermEnd(4, 7, 120),
    encodeNotPrimary(5, 1),
    encodeTable({ epoch: 7, partitions: [['a']] }),
  ]);
  const expected: Frame[] = [
    { kind: 'SNAPBEGIN', partition: 3, term: 2, offset: 10 },
    { kind: 'SNAP', partition: 3, entries: [{ key: 'k\u00ff', value: latin1('v'), expiresAt: 0 }, { key: 'x', value: Buffer.from([0, 13, 10]), expiresAt: 1_700_000_000_000 }] },
    { kind: 'OP', partition: 3, term: 2, offset: 11, op: { kind: 'set', key: 'a', value: latin1('hello'), expiresAt: 5 } },
    { kind: 'OP', partition: 3, term: 2, offset: 12, op: { kind: 'del', key: 'a' } },
    { kind: 'OP', partition: 3, term: 2, offset: 13, op: { kind: 'expire', key: 'b', expiresAt: 0 } },
    { kind: 'OP', partition: 3, term: 2, offset: 14, op: { kind: 'flush' } },
    { kind: 'SNAPEND', partition: 3 },
    { kind: 'RESUME', partition: 4, term: 7, offset: 99 },
    { kind: 'TERMEND', partition: 4, term: 7, offset: 120 },
    { kind: 'NOTPRIMARY', partition: 5, term: 1 },
    { kind: 'TABLE', json: { epoch: 7, partitions: [['a']] } },
  ];
  assert.deepStrictEqual(decodeAll(wire), expected);
  assert.deepStrictEqual(decodeAll(wire, 1), expected);
});

test('keys and values are binary-safe (latin1 keys, any value bytes)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 2 ** 50 }), (k, v, exp) => {
      const key = Buffer.from(k).toString('latin1');
      const [f] = decodeAll(encodeOp(0, 1, 1, { kind: 'set', key, value: Buffer.from(v), expiresAt: exp }));
      assert.deepStrictEqual(f, { kind: 'OP', partition: 0, term: 1, offset: 1, op: { kind: 'set', key, value: Buffer.from(v), expiresAt: exp } });
    }),
  );
});

test('SNAPB carries a binary snapshot batch as one bulk string, whole and byte by byte', () => {
  const batch = encodeSnapshotBatch([{ key: 'k\u00ff', type: 'string', value: Buffer.from([0, 13, 10]), expiresAt: 9 }]);
  const wire = Buffer.concat([encodeSnapBegin(1, 1, 0), encodeSnapBatch(1, batch), encodeSnapEnd(1)]);
  const expected: Frame[] = [{ kind: 'SNAPBEGIN', partition: 1, term: 1, offset: 0 }, { kind: 'SNAPB', partition: 1, batch }, { kind: 'SNAPEND', partition: 1 }];
  assert.deepStrictEqual(decodeAll(wire), expected);
  assert.deepStrictEqual(decodeAll(wire, 1), expected);
  assert.deepStrictEqual(decodeAll(wire, 7), expected);
});

test('garbage frames are refused with FrameError, never accepted', () => {
  const bad: Array<[string, unknown]> = [
    ['not an array', latin1('OP')],
    ['too short', [latin1('OP')]],
    ['unknown kind', [latin1('NOPE'), latin1('1')]],
    ['partition out of range', [latin1('SNAPEND'), latin1('256')]],
    ['negative number', [latin1('RESUME'), latin1('1'), latin1('-1'), latin1('3')]],
    ['leading zero', [latin1('RESUME'), latin1('1'), latin1('01'), latin1('3')]],
    ['beyond 2^53', [latin1('RESUME'), latin1('1'), latin1('1'), latin1('99999999999999999')]],
    ['OP with unknown op', [latin1('OP'), latin1('1'), latin1('1'), latin1('1'), latin1('X'), latin1('k')]],
    ['OP flush with a key', [latin1('OP'), latin1('1'), latin1('1'), latin1('1'), latin1('F'), latin1('k')]],
    ['OP set without key', [latin1('OP'), latin1('1'), latin1('1'), latin1('1'), latin1('S')]],
    ['OP set missing expiry', [latin1('OP'), latin1('1'), latin1('1'), latin1('1'), latin1('S'), latin1('k'), latin1('v')]],
    ['SNAP with a broken triple', [latin1('SNAP'), latin1('1'), latin1('k'), latin1('v')]],
    ['SNAPB without its batch', [latin1('SNAPB'), latin1('1')]],
    ['SNAPB with extras', [latin1('SNAPB'), latin1('1'), latin1('b'), latin1('c')]],
    ['SNAPB with an integer batch', [latin1('SNAPB'), latin1('1'), 7]],
    ['an integer instead of a bulk', [latin1('SNAPEND'), 1]],
    ['SNAPEND with extras', [latin1('SNAPEND'), latin1('1'), latin1('2')]],
    ['TABLE that is not JSON', [latin1('TABLE'), latin1('{nope')]],
    ['TABLE with extras', [latin1('TABLE'), latin1('{}'), latin1('x')]],
  ];
  for (const [name, reply] of bad) assert.throws(() => decodeFrame(reply, 256), FrameError, name);
});

test('random byte arrays never decode into anything but a frame or a FrameError', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constantFrom('OP', 'SNAP', 'SNAPB', 'SNAPBEGIN', 'SNAPEND', 'RESUME', 'TERMEND', 'NOTPRIMARY', 'S', 'D', 'E', '0', '1', '12'), fc.string({ maxLength: 5 })), { maxLength: 9 }), (parts) => {
      const replies: RespReply[] = [];
      new ReplyDecoder((r) => replies.push(r)).push(encodeCommand(parts));
      try {
        const f = decodeFrame(replies[0], 16);
        assert.ok(['OP', 'SNAP', 'SNAPB', 'SNAPBEGIN', 'SNAPEND', 'RESUME', 'TERMEND', 'NOTPRIMARY'].includes(f.kind));
      } catch (err) {
        assert.ok(err instanceof FrameError, String(err));
      }
    }),
  );
});

function typed(): { hash: TypedValue; set: TypedValue; zset: TypedValue } {
  const h = new HashValue();
  h.set('f\u00ff', 'v\r\n');
  h.set('', '');
  const s = new SetValue();
  s.add('a');
  s.add('1');
  const z = new ZSetValue();
  z.add('m', 1.5);
  z.add('n', -Infinity);
  return { hash: TypedValue.of(h), set: TypedValue.of(s), zset: TypedValue.of(z) };
}

/** A decoded TypedValue as comparable data: its type and bytes. */
function plain(f: Frame): unknown {
  return JSON.parse(JSON.stringify(f, (_k, v: unknown) => (v instanceof TypedValue ? { type: v.type, bytes: v.bytes.toString('hex') } : v)));
}

test('collections travel as OP T and in SNAPT batches (type + encoding), whole and byte by byte', () => {
  const t = typed();
  const wire = Buffer.concat([
    encodeOp(2, 1, 5, { kind: 'set', key: 'h', value: t.hash, expiresAt: 7 }),
    encodeOp(2, 1, 6, { kind: 'set', key: 'z', value: t.zset, expiresAt: 0 }),
    encodeSnap(2, [{ key: 's', value: t.set, expiresAt: 0 }, { key: 'str', value: 'plain', expiresAt: 9 }]),
  ]);
  assert.ok(wire.includes(latin1('SNAPT')), 'a batch with a collection is a SNAPT frame');
  const expected = [
    { kind: 'OP', partition: 2, term: 1, offset: 5, op: { kind: 'set', key: 'h', value: { type: 'hash', bytes: t.hash.bytes.toString('hex') }, expiresAt: 7 } },
    { kind: 'OP', partition: 2, term: 1, offset: 6, op: { kind: 'set', key: 'z', value: { type: 'zset', bytes: t.zset.bytes.toString('hex') }, expiresAt: 0 } },
    { kind: 'SNAP', partition: 2, entries: [
      { key: 's', value: { type: 'set', bytes: t.set.bytes.toString('hex') }, expiresAt: 0 },
      { key: 'str', value: JSON.parse(JSON.stringify(latin1('plain'))) as unknown, expiresAt: 9 },
    ] },
  ];
  assert.deepStrictEqual(decodeAll(wire).map(plain), expected);
  assert.deepStrictEqual(decodeAll(wire, 1).map(plain), expected);
  const [op] = decodeAll(encodeOp(0, 1, 1, { kind: 'set', key: 'z', value: t.zset, expiresAt: 0 }));
  const z = ((op as { op: { value: TypedValue } }).op.value).toCollection() as ZSetValue;
  assert.deepStrictEqual([...z.scores], [['n', -Infinity], ['m', 1.5]]);
});

test('garbage typed values are refused with FrameError (bad type, counts, lengths, duplicates, NaN, trailing bytes)', () => {
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const f64 = (x: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(x);
    return b;
  };
  const el = (s: string): Buffer => Buffer.concat([u32(s.length), latin1(s)]);
  const op = (type: string, enc: Buffer): unknown => [latin1('OP'), latin1('1'), latin1('1'), latin1('1'), latin1('T'), latin1('k'), latin1(type), enc, latin1('0')];
  const bad: Array<[string, unknown]> = [
    ['unknown type', op('list', u32(0))],
    ['string type in OP T', op('string', latin1('v'))],
    ['empty encoding', op('hash', Buffer.alloc(0))],
    ['count beyond the bytes', op('set', u32(1_000_000))],
    ['huge count', op('zset', u32(0xffffffff))],
    ['element past the end', op('set', Buffer.concat([u32(1), u32(50), latin1('ab')]))],
    ['truncated length', op('set', Buffer.concat([u32(1), Buffer.from([1, 0])]))],
    ['hash with a field and no value', op('hash', Buffer.concat([u32(1), el('f')]))],
    ['duplicate hash field', op('hash', Buffer.concat([u32(2), el('f'), el('1'), el('f'), el('2')]))],
    ['duplicate set member', op('set', Buffer.concat([u32(2), el('a'), el('a')]))],
    ['NaN score', op('zset', Buffer.concat([u32(1), f64(NaN), el('m')]))],
    ['truncated score', op('zset', Buffer.concat([u32(1), Buffer.alloc(4)]))],
    ['trailing bytes', op('set', Buffer.concat([u32(1), el('a'), latin1('x')]))],
    ['OP T missing expiry', [latin1('OP'), latin1('1'), latin1('1'), latin1('1'), latin1('T'), latin1('k'), latin1('set'), u32(0)]],
    ['SNAPT with a broken quadruple', [latin1('SNAPT'), latin1('1'), latin1('k'), latin1('set'), u32(0)]],
    ['SNAPT with a bad type', [latin1('SNAPT'), latin1('1'), latin1('k'), latin1('nope'), u32(0), latin1('0')]],
    ['SNAPT with a bad encoding', [latin1('SNAPT'), latin1('1'), latin1('k'), latin1('zset'), u32(3), latin1('0')]],
  ];
  for (const [name, reply] of bad) assert.throws(() => decodeFrame(reply, 256), FrameError, name);
});

test('random bytes as a collection encoding decode to a FrameError or a valid value, never anything else', () => {
  fc.assert(
    fc.property(fc.constantFrom('hash', 'set', 'zset'), fc.uint8Array({ maxLength: 64 }), (type, bytes) => {
      const reply = [latin1('OP'), latin1('1'), latin1('1'), latin1('1'), latin1('T'), latin1('k'), latin1(type), Buffer.from(bytes), latin1('0')];
      try {
        const f = decodeFrame(reply, 16) as { op: { value: TypedValue } };
        const c = f.op.value.toCollection();
        assert.equal(c.type, type);
        assert.deepStrictEqual(TypedValue.of(c).bytes.length, bytes.length, 'a valid encoding re-encodes to as many bytes');
      } catch (err) {
        assert.ok(err instanceof FrameError, String(err));
      }
    }),
  );
});

test('patches travel as OP P and decode to a patch that applies; garbage patches are refused with FrameError', () => {
  const h = new HashValue();
  h.set('a', '1');
  h.set('b', '2');
  const patch = TypedValue.ofPatch('hash', ['a', 'x', 'b', undefined, 'c', '3']);
  const [f] = decodeAll(encodeOp(1, 2, 3, { kind: 'set', key: 'h', value: patch, expiresAt: 0 }), 1);
  const v = (f as { op: { value: TypedValue } }).op.value;
  assert.ok(v.patch && v.type === 'hash');
  v.applyTo(h);
  assert.deepEqual([...h.map], [['a', 'x'], ['c', '3']]);
  const z = new ZSetValue();
  TypedValue.ofPatch('zset', ['m', 2.5, 'n', undefined]).applyTo(z);
  assert.deepEqual([...z.scores], [['m', 2.5]]);
  const u32 = (n: number): Buffer => Buffer.from([n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24]);
  const op = (type: string, enc: Buffer): unknown => [latin1('OP'), latin1('1'), latin1('1'), latin1('1'), latin1('P'), latin1('k'), latin1(type), enc, latin1('0')];
  const bad: Array<[string, unknown]> = [
    ['unknown type', op('list', u32(0))],
    ['empty', op('set', Buffer.alloc(0))],
    ['count beyond the bytes', op('set', u32(99))],
    ['bad op flag', op('set', Buffer.concat([u32(1), Buffer.from([7]), u32(1), latin1('a')]))],
    ['truncated element', op('hash', Buffer.concat([u32(1), Buffer.from([1]), u32(1), latin1('a'), u32(9)]))],
    ['NaN score', op('zset', Buffer.concat([u32(1), Buffer.from([1]), Buffer.from([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]), u32(1), latin1('a')]))],
    ['trailing bytes', op('set', Buffer.concat([u32(1), Buffer.from([0]), u32(1), latin1('a'), latin1('zz')]))],
  ];
  for (const [name, reply] of bad) assert.throws(() => decodeFrame(reply, 256), FrameError, name);
});
