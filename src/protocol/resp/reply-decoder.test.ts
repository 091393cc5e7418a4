import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReplyDecoder, RespError, RespProtocolError, type RespReply } from './reply-decoder.js';
import { encodeCommand } from './command-encoder.js';

function decodeChunks(chunks: Buffer[], limits = {}): RespReply[] {
  const out: RespReply[] = [];
  const d = new ReplyDecoder((r) => out.push(r), limits);
  for (const c of chunks) d.push(c);
  assert.equal(d.bufferedBytes, 0, 'no bytes left over');
  return out;
}

/** Runs a case three ways: whole, byte by byte, and split at every boundary into two chunks. */
function threeWays(wire: string | Buffer, expected: RespReply[]): void {
  const buf = typeof wire === 'string' ? Buffer.from(wire, 'utf8') : wire;
  assert.deepStrictEqual(decodeChunks([buf]), expected, 'whole');
  assert.deepStrictEqual(decodeChunks([...buf].map((b) => Buffer.from([b]))), expected, 'byte by byte');
  for (let i = 1; i < buf.length; i++) assert.deepStrictEqual(decodeChunks([buf.subarray(0, i), buf.subarray(i)]), expected, `split at ${i}`);
}

const cases: Array<[string, string, RespReply[]]> = [
  ['simple string', '+OK\r\n', ['OK']],
  ['empty simple string', '+\r\n', ['']],
  ['error', '-ERR unknown command\r\n', [new RespError('ERR unknown command')]],
  ['moved error keeps its prefix', '-MOVED 3999 127.0.0.1:7002\r\n', [new RespError('MOVED 3999 127.0.0.1:7002')]],
  ['integer', ':1000\r\n', [1000]],
  ['negative integer', ':-42\r\n', [-42]],
  ['int64 beyond 2^53 is a bigint', ':9223372036854775807\r\n', [9223372036854775807n]],
  ['bulk string', '$5\r\nhello\r\n', [Buffer.from('hello')]],
  ['empty bulk string', '$0\r\n\r\n', [Buffer.alloc(0)]],
  ['bulk containing CRLF', '$4\r\na\r\nb\r\n', [Buffer.from('a\r\nb')]],
  ['null bulk', '$-1\r\n', [null]],
  ['null array', '*-1\r\n', [null]],
  ['empty array', '*0\r\n', [[]]],
  ['array of mixed', '*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n', [[1, Buffer.from('foo'), 'bar']]],
  ['nested arrays', '*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n$-1\r\n', [[[1, 2], [null]]]],
  ['error inside array', '*2\r\n-ERR x\r\n:3\r\n', [[new RespError('ERR x'), 3]]],
  ['several replies in one stream', '+OK\r\n:5\r\n$1\r\nx\r\n', ['OK', 5, Buffer.from('x')]],
  ['RESP3 null', '_\r\n', [null]],
  ['RESP3 booleans', '#t\r\n#f\r\n', [true, false]],
  ['RESP3 doubles', ',1.5\r\n,inf\r\n,-inf\r\n', [1.5, Infinity, -Infinity]],
  ['RESP3 big number', '(3492890328409238509324850943850943825024385\r\n', ['3492890328409238509324850943850943825024385']],
  ['RESP3 verbatim', '=15\r\ntxt:Some string\r\n', ['Some string']],
  ['RESP3 blob error', '!21\r\nSYNTAX invalid syntax\r\n', [new RespError('SYNTAX invalid syntax')]],
  ['RESP3 map', '%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n', [new Map<RespReply, RespReply>([['first', 1], ['second', 2]])]],
  ['RESP3 set', '~2\r\n+a\r\n+b\r\n', [['a', 'b']]],
  ['RESP3 push', '>2\r\n+message\r\n+hi\r\n', [['message', 'hi']]],
  ['RESP3 attribute is dropped', '|1\r\n+ttl\r\n:3600\r\n:7\r\n', [7]],
];

for (const [name, wire, expected] of cases) {
  test(`decodes ${name} whole, byte by byte and split at every boundary`, () => threeWays(wire, expected));
}

test('decodes UTF-8 and binary bulk strings unchanged', () => {
  const bin = Buffer.from([0, 255, 13, 10, 128, 36]);
  threeWays(Buffer.concat([Buffer.from(`$${bin.length}\r\n`), bin, Buffer.from('\r\n')]), [bin]);
  threeWays('+héllo\r\n', ['héllo']);
});

const malformed: Array<[string, string]> = [
  ['unknown type byte', '?x\r\n'],
  ['CR without LF', '+OK\rX'],
  ['non-numeric integer', ':12a\r\n'],
  ['non-numeric bulk length', '$x\r\nab\r\n'],
  ['bulk length below -1', '$-2\r\n'],
  ['bulk without CRLF terminator', '$2\r\nabXY'],
  ['invalid boolean', '#x\r\n'],
];
for (const [name, wire] of malformed) {
  test(`refuses ${name} with a RespProtocolError`, () => {
    assert.throws(() => decodeChunks([Buffer.from(wire)]), RespProtocolError);
  });
}

test('enforces limits on bulk size, aggregate length, depth and line length', () => {
  assert.throws(() => decodeChunks([Buffer.from('$11\r\n')], { maxBulkBytes: 10 }), /maxBulkBytes/);
  assert.throws(() => decodeChunks([Buffer.from('*5\r\n')], { maxAggregateLength: 4 }), /maxAggregateLength/);
  assert.throws(() => decodeChunks([Buffer.from('*1\r\n*1\r\n*1\r\n:1\r\n')], { maxDepth: 2 }), /maxDepth/);
  assert.throws(() => decodeChunks([Buffer.from('+' + 'a'.repeat(100))], { maxLineBytes: 50 }), /line longer/);
});

test('a large bulk string arriving in many chunks is assembled once the hinted size arrives', () => {
  const payload = Buffer.alloc(1 << 20, 7);
  const wire = Buffer.concat([Buffer.from(`$${payload.length}\r\n`), payload, Buffer.from('\r\n+OK\r\n')]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < wire.length; i += 1000) chunks.push(wire.subarray(i, i + 1000));
  const out = decodeChunks(chunks);
  assert.equal(out.length, 2);
  assert.ok((out[0] as Buffer).equals(payload));
  assert.equal(out[1], 'OK');
});

// ---- property tests: encode arbitrary replies, split the stream arbitrarily, decode back -------------------

type Model = { t: 'str'; v: string } | { t: 'int'; v: number } | { t: 'bulk'; v: Buffer | null } | { t: 'err'; v: string } | { t: 'arr'; v: Model[] | null };

const line = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\r') && !s.includes('\n'));
const model: fc.Arbitrary<Model> = fc.letrec<{ m: Model }>((tie) => ({
  m: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    line.map((v): Model => ({ t: 'str', v })),
    fc.integer().map((v): Model => ({ t: 'int', v })),
    fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: null }).map((v): Model => ({ t: 'bulk', v })),
    line.map((v): Model => ({ t: 'err', v: 'ERR ' + v })),
    fc.option(fc.array(tie('m'), { maxLength: 4 }), { nil: null }).map((v): Model => ({ t: 'arr', v })),
  ),
})).m;

function encodeModel(m: Model): Buffer {
  switch (m.t) {
    case 'str':
      return Buffer.from(`+${m.v}\r\n`);
    case 'int':
      return Buffer.from(`:${m.v}\r\n`);
    case 'err':
      return Buffer.from(`-${m.v}\r\n`);
    case 'bulk':
      return m.v === null ? Buffer.from('$-1\r\n') : Buffer.concat([Buffer.from(`$${m.v.length}\r\n`), m.v, Buffer.from('\r\n')]);
    case 'arr':
      return m.v === null ? Buffer.from('*-1\r\n') : Buffer.concat([Buffer.from(`*${m.v.length}\r\n`), ...m.v.map(encodeModel)]);
  }
}

function expectedOf(m: Model): RespReply {
  switch (m.t) {
    case 'str':
      return m.v;
    case 'int':
      return m.v;
    case 'err':
      return new RespError(m.v);
    case 'bulk':
      return m.v;
    case 'arr':
      return m.v === null ? null : m.v.map(expectedOf);
  }
}

test('property: any reply sequence split at arbitrary points decodes to the same values', () => {
  fc.assert(
    fc.property(fc.array(model, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (replies, cuts) => {
      const wire = Buffer.concat(replies.map(encodeModel));
      const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let prev = 0;
      for (const p of points) {
        chunks.push(wire.subarray(prev, p));
        prev = p;
      }
      chunks.push(wire.subarray(prev));
      assert.deepStrictEqual(decodeChunks(chunks), replies.map(expectedOf));
    }),
    { numRuns: 300 },
  );
});

test('property: random bytes never crash the decoder with anything but RespProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const d = new ReplyDecoder(() => {});
      try {
        d.push(Buffer.from(bytes));
      } catch (err) {
        assert.ok(err instanceof RespProtocolError, String(err));
      }
    }),
    { numRuns: 500 },
  );
});

test('encodeCommand writes RESP arrays of bulk strings for strings, Buffers and numbers', () => {
  assert.equal(encodeCommand(['SET', 'k', 'v']).toString(), '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
  assert.equal(encodeCommand(['GET', 'é']).toString(), '*2\r\n$3\r\nGET\r\n$2\r\né\r\n');
  assert.equal(encodeCommand(['EXPIRE', 'k', 1234567890]).toString(), '*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$10\r\n1234567890\r\n');
  const bin = Buffer.from([0, 13, 10, 255]);
  assert.ok(encodeCommand(['SET', bin, '']).equals(Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n$4\r\n'), bin, Buffer.from('\r\n$0\r\n\r\n')])));
});

test('property: encoded commands decode back as arrays of the same bytes', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a))), { minLength: 1, maxLength: 12 }), (args) => {
      const [reply] = decodeChunks([encodeCommand(args)]);
      assert.deepStrictEqual(reply, args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'utf8') : Buffer.from(a))));
    }),
    { numRuns: 300 },
  );
});
