import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../testing/manual-clock.js';
import { isRingleaderError } from '../shared/errors.js';
import { NODE_ERRORS } from '../protocol/errors/index.js';
import { entryCost, Store, type SetOptions, type StoreValue } from './index.js';

function setup(options: ConstructorParameters<typeof Store>[0] = {}) {
  const clock = new ManualClock();
  const store = new Store({ partitionCount: 8, timeSnapshot: 'call', ...options }, clock);
  return { clock, store };
}

const str = (v: StoreValue | undefined): string | undefined => (v === undefined ? undefined : typeof v === 'string' ? v : v.toString('latin1'));

function throwsCode(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isRingleaderError(e), `expected RingleaderError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

test('binary keys and values round-trip byte for byte', () => {
  const { store } = setup();
  const keyBytes = Buffer.from([0, 255, 13, 10, 128, 65]);
  const key = keyBytes.toString('latin1');
  const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  store.set(3, key, value);
  const got = store.get(3, key);
  assert.ok(got !== undefined);
  assert.deepEqual(Buffer.from(str(got)!, 'latin1'), value);
  assert.equal(store.get(2, key), undefined, 'another partition does not see the key');
});

test('a value Buffer is copied: mutating the caller buffer later does not change the stored value', () => {
  const { store } = setup();
  const buf = Buffer.from('abc');
  store.set(0, 'k', buf);
  buf[0] = 120;
  assert.equal(str(store.get(0, 'k')), 'abc');
});

test('SET NX / XX / GET follow Redis', () => {
  const { store } = setup();
  assert.equal(store.set(0, 'k', 'a', { xx: true }), false);
  assert.equal(store.exists(0, 'k'), false);
  assert.equal(store.set(0, 'k', 'a', { nx: true }), true);
  assert.equal(store.set(0, 'k', 'b', { nx: true }), false);
  assert.equal(str(store.get(0, 'k')), 'a');
  assert.equal(store.set(0, 'k', 'b', { xx: true }), true);
  assert.equal(str(store.setGet(0, 'k', 'c')), 'b');
  assert.equal(str(store.setGet(0, 'new', 'x')), undefined);
  assert.equal(str(store.setGet(0, 'k', 'd', { nx: true })), 'c', 'SET NX GET returns the old value and does not write');
  assert.equal(str(store.get(0, 'k')), 'c');
});

// TTL table: what EX/PX/EXAT/PXAT/KEEPTTL become at the storage level (the node turns them into absolute expiresAt).
interface TtlCase {
  name: string;
  before?: SetOptions; // a first SET, when the case needs an existing key
  set: (now: number) => SetOptions | undefined;
  pttl: number; // expected right after the write; -1 none, -2 missing
  goneAfterMs?: number; // the key is still there at this age and gone 1 ms later
}
const ttlCases: TtlCase[] = [
  { name: 'SET without TTL', set: () => undefined, pttl: -1 },
  { name: 'SET EX 10', set: (now) => ({ expiresAt: now + 10_000 }), pttl: 10_000, goneAfterMs: 10_000 },
  { name: 'SET PX 1', set: (now) => ({ expiresAt: now + 1 }), pttl: 1, goneAfterMs: 1 },
  { name: 'SET EXAT in 5 s', set: (now) => ({ expiresAt: now + 5000 }), pttl: 5000, goneAfterMs: 5000 },
  { name: 'SET PXAT in the past deletes', before: {}, set: (now) => ({ expiresAt: now - 1 }), pttl: -2 },
  { name: 'SET PXAT now deletes', before: {}, set: (now) => ({ expiresAt: now }), pttl: -2 },
  { name: 'SET clears an existing TTL', before: { expiresAt: 1_700_000_009_000 }, set: () => ({}), pttl: -1 },
  { name: 'SET KEEPTTL keeps it', before: { expiresAt: 1_700_000_009_000 }, set: () => ({ keepTtl: true }), pttl: 9000, goneAfterMs: 9000 },
  { name: 'SET KEEPTTL on a key without TTL', before: {}, set: () => ({ keepTtl: true }), pttl: -1 },
  { name: 'SET KEEPTTL on a new key', set: () => ({ keepTtl: true }), pttl: -1 },
  { name: 'SET EX with KEEPTTL given: EX wins', before: { expiresAt: 1_700_000_009_000 }, set: (now) => ({ expiresAt: now + 100, keepTtl: true }), pttl: 100, goneAfterMs: 100 },
];

for (const c of ttlCases) {
  for (const mode of ['lazy', 'active'] as const) {
    test(`TTL table (${mode} expiry): ${c.name}`, () => {
      const { clock, store } = setup();
      assert.equal(clock.now(), 1_700_000_000_000);
      if (c.before) store.set(1, 'k', 'old', c.before);
      store.set(1, 'k', 'v', c.set(clock.now()));
      assert.equal(store.pttl(1, 'k'), c.pttl);
      if (c.goneAfterMs === undefined) return;
      clock.advance(c.goneAfterMs);
      if (mode === 'active') assert.equal(store.activeExpireCycle(1), 0, 'not expired at exactly expiresAt');
      assert.equal(store.pttl(1, 'k'), 0, 'alive at expiresAt with 0 ms left (Redis: expired when now > expiresAt)');
      clock.advance(1);
      if (mode === 'active') {
        assert.equal(store.dbsize(), 1);
        assert.equal(store.activeExpireCycle(1), 1);
        assert.equal(store.dbsize(), 0, 'removed without any access');
      }
      assert.equal(store.get(1, 'k'), undefined);
      assert.equal(store.pttl(1, 'k'), -2);
      assert.equal(store.stats().expiredKeys, 1);
    });
  }
}

test('EXPIRE NX/XX/GT/LT conditions (no TTL counts as infinite)', () => {
  const { clock, store } = setup();
  const t = clock.now();
  assert.equal(store.expire(0, 'missing', t + 10), false);
  store.set(0, 'k', 'v');
  assert.equal(store.expire(0, 'k', t + 1000, 'xx'), false, 'XX needs a TTL');
  assert.equal(store.expire(0, 'k', t + 1000, 'gt'), false, 'GT: no TTL is infinite');
  assert.equal(store.expire(0, 'k', t + 1000, 'lt'), true, 'LT: anything is less than infinite');
  assert.equal(store.expire(0, 'k', t + 2000, 'nx'), false, 'NX needs no TTL');
  assert.equal(store.expire(0, 'k', t + 2000, 'lt'), false);
  assert.equal(store.expire(0, 'k', t + 2000, 'gt'), true);
  assert.equal(store.expire(0, 'k', t + 500, 'xx'), true);
  assert.equal(store.pttl(0, 'k'), 500);
  assert.equal(store.expireTime(0, 'k'), t + 500);
  assert.equal(store.persist(0, 'k'), true);
  assert.equal(store.persist(0, 'k'), false);
  assert.equal(store.pttl(0, 'k'), -1);
  assert.equal(store.expire(0, 'k', t), true, 'a time not in the future deletes the key');
  assert.equal(store.exists(0, 'k'), false);
});

test('GETEX sets, persists or deletes; GETDEL removes', () => {
  const { clock, store } = setup();
  store.set(0, 'k', 'v');
  assert.equal(str(store.getEx(0, 'k', { expiresAt: clock.now() + 50 })), 'v');
  assert.equal(store.pttl(0, 'k'), 50);
  assert.equal(str(store.getEx(0, 'k', { persist: true })), 'v');
  assert.equal(store.pttl(0, 'k'), -1);
  assert.equal(str(store.getEx(0, 'k')), 'v');
  assert.equal(str(store.getEx(0, 'k', { expiresAt: clock.now() - 1 })), 'v', 'returns the value, then deletes');
  assert.equal(store.exists(0, 'k'), false);
  assert.equal(store.getEx(0, 'k'), undefined);
  store.set(0, 'd', 'x');
  assert.equal(str(store.getDel(0, 'd')), 'x');
  assert.equal(store.getDel(0, 'd'), undefined);
});

test('hits, misses, type, touch, dbsize', () => {
  const { store } = setup();
  store.set(0, 'a', '1');
  store.get(0, 'a');
  store.get(0, 'b');
  store.getDel(0, 'b');
  assert.equal(store.type(0, 'a'), 'string');
  assert.equal(store.type(0, 'b'), 'none');
  assert.equal(store.touch(0, 'a'), true);
  assert.equal(store.touch(0, 'b'), false);
  const s = store.stats();
  assert.equal(s.hits, 1);
  assert.equal(s.misses, 2);
  assert.equal(store.dbsize(), 1);
  assert.equal(store.del(0, 'a'), true);
  assert.equal(store.del(0, 'a'), false);
  assert.equal(store.dbsize(), 0);
});

test('INCR family: integer semantics, TTL kept, exact int64 edges, errors', () => {
  const { clock, store } = setup();
  assert.equal(store.incrBy(0, 'n', 1), 1);
  assert.equal(store.incrBy(0, 'n', -5), -4);
  assert.equal(str(store.get(0, 'n')), '-4');
  store.expire(0, 'n', clock.now() + 1000);
  assert.equal(store.incrBy(0, 'n', 4), 0);
  assert.equal(store.pttl(0, 'n'), 1000, 'INCR keeps the TTL');

  store.set(0, 'big', '9223372036854775806');
  assert.equal(store.incrBy(0, 'big', 1), 9223372036854775807n);
  assert.equal(str(store.get(0, 'big')), '9223372036854775807');
  throwsCode(() => store.incrBy(0, 'big', 1), NODE_ERRORS.INCR_OVERFLOW.code, 'increment or decrement would overflow');
  assert.equal(str(store.get(0, 'big')), '9223372036854775807', 'a failed INCR changes nothing');
  store.set(0, 'small', '-9223372036854775808');
  throwsCode(() => store.incrBy(0, 'small', -1), NODE_ERRORS.INCR_OVERFLOW.code, 'increment or decrement would overflow');
  assert.equal(store.incrBy(0, 'small', 9223372036854775807n), -1);
  store.set(0, 's', '9007199254740991');
  assert.equal(store.incrBy(0, 's', 1), 9007199254740992n, 'past 2^53 the result is exact (bigint)');

  for (const badDelta of [1.5, 2 ** 53, Number.NaN, 2n ** 63n]) {
    throwsCode(() => store.incrBy(0, 'n', badDelta), NODE_ERRORS.NOT_INTEGER.code, 'value is not an integer or out of range');
  }
  for (const bad of ['abc', '', ' 1', '1 ', '+1', '01', '-0', '1.5', '9223372036854775808', '-9223372036854775809', '1e3', '0x10']) {
    store.set(0, 'bad', bad);
    throwsCode(() => store.incrBy(0, 'bad', 1), NODE_ERRORS.NOT_INTEGER.code, 'value is not an integer or out of range');
    assert.equal(str(store.get(0, 'bad')), bad);
  }
});

test('INCRBYFLOAT: formatting, TTL kept, NaN/Infinity and bad values rejected', () => {
  const { clock, store } = setup();
  store.set(0, 'f', '10.50', { expiresAt: clock.now() + 100 });
  assert.equal(store.incrByFloat(0, 'f', 0.1), '10.6');
  assert.equal(store.pttl(0, 'f'), 100);
  assert.equal(store.incrByFloat(0, 'f', -5), '5.6');
  store.set(0, 'e', '5.0e3');
  assert.equal(store.incrByFloat(0, 'e', 200), '5200');
  assert.equal(store.incrByFloat(0, 'z', 1e21), '1000000000000000000000', 'no exponent notation');
  assert.equal(store.incrByFloat(0, 't', 1e-7), '0.0000001');
  assert.equal(store.incrByFloat(0, 'i', 3), '3');
  assert.equal(store.incrBy(0, 'i', 1), 4, 'an integral float result stays INCR-able');
  store.set(0, 'max', '1.7e308');
  throwsCode(() => store.incrByFloat(0, 'max', 1.7e308), NODE_ERRORS.FLOAT_NAN_OR_INFINITY.code, 'increment would produce NaN or Infinity');
  store.set(0, 'inf', 'inf');
  throwsCode(() => store.incrByFloat(0, 'inf', 1), NODE_ERRORS.FLOAT_NAN_OR_INFINITY.code, 'increment would produce NaN or Infinity');
  for (const bad of ['abc', '', ' 1', '1.2.3', 'nan', '1e']) {
    store.set(0, 'bad', bad);
    throwsCode(() => store.incrByFloat(0, 'bad', 1), NODE_ERRORS.NOT_FLOAT.code, 'value is not a valid float');
  }
});

test('APPEND and STRLEN', () => {
  const { clock, store } = setup({ maxValueBytes: 10 });
  assert.equal(store.append(0, 'a', 'Hello'), 5);
  store.expire(0, 'a', clock.now() + 100);
  assert.equal(store.append(0, 'a', Buffer.from(' Wor')), 9);
  assert.equal(str(store.get(0, 'a')), 'Hello Wor');
  assert.equal(store.pttl(0, 'a'), 100, 'APPEND keeps the TTL');
  assert.equal(store.append(0, 'a', ''), 9);
  assert.equal(store.strlen(0, 'a'), 9);
  assert.equal(store.strlen(0, 'missing'), 0);
  throwsCode(() => store.append(0, 'a', 'ld'), NODE_ERRORS.VALUE_TOO_LARGE.code, 'string exceeds maximum allowed size (proto-max-bulk-len)');
  assert.equal(store.append(0, 'a', 'l'), 10);
  throwsCode(() => store.set(0, 'b', 'x'.repeat(11)), NODE_ERRORS.VALUE_TOO_LARGE.code, 'string exceeds maximum allowed size (proto-max-bulk-len)');
});

test('SETRANGE: padding, overwrite, empty value, range checks', () => {
  const { store } = setup({ maxValueBytes: 20 });
  assert.equal(store.setRange(0, 'k', 0, ''), 0);
  assert.equal(store.exists(0, 'k'), false, 'an empty SETRANGE creates nothing');
  assert.equal(store.setRange(0, 'k', 3, 'ab'), 5);
  assert.equal(str(store.get(0, 'k')), '\0\0\0ab');
  store.set(0, 'h', 'Hello World');
  assert.equal(store.setRange(0, 'h', 6, 'Redis'), 11);
  assert.equal(str(store.get(0, 'h')), 'Hello Redis');
  assert.equal(store.setRange(0, 'h', 0, 'J'), 11);
  assert.equal(str(store.get(0, 'h')), 'Jello Redis');
  assert.equal(store.setRange(0, 'h', 11, '!'), 12);
  assert.equal(store.setRange(0, 'h', 5, ''), 12, 'an empty value returns the length');
  throwsCode(() => store.setRange(0, 'h', -1, 'x'), NODE_ERRORS.OFFSET_OUT_OF_RANGE.code, 'offset is out of range');
  throwsCode(() => store.setRange(0, 'h', 20, 'x'), NODE_ERRORS.VALUE_TOO_LARGE.code, 'string exceeds maximum allowed size (proto-max-bulk-len)');
  assert.equal(store.setRange(0, 'h', 19, 'x'), 20);
});

test('SETRANGE at the 512 MB limit is refused before allocating', () => {
  const { store } = setup();
  const max = store.options.maxValueBytes;
  assert.equal(max, 512 * 1024 * 1024);
  throwsCode(() => store.setRange(0, 'k', max, 'x'), NODE_ERRORS.VALUE_TOO_LARGE.code, 'string exceeds maximum allowed size (proto-max-bulk-len)');
  assert.equal(store.exists(0, 'k'), false);
});

test('GETRANGE index rules', () => {
  const { store } = setup();
  store.set(0, 'k', 'This is a string');
  const cases: Array<[number, number, string]> = [
    [0, 3, 'This'], [-3, -1, 'ing'], [0, -1, 'This is a string'], [10, 100, 'string'], [5, 3, ''], [-100, 3, 'This'],
    [-1, -5, ''], [100, 200, ''], [0, 0, 'T'], [-1, -1, 'g'],
  ];
  for (const [s, e, want] of cases) assert.equal(str(store.getRange(0, 'k', s, e)), want, `GETRANGE ${s} ${e}`);
  assert.equal(store.getRange(0, 'missing', 0, -1), '');
  store.set(0, 'empty', '');
  assert.equal(str(store.getRange(0, 'empty', 0, -1)), '');
});

test('a listener that throws is counted and does not break the write', () => {
  const { store } = setup();
  store.onWrite(() => {
    throw new Error('bug');
  });
  assert.equal(store.set(0, 'k', 'v'), true);
  assert.equal(str(store.get(0, 'k')), 'v');
  assert.equal(store.stats().listenerErrors, 1);
});

test("timeSnapshot 'task' reads the clock once per task: a pipeline sees one time, the next task sees the new one", async () => {
  const clock = new ManualClock();
  const store = new Store({ partitionCount: 1 }, clock);
  assert.equal(store.options.timeSnapshot, 'task', 'the default');
  store.set(0, 'k', 'v', { expiresAt: clock.now() + 10 });
  clock.advance(11);
  assert.equal(str(store.get(0, 'k')), 'v', 'same task: still the snapshot taken by SET');
  await Promise.resolve();
  assert.equal(store.get(0, 'k'), undefined, 'a later task reads the clock again');
  assert.equal(store.stats().expiredKeys, 1);
});

test('APPEND past 4 KB grows an owned buffer: amortized, byte-exact, accounted by capacity', () => {
  const { store } = setup();
  const chunk = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 7) & 255));
  const expected: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    store.append(0, 'log', i % 2 === 0 ? chunk : chunk.toString('latin1'));
    expected.push(chunk);
  }
  const got = store.get(0, 'log')!;
  assert.ok(Buffer.isBuffer(got), 'a large appended value is kept as a Buffer');
  assert.deepEqual(got, Buffer.concat(expected));
  assert.equal(store.strlen(0, 'log'), 100_000);
  const capacity = got.buffer.byteLength;
  assert.ok(capacity >= 100_000 && capacity <= 200_000, `capacity ${capacity}`);
  assert.equal(store.memoryUsed, entryCost('log', got), 'accounted with its spare capacity');
});

test('a value returned by GET never changes under later APPEND or SETRANGE', () => {
  const { store } = setup();
  store.set(0, 'k', 'x'.repeat(5000));
  store.append(0, 'k', 'y'); // now an owned buffer with spare room
  const before = store.get(0, 'k')!;
  const copy = Buffer.from(before as Buffer);
  store.append(0, 'k', 'zzz'); // grows in place, after the old length
  store.setRange(0, 'k', 0, 'ABC'); // must copy, not write into the bytes `before` shows
  assert.deepEqual(before, copy);
  assert.equal(str(store.getRange(0, 'k', 0, 2)), 'ABC');
  assert.equal(str(store.getRange(0, 'k', -4, -1)), 'yzzz');
});
