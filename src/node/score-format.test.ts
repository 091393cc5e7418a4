import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatScore, formatScoreGeneral as slowFormat, scoreArg } from './commands/collection-args.js';

test('property: formatScore\'s integer fast path prints what %.17g prints', () => {
  const big = fc.integer({ min: -(10 ** 16) + 1, max: 10 ** 16 - 1 }).filter((x) => x !== 0);
  const edges = fc.constantFrom(1, -1, 9_999_999_999_999_998, 2 ** 53 - 1, -(2 ** 53) + 1, 10 ** 15, 123456789012345);
  fc.assert(fc.property(fc.oneof(fc.integer().filter((x) => x !== 0), big, edges), (x) => assert.equal(formatScore(x), slowFormat(x))), { numRuns: 3000 });
  // Regression: integers in [1e16, 1e17) lost their trailing zeros ("1" for 1e16).
  assert.equal(formatScore(1e16), '10000000000000000');
  assert.equal(formatScore(-2.5e16), '-25000000000000000');
  assert.equal(formatScore(1e17), '1e+17');
});

test('scoreArg reads plain integers (the fast path) as Number() and the rest as strtod', () => {
  for (const [s, v] of [['0', 0], ['-0', -0], ['007', 7], ['123456789012345', 123456789012345], ['-42', -42], ['1234567890123456', 1234567890123456], ['1.5', 1.5], ['-inf', -Infinity]] as const) {
    assert.ok(Object.is(scoreArg(s), v), `${s} → ${scoreArg(s)}`);
  }
  for (const s of ['', '-', ' 1', '1 ', '1x', 'nan', '0x', '--1']) assert.equal(scoreArg(s), undefined, s);
});
