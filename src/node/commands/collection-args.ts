/**
 * Shared pieces of the hash, set and sorted-set commands: Redis's number parsing and printing for scores, the
 * cross-slot rule for keys that the command table's first/last/step cannot describe (numkeys forms), HSCAN/SSCAN/
 * ZSCAN over one collection, and random picks for HRANDFIELD/SRANDMEMBER/ZRANDMEMBER/SPOP.
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import type { ScanMap } from '../../storage/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { ERR_CROSSSLOT, ERR_NOT_INTEGER, ERR_SYNTAX, errorText } from '../replies.js';
import { globMatcher } from '../glob.js';
import { slotOfArg } from '../slots.js';
import { intArg, numArg } from './strings.js';
import type { CommandContext } from './types.js';

export const ERR_WRONGTYPE = errorText(NODE_ERRORS.WRONGTYPE, 'Operation against a key holding the wrong kind of value');
export const ERR_INVALID_CURSOR = errorText(NODE_ERRORS.SYNTAX_ERROR, 'invalid cursor');
export const ERR_OUT_OF_RANGE_POSITIVE = errorText(NODE_ERRORS.SYNTAX_ERROR, 'value is out of range, must be positive');
export const ERR_OUT_OF_RANGE = errorText(NODE_ERRORS.SYNTAX_ERROR, 'value is out of range');
/** The text of Redis's getRangeLongFromObjectOrReply for [-LONG_MAX, LONG_MAX]. */
export const ERR_OUT_OF_RANGE_LONG = errorText(NODE_ERRORS.SYNTAX_ERROR, 'value is out of range, value must between -9223372036854775807 and 9223372036854775807');

const SPACE = /^[ \t\n\v\f\r]/;
const DEC_PREFIX = /^[ \t\n\v\f\r]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/;
const INF_PREFIX = /^[ \t\n\v\f\r]*([+-]?)(?:infinity|inf)/i;
const NAN_PREFIX = /^[ \t\n\v\f\r]*[+-]?nan(?:\([0-9A-Za-z_]*\))?/i;
const HEX_PREFIX = /^[ \t\n\v\f\r]*([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?/;

/**
 * C's strtod on a whole argument: the value and whether every char was used (`full`). Leading white space, a sign,
 * decimal and hex floats, inf/infinity and nan are read as glibc reads them; nothing read gives 0 with `used` 0.
 */
export function strtod(s: string): { value: number; used: number } {
  const inf = INF_PREFIX.exec(s);
  if (inf !== null) return { value: inf[1] === '-' ? -Infinity : Infinity, used: inf[0].length };
  const nan = NAN_PREFIX.exec(s);
  if (nan !== null) return { value: NaN, used: nan[0].length };
  const hex = HEX_PREFIX.exec(s);
  if (hex !== null && (hex[2]!.length > 0 || (hex[3] ?? '').length > 0)) {
    const digits = hex[2]! + (hex[3] ?? '');
    let m = 0;
    for (const d of digits) m = m * 16 + parseInt(d, 16);
    const exp = Number(hex[4] ?? '0') - 4 * (hex[3] ?? '').length;
    const v = m * 2 ** exp;
    return { value: hex[1] === '-' ? -v : v, used: hex[0].length };
  }
  const dec = DEC_PREFIX.exec(s);
  if (dec !== null) return { value: Number(dec[0].trim()), used: dec[0].length };
  return { value: 0, used: 0 };
}

/**
 * A score argument as Redis's getDoubleFromObject reads it (ZADD, ZINCRBY, WEIGHTS): the whole string, no leading
 * space, not empty, not NaN, no overflow to ±inf from a finite spelling nor underflow to 0 from a non-zero one.
 */
export function scoreArg(s: string): number | undefined {
  // Fast path (most scores): an optional '-' and up to 15 digits, which Number() reads exactly as strtod does.
  if (isPlainInteger(s)) return Number(s);
  if (s.length === 0 || SPACE.test(s)) return undefined;
  const { value, used } = strtod(s);
  if (used !== s.length || Number.isNaN(value)) return undefined;
  if (!Number.isFinite(value) && !/inf/i.test(s)) return undefined;
  if (value === 0 && /[1-9]/.test(s.replace(/[eE].*$/, '').replace(/[pP].*$/, ''))) return undefined;
  return value;
}

/** An optional '-' then 1 to 15 ASCII digits. */
function isPlainInteger(s: string): boolean {
  const n = s.length;
  let i = n > 0 && s.charCodeAt(0) === 45 ? 1 : 0;
  if (i === n || n - i > 15) return false;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Redis 7.0's reply of a double (`%.17g`): "1.1000000000000001", "3", "inf", "-inf". */
export function formatScore(x: number): string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  // Fast path: an integer below 1e16 prints all its digits and no exponent under %.17g, as String() does.
  if (Number.isInteger(x) && x < 1e16 && x > -1e16) return String(x);
  return formatScoreGeneral(x);
}

/** %.17g for any finite number (formatScore without its integer fast path; exported for the property test). */
export function formatScoreGeneral(x: number): string {
  const e = x.toExponential(16);
  const at = e.indexOf('e');
  const exp = Number(e.slice(at + 1));
  if (exp < -4 || exp >= 17) {
    const mant = e.slice(0, at).replace(/\.?0+$/, '');
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  // Only a fraction loses its trailing zeros (1e16 prints as 10000000000000000).
  const fixed = x.toFixed(16 - exp);
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** A score as a reply: a RESP3 double or a RESP2 bulk string, in Redis's format. */
export function writeScore(w: ReplyWriter, x: number): void {
  const t = formatScore(x);
  if (w.resp3) w.raw(Buffer.from(`,${t}\r\n`, 'latin1'));
  else w.bulk(t);
}

/**
 * Checks that the keys at `indexes` share the first one's slot (cluster mode), as the server's guard does for
 * first/last/step keys: replies CROSSSLOT and returns false otherwise. In standalone mode nothing to check.
 */
export function sameSlot(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, indexes: readonly number[]): boolean {
  if (!ctx.options.crossSlotCheck || indexes.length < 2) return true;
  const slot = slotOfArg(req, indexes[0]!);
  for (let k = 1; k < indexes.length; k++) {
    if (slotOfArg(req, indexes[k]!) !== slot) {
      ctx.stats.crossSlot++;
      w.error(ERR_CROSSSLOT);
      return false;
    }
  }
  return true;
}

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * An HSCAN/SSCAN/ZSCAN cursor as Redis reads it (strtoul; undefined = "invalid cursor"), reduced to its low 32 bits:
 * only the bucket bits of a cursor count (scan-table.ts), and our tables have at most 2^30 buckets.
 */
export function scanCursorArg(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const neg = s.startsWith('-');
  const digits = BigInt(s.replace(/^[+-]/, ''));
  if (digits > UINT64_MAX) return undefined;
  const n = neg && digits !== 0n ? 2n ** 64n - digits : digits;
  return Number(n & 0xffffffffn);
}

export interface ScanOptions {
  count: number;
  match: ((s: string) => boolean) | undefined;
}

/** HSCAN/SSCAN/ZSCAN options from argument `from` on; an error reply text when they do not parse. */
export function scanOptions(req: RequestDecoder, from: number): ScanOptions | string {
  let count = 10;
  let match: ((s: string) => boolean) | undefined;
  for (let i = from; i < req.argc; i++) {
    const o = req.str(i).toLowerCase();
    if (i + 1 >= req.argc) return ERR_SYNTAX;
    if (o === 'count') {
      const c = numArg(req, ++i);
      if (c === undefined) return ERR_NOT_INTEGER;
      if (c < 1) return ERR_SYNTAX;
      count = c;
    } else if (o === 'match') {
      const pattern = req.str(++i);
      match = pattern === '*' ? undefined : globMatcher(pattern);
    } else {
      return ERR_SYNTAX;
    }
  }
  return { count, match };
}

/**
 * Replies one HSCAN/ZSCAN step over a hash's or sorted set's elements: `[next cursor, [key, value, ...]]` with the
 * pairs MATCH keeps, values written by `format`. The cursor guarantee is ScanMap's (src/storage/scan-table.ts).
 */
export function writeMapScan<V>(w: ReplyWriter, m: ScanMap<V>, cursor: number, o: ScanOptions, format: (v: V) => string): void {
  const out: Array<string> = [];
  const next = m.scan(cursor, o.count, (k, v) => {
    if (o.match === undefined || o.match(k)) out.push(k, format(v));
  });
  w.array(2);
  w.bulk(String(next));
  w.array(out.length);
  for (const x of out) w.bulk(x);
}

/** The empty scan reply (cursor 0, no items), for a missing key. */
export function writeEmptyScan(w: ReplyWriter): void {
  w.array(2);
  w.bulk('0');
  w.array(0);
}

/** `k` distinct indexes in [0, n) (k ≤ n), in random order, from ctx.random. */
export function distinctIndexes(ctx: CommandContext, n: number, k: number): number[] {
  if (k * 2 > n) {
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(ctx.random() * (n - i));
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
    }
    return all.slice(0, k);
  }
  const picked = new Set<number>();
  while (picked.size < k) picked.add(Math.floor(ctx.random() * n));
  return [...picked];
}

/**
 * A count argument of HRANDFIELD/SRANDMEMBER/ZRANDMEMBER, in [-LONG_MAX, LONG_MAX] (Redis's range); undefined after
 * replying an error.
 */
export function randCountArg(req: RequestDecoder, w: ReplyWriter, i: number, outOfRange = ERR_OUT_OF_RANGE_LONG): number | undefined {
  const n = intArg(req, i);
  if (n === undefined) {
    w.error(ERR_NOT_INTEGER);
    return undefined;
  }
  if (n === -(2n ** 63n)) {
    w.error(outOfRange);
    return undefined;
  }
  return Number(n);
}

/** With WITHVALUES/WITHSCORES Redis also refuses counts beyond ±LONG_MAX/2. */
export function pairCountInRange(n: number): boolean {
  return n >= -(2 ** 62) && n <= 2 ** 62;
}
