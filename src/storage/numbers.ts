/**
 * Redis's number rules for string values: which strings INCR and INCRBYFLOAT accept, and how INCRBYFLOAT prints
 * its result. Pure functions; the node may use them to parse arguments too.
 */

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
/** Integers this long (sign included) are always exact as a JS number: |n| < 10^15 < 2^53. */
const SAFE_DIGITS = 15;
const INT_RE = /^(?:0|-?[1-9][0-9]{0,18})$/;

/**
 * Parses a 64-bit signed integer exactly as Redis's string2ll: optional '-', no '+', no spaces, no leading zeros,
 * no "-0". Returns a number when it is a safe integer, a bigint otherwise, undefined when invalid or out of range.
 */
export function parseInt64(s: string): number | bigint | undefined {
  if (s.length === 0 || s.length > 20 || !INT_RE.test(s)) return undefined;
  if (s.length <= SAFE_DIGITS) return Number(s);
  const b = BigInt(s);
  if (b < INT64_MIN || b > INT64_MAX) return undefined;
  return Number.isSafeInteger(Number(b)) && BigInt(Number(b)) === b ? Number(b) : b;
}

/**
 * Adds two int64 values; undefined on overflow. A number result when it is a safe integer, else a bigint.
 * `delta` given as a number must be a safe integer.
 */
export function addInt64(a: number | bigint, delta: number | bigint): number | bigint | undefined {
  if (typeof a === 'number' && typeof delta === 'number') {
    const r = a + delta;
    if (Number.isSafeInteger(r)) return r;
  }
  const r = BigInt(a) + BigInt(delta);
  if (r < INT64_MIN || r > INT64_MAX) return undefined;
  const n = Number(r);
  return Number.isSafeInteger(n) ? n : r;
}

const FLOAT_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const INF_RE = /^[+-]?inf(?:inity)?$/i;

/**
 * Parses a float as Redis's string2ld (strtold on the whole string): decimal with optional exponent, `inf`/`infinity`
 * with a sign; no spaces, no NaN. Returns undefined when invalid.
 */
export function parseFloatStrict(s: string): number | undefined {
  if (s.length === 0 || s.length > 5000) return undefined;
  if (FLOAT_RE.test(s)) return Number(s);
  if (INF_RE.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  return undefined;
}

/**
 * Prints an INCRBYFLOAT result as Redis's "human" long-double format does: plain decimal, never an exponent, no
 * trailing zeros ("10.6", "5200", "-0.5"). JS uses doubles where Redis uses long doubles, so we print the shortest
 * decimal that round-trips (what users expect: 10.5 + 0.1 = "10.6").
 */
export function formatFloat(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 1e21) return BigInt(x).toString(); // every double this large is an integer
  if (abs >= 1e-6) return String(x);
  // Below 1e-6 JS switches to exponent form; Redis prints %.17Lf with zeros trimmed.
  const fixed = x.toFixed(17).replace(/\.?0+$/, '');
  return fixed === '-0' || fixed === '' ? '0' : fixed;
}
