/**
 * Redis's INCRBYFLOAT arithmetic, exactly: x87 80-bit long doubles (64-bit mantissa, round to nearest, ties to
 * even), parsed like `strtold` (decimal, hex, inf/infinity; Redis refuses leading spaces, trailing bytes, NaN and
 * overflow) and printed like `printf("%.17Lf")` with trailing zeros removed. Computed with BigInt rationals: slow
 * (microseconds) but exact, so `0.1 + 0.2` prints `0.3` and `9223372036854775807 + 0.5` prints
 * `9223372036854775808`, as Redis prints them. Pure functions.
 */

/** A finite long double: (-1)^neg × mant × 2^exp, mant < 2^64 (normalized to ≥ 2^63 unless subnormal or zero). */
export interface LongDouble {
  readonly neg: boolean;
  readonly mant: bigint;
  readonly exp: number;
}

/** Infinity, or a value parsed from / computed to it. */
export type LongDoubleResult = LongDouble | 'inf' | '-inf';

const MANT_BITS = 64;
/** Smallest exponent of the lowest mantissa bit (subnormals): 2^-16445. */
const MIN_EXP = -16445;
/** Largest exponent with a 64-bit mantissa: values reach 2^16384 (exclusive). */
const MAX_EXP = 16384 - MANT_BITS;
const TWO64 = 1n << 64n;
/** Redis's MAX_LONG_DOUBLE_CHARS: longer inputs are refused. */
export const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Rounds num/den × 2^e2 (num ≥ 0, den > 0) to a long double (ties to even). */
function round(neg: boolean, num: bigint, den: bigint, e2: number): LongDoubleResult {
  if (num === 0n) return { neg, mant: 0n, exp: 0 };
  // Pick e so that num/den × 2^(e2-e) lies in [2^63, 2^64).
  let e = e2 + bitLength(num) - bitLength(den) - MANT_BITS;
  for (;;) {
    const ee = Math.max(e, MIN_EXP);
    const shift = e2 - ee;
    const n = shift >= 0 ? num << BigInt(shift) : num;
    const d = shift >= 0 ? den : den << BigInt(-shift);
    let q = n / d;
    const r = n - q * d;
    if (q >= TWO64) {
      e++;
      continue;
    }
    if (q < TWO64 >> 1n && ee === e && ee > MIN_EXP) {
      e--;
      continue;
    }
    const twice = 2n * r;
    if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
    let exp = ee;
    if (q === TWO64) {
      q >>= 1n;
      exp++;
    }
    if (exp > MAX_EXP) return neg ? '-inf' : 'inf';
    return { neg, mant: q, exp };
  }
}

const DECIMAL = /^([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INF = /^([+-]?)inf(?:inity)?$/i;

/**
 * Parses a string as Redis's string2ld: the whole string must be one strtold number; no leading space, no NaN, no
 * overflow, no non-zero value that underflows to 0. Returns undefined when Redis would refuse it.
 */
export function parseLongDouble(s: string): LongDoubleResult | undefined {
  if (s.length === 0 || s.length >= MAX_LONG_DOUBLE_CHARS) return undefined;
  const inf = INF.exec(s);
  if (inf !== null) return inf[1] === '-' ? '-inf' : 'inf';
  let m = DECIMAL.exec(s);
  let result: LongDoubleResult;
  let nonzero: boolean;
  if (m !== null) {
    const neg = m[1] === '-';
    const intDigits = m[2] ?? '';
    const fracDigits = m[3] ?? m[4] ?? '';
    const exp10 = m[5] === undefined ? 0 : Number(m[5]);
    if (!Number.isSafeInteger(exp10) || Math.abs(exp10) > 100_000) return undefined;
    const digits = BigInt((intDigits + fracDigits).replace(/^0+(?=\d)/, '') || '0');
    nonzero = digits !== 0n;
    const e = exp10 - fracDigits.length;
    result = e >= 0 ? round(neg, digits * 10n ** BigInt(e), 1n, 0) : round(neg, digits, 10n ** BigInt(-e), 0);
  } else {
    m = HEX.exec(s);
    if (m === null) return undefined;
    const neg = m[1] === '-';
    const intDigits = m[2] ?? '';
    const fracDigits = m[3] ?? m[4] ?? '';
    const exp2 = m[5] === undefined ? 0 : Number(m[5]);
    if (!Number.isSafeInteger(exp2) || Math.abs(exp2) > 1_000_000) return undefined;
    const digits = BigInt('0x' + (intDigits + fracDigits || '0'));
    nonzero = digits !== 0n;
    result = round(neg, digits, 1n, exp2 - 4 * fracDigits.length);
  }
  if (typeof result === 'string') return undefined; // overflow: ERANGE with HUGE_VAL
  if (nonzero && result.mant === 0n) return undefined; // underflow to zero: ERANGE with 0
  return result;
}

/** a + b in long double arithmetic; NaN (inf + -inf) is reported as 'nan'. */
export function addLongDouble(a: LongDoubleResult, b: LongDoubleResult): LongDoubleResult | 'nan' {
  if (typeof a === 'string' || typeof b === 'string') {
    if (typeof a === 'string' && typeof b === 'string' && a !== b) return 'nan';
    return typeof a === 'string' ? a : (b as 'inf' | '-inf');
  }
  const e0 = Math.min(a.exp, b.exp);
  const av = a.mant << BigInt(a.exp - e0);
  const bv = b.mant << BigInt(b.exp - e0);
  const sum = (a.neg ? -av : av) + (b.neg ? -bv : bv);
  if (sum === 0n) return { neg: a.neg && b.neg, mant: 0n, exp: 0 };
  return round(sum < 0n, sum < 0n ? -sum : sum, 1n, e0);
}

/** printf("%.17Lf") with trailing zeros (and a trailing '.') removed, "-0" printed as "0": Redis's LD_STR_HUMAN. */
export function formatLongDouble(x: LongDouble): string {
  const scale = 10n ** 17n;
  let q: bigint;
  if (x.exp >= 0) {
    q = (x.mant << BigInt(x.exp)) * scale;
  } else {
    const num = x.mant * scale;
    const shift = BigInt(-x.exp);
    q = num >> shift;
    const r = num - (q << shift);
    const half = 1n << (shift - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q++;
  }
  const digits = q.toString().padStart(18, '0');
  let text = `${digits.slice(0, -17)}.${digits.slice(-17)}`.replace(/0+$/, '').replace(/\.$/, '');
  if (x.neg && text !== '0') text = '-' + text;
  return text;
}
