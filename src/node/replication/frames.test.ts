import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReplyDecoder, type RespReply } from '../../protocol/resp/reply-decoder.js';
import { encodeCommand } from '../../protocol/resp/command-encoder.js';
import {
  decodeFrame, encodeNotPrimary, encodeOp, encodeResume, encodeSnap, encodeSnapBegin, encodeSnapEnd, encodeTable, encodeTermEnd, FrameError, type Frame,
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
    ['an integer instead of a bulk', [latin1('SNAPEND'), 1]],
    ['SNAPEND with extras', [latin1('SNAPEND'), latin1('1'), latin1('2')]],
    ['TABLE that is not JSON', [latin1('TABLE'), latin1('{nope')]],
    ['TABLE with extras', [latin1('TABLE'), latin1('{}'), latin1('x')]],
  ];
  for (const [name, reply] of bad) assert.throws(() => decodeFrame(reply, 256), FrameError, name);
});

test('random byte arrays never decode into anything but a frame or a FrameError', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constantFrom('OP', 'SNAP', 'SNAPBEGIN', 'SNAPEND', 'RESUME', 'TERMEND', 'NOTPRIMARY', 'S', 'D', 'E', '0', '1', '12'), fc.string({ maxLength: 5 })), { maxLength: 9 }), (parts) => {
      const replies: RespReply[] = [];
      new ReplyDecoder((r) => replies.push(r)).push(encodeCommand(parts));
      try {
        const f = decodeFrame(replies[0], 16);
        assert.ok(['OP', 'SNAP', 'SNAPBEGIN', 'SNAPEND', 'RESUME', 'TERMEND', 'NOTPRIMARY'].includes(f.kind));
      } catch (err) {
        assert.ok(err instanceof FrameError, String(err));
      }
    }),
  );
});
