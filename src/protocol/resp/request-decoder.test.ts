import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RequestDecoder, RespProtocolError, type RequestDecoderLimits } from './request-decoder.js';
import { encodeCommand } from './command-encoder.js';

type Outcome = { commands: string[][]; error: string | null };

/** Feeds `chunks` and drains commands after each one; stops at the first protocol error. */
function run(chunks: Buffer[], limits: Partial<RequestDecoderLimits> = {}): Outcome {
  const d = new RequestDecoder(limits);
  const commands: string[][] = [];
  try {
    for (const c of chunks) {
      d.feed(c);
      for (let n = d.next(); n > 0; n = d.next()) {
        const args: string[] = [];
        for (let i = 0; i < n; i++) args.push(d.str(i));
        commands.push(args);
      }
    }
  } catch (err) {
    if (!(err instanceof RespProtocolError)) throw err;
    return { commands, error: err.message };
  }
  return { commands, error: null };
}

function oneChunk(b: Buffer): Buffer[] {
  return [b];
}
function byteByByte(b: Buffer): Buffer[] {
  return [...b].map((x) => Buffer.from([x]));
}

/** Runs the case three ways: one chunk, byte by byte, and split in two at every boundary. */
function threeWays(input: Buffer, expected: Outcome, limits: Partial<RequestDecoderLimits> = {}): void {
  assert.deepEqual(run(oneChunk(input), limits), expected, 'one chunk');
  assert.deepEqual(run(byteByByte(input), limits), expected, 'byte by byte');
  for (let i = 1; i < input.length; i++) {
    assert.deepEqual(run([input.subarray(0, i), input.subarray(i)], limits), expected, `split at ${i}`);
  }
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

const CASES: Array<{ name: string; input: Buffer; commands: string[][]; error?: string; limits?: Partial<RequestDecoderLimits> }> = [
  { name: 'a multibulk command', input: b('*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n'), commands: [['SET', 'key', 'value']] },
  { name: 'pipelined commands', input: b('*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'), commands: [['PING'], ['GET', 'k']] },
  { name: 'binary-safe bulk with CRLF inside', input: b('*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\r\n\r\n'), commands: [['ECHO', '\r\n\r\n']] },
  { name: 'empty bulk argument', input: b('*2\r\n$4\r\nECHO\r\n$0\r\n\r\n'), commands: [['ECHO', '']] },
  { name: 'all byte values', input: Buffer.concat([b('*1\r\n$256\r\n'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), b('\r\n')]), commands: [[Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1')]] },
  { name: 'inline command', input: b('PING\r\n'), commands: [['PING']] },
  { name: 'inline with LF only and extra spaces', input: b('  SET  a   b \n'), commands: [['SET', 'a', 'b']] },
  { name: 'inline with quotes and escapes', input: b('SET "a b" \'c d\' "\\x41\\n"\r\n'), commands: [['SET', 'a b', 'c d', 'A\n']] },
  { name: 'empty inline lines are skipped', input: b('\r\n\r\nPING\r\n'), commands: [['PING']] },
  { name: 'empty multibulk is skipped', input: b('*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n'), commands: [['PING']] },
  { name: 'inline then multibulk', input: b('PING\r\n*1\r\n$4\r\nPING\r\n'), commands: [['PING'], ['PING']] },
  { name: 'bad multibulk length', input: b('*x\r\n'), commands: [], error: 'Protocol error: invalid multibulk length' },
  { name: 'multibulk count over the limit', input: b('*11\r\n'), commands: [], error: 'Protocol error: invalid multibulk length', limits: { maxMultibulkCount: 10 } },
  { name: 'expected $', input: b('*1\r\n+PING\r\n'), commands: [], error: "Protocol error: expected '$', got '+'" },
  { name: 'negative bulk length', input: b('*1\r\n$-1\r\n'), commands: [], error: 'Protocol error: invalid bulk length' },
  { name: 'bulk length over the limit', input: b('*1\r\n$17\r\n'), commands: [], error: 'Protocol error: invalid bulk length', limits: { maxBulkBytes: 16 } },
  { name: 'missing CRLF after bulk', input: b('*1\r\n$4\r\nPINGxx'), commands: [], error: 'Protocol error: expected CRLF after bulk argument' },
  { name: 'good command before a bad one', input: b('*1\r\n$4\r\nPING\r\n*z\r\n'), commands: [['PING']], error: 'Protocol error: invalid multibulk length' },
  { name: 'unbalanced quotes', input: b('SET "a b\r\n'), commands: [], error: 'Protocol error: unbalanced quotes in request' },
  { name: 'too long inline', input: b(`${'x'.repeat(40)}`), commands: [], error: 'Protocol error: too big inline request', limits: { maxInlineBytes: 32 } },
  { name: 'too long bulk count line', input: b(`*1\r\n$${'1'.repeat(40)}`), commands: [], error: 'Protocol error: too big bulk count string', limits: { maxInlineBytes: 32 } },
  { name: 'query buffer limit', input: b('*1\r\n$100\r\n'.padEnd(80, 'x')), commands: [], error: 'Protocol error: query buffer limit exceeded', limits: { maxQueryBufferBytes: 64 } },
];

for (const c of CASES) {
  test(`request decoder: ${c.name} (one chunk, byte by byte, every split)`, () => {
    threeWays(c.input, { commands: c.commands, error: c.error ?? null }, c.limits);
  });
}

test('request decoder: a command inside one chunk is read without copying', () => {
  const d = new RequestDecoder();
  const chunk = b('*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n');
  d.feed(chunk);
  assert.equal(d.next(), 2);
  assert.equal(d.arg(1).buffer, chunk.buffer);
  assert.equal(d.int(0), NaN);
});

test('request decoder: int() parses canonical integers only', () => {
  const d = new RequestDecoder();
  d.feed(b('*5\r\n$2\r\n10\r\n$2\r\n-5\r\n$2\r\n+1\r\n$2\r\n 1\r\n$1\r\n-\r\n'));
  assert.equal(d.next(), 5);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => d.int(i)), [10, -5, NaN, NaN, NaN]);
});

test('request decoder: a large argument split in many chunks costs linear copying', () => {
  const value = Buffer.alloc(4 * 1024 * 1024, 120);
  const frame = encodeCommand(['SET', 'k', value]);
  const d = new RequestDecoder();
  let got = 0;
  for (let i = 0; i < frame.length; i += 1000) {
    d.feed(frame.subarray(i, i + 1000));
    const n = d.next();
    if (n > 0) {
      got++;
      assert.equal(d.argLength(2), value.length);
      assert.ok(d.arg(2).equals(value));
    }
  }
  assert.equal(got, 1);
  assert.equal(d.buffered, 0);
});

test('request decoder: many arguments split in chunks resume without re-parsing', () => {
  const args = ['MSET', ...Array.from({ length: 20000 }, (_, i) => `k${i}`)];
  const frame = encodeCommand(args);
  const d = new RequestDecoder();
  const t0 = performance.now();
  let argc = 0;
  for (let i = 0; i < frame.length; i += 7) {
    d.feed(frame.subarray(i, i + 7));
    const n = d.next();
    if (n > 0) argc = n;
  }
  assert.equal(argc, args.length);
  assert.equal(d.str(19999), 'k19998');
  assert.ok(performance.now() - t0 < 2000, 'linear, not quadratic');
});

// ------------------------------------------------------------------ fuzz

const argArb = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const commandArb = fc.array(argArb, { minLength: 1, maxLength: 6 });

test('request decoder fuzz: random valid frames split anywhere decode to the same commands', () => {
  fc.assert(
    fc.property(fc.array(commandArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (cmds, cuts) => {
      const bytes = Buffer.concat(cmds.map((c) => encodeCommand(c)));
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
      const chunks: Buffer[] = [];
      let last = 0;
      for (const p of points) {
        chunks.push(bytes.subarray(last, p));
        last = p;
      }
      chunks.push(bytes.subarray(last));
      const out = run(chunks);
      assert.equal(out.error, null);
      assert.deepEqual(out.commands, cmds.map((c) => c.map((a) => a.toString('latin1'))));
    }),
    { numRuns: 300 },
  );
});

test('request decoder fuzz: mutated and random bytes never crash, never desync, stay bounded', () => {
  const limits = { maxBulkBytes: 1024, maxMultibulkCount: 64, maxInlineBytes: 256, maxQueryBufferBytes: 4096 };
  fc.assert(
    fc.property(
      fc.array(commandArb, { minLength: 1, maxLength: 5 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.nat(),
      (cmds, mutations, noise, cut) => {
        const clean = Buffer.concat(cmds.map((c) => encodeCommand(c)));
        const bytes = Buffer.concat([clean, Buffer.from(noise)]);
        for (const [at, v] of mutations) bytes[at % bytes.length] = v;
        const split = cut % (bytes.length + 1);
        const whole = run([bytes], limits);
        const parts = run([bytes.subarray(0, split), bytes.subarray(split)], limits);
        const bytewise = run(byteByByte(bytes), limits);
        // No desync: however the bytes arrive, the same commands and the same error come out.
        assert.deepEqual(parts, whole);
        assert.deepEqual(bytewise, whole);
        for (const c of whole.commands) assert.ok(c.length <= limits.maxMultibulkCount);
      },
    ),
    { numRuns: 400 },
  );
});

test('request decoder fuzz: the buffer never holds more than the query buffer limit', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 30 }), (chunks) => {
      const d = new RequestDecoder({ maxQueryBufferBytes: 2048, maxInlineBytes: 512, maxBulkBytes: 1024 });
      try {
        for (const c of chunks) {
          d.feed(Buffer.from(c));
          while (d.next() > 0);
          assert.ok(d.buffered <= 2048);
        }
      } catch (err) {
        assert.ok(err instanceof RespProtocolError, String(err));
      }
    }),
    { numRuns: 300 },
  );
});

test('request decoder: unauthenticated clients get Redis\'s unauthenticated limit errors', () => {
  const d = new RequestDecoder({ maxMultibulkCount: 10, maxBulkBytes: 16 });
  d.unauthenticated = true;
  d.feed(b('*11\r\n'));
  assert.throws(() => d.next(), { message: 'Protocol error: unauthenticated multibulk length' });
  const e = new RequestDecoder({ maxBulkBytes: 16 });
  e.unauthenticated = true;
  e.feed(b('*1\r\n$17\r\n'));
  assert.throws(() => e.next(), { message: 'Protocol error: unauthenticated bulk length' });
});
