import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addLongDouble, formatLongDouble, parseLongDouble } from './long-double.js';

/** What `SET k a` + `INCRBYFLOAT k b` answers on redis-server 7.0.15 (x86_64, 80-bit long double). */
const REDIS_VECTORS: ReadonlyArray<[string, string, string]> = [
  ['0.1', '0.2', '0.3'],
  ['10.5', '0.1', '10.6'],
  ['9223372036854775807', '0.5', '9223372036854775807.5'],
  ['1e400', '1', '10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880'],
  ['3.0e3', '1.5e1', '3015'],
  ['0x1p3', '0.25', '8.25'],
  ['-1', '1', '0'],
  ['1', '-1.5', '-0.5'],
  ['0.1', '-0.1', '0'],
  ['1.7976931348623157e308', '1.7976931348623157e308', '359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768'],
  ['1e-20', '0', '0'],
  ['123456789.123456789', '0.000000001', '123456789.12345678999554366'],
  ['5.0e3', '2.0e2', '5200'],
  ['-0.0', '0', '0'],
  ['1.1', '2.2', '3.3'],
  ['100', '-0.0001', '99.9999'],
];

test('INCRBYFLOAT arithmetic prints what redis-server prints (80-bit long double, %.17Lf trimmed)', () => {
  for (const [a, b, want] of REDIS_VECTORS) {
    const x = parseLongDouble(a);
    const y = parseLongDouble(b);
    assert.ok(x !== undefined && y !== undefined, `${a} ${b} parse`);
    const sum = addLongDouble(x, y);
    assert.ok(typeof sum !== 'string', `${a} + ${b} is finite`);
    assert.equal(formatLongDouble(sum), want, `${a} + ${b}`);
  }
});

test('overflow, infinities and NaN: 1e4932 + 1e4932 is infinite, inf + -inf is NaN', () => {
  assert.equal(addLongDouble(parseLongDouble('1e4932')!, parseLongDouble('1e4932')!), 'inf');
  assert.equal(addLongDouble(parseLongDouble('inf')!, parseLongDouble('-inf')!), 'nan');
  assert.equal(addLongDouble(parseLongDouble('inf')!, parseLongDouble('1')!), 'inf');
});

test('parsing follows strtold as Redis uses it: no spaces, no NaN, no overflow, no trailing bytes', () => {
  for (const bad of ['', ' 1', '1 ', 'abc', 'nan', 'NaN', '1e', '.', '0x', 'infinit', '1e5000', '1e-5000', '1..2', '--1', '1_0', 'x'.repeat(6000)]) {
    assert.equal(parseLongDouble(bad), undefined, JSON.stringify(bad));
  }
  for (const good of ['1', '+1', '-1', '.5', '5.', '1e3', '1E+3', '0x10', '0x1.8p1', 'inf', '-Infinity', 'INF', '007', '0']) {
    assert.notEqual(parseLongDouble(good), undefined, good);
  }
  assert.equal(formatLongDouble(parseLongDouble('0x1.8p1') as never), '3');
});

test('garbage never throws; every double JavaScript prints parses back to the same value', () => {
  fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => {
    const v = parseLongDouble(s);
    if (v !== undefined && typeof v !== 'string') formatLongDouble(v);
  }));
  fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }), (d) => {
    const v = parseLongDouble(String(d));
    assert.ok(v !== undefined && typeof v !== 'string');
    // A double is exact in 80 bits; from 1 up, 17 decimals are at least 17 significant digits: it reads back the same.
    if (Math.abs(d) >= 1) assert.equal(Number(formatLongDouble(v)), d);
  }));
});
