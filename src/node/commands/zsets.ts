/**
 * Sorted-set commands (Redis 7.0): ZADD (NX XX GT LT CH INCR), ZINCRBY, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK,
 * ZREM, ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES) and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT,
 * ZREMRANGEBYRANK/BYSCORE/BYLEX, ZPOPMIN/ZPOPMAX, ZRANDMEMBER, ZUNION/ZINTER/ZDIFF and their STORE forms, ZSCAN.
 * The order is the store's ZIndex (src/storage/zindex.ts); argument checks, their order and error
 * texts follow Redis 7.0's t_zset.c.
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_ZERO } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import {
  ZSET_MEMBER_OVERHEAD_BYTES, ZSetValue, type LexRange, type ScoreRange, type SetValue,
} from '../../storage/index.js';
import type { Connection } from '../connection.js';
import { ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX, errorText } from '../replies.js';
import { intArg, numArg, partitionOfArg } from './strings.js';
import {
  distinctIndexes, ERR_INVALID_CURSOR, ERR_OUT_OF_RANGE, ERR_OUT_OF_RANGE_POSITIVE, ERR_WRONGTYPE, formatScore, pairCountInRange,
   randCountArg, sameSlot, scanCursorArg, scanOptions, scoreArg, strtod, writeEmptyScan, writeMapScan, writeScore,
} from './collection-args.js';
import { CMD_DENYOOM, CMD_FAST, CMD_READONLY, CMD_WRITE, KEY1, cmd, type CommandContext, type CommandTable } from './types.js';

const err = (m: string): string => errorText(NODE_ERRORS.SYNTAX_ERROR, m);
const ERR_XX_NX = err('XX and NX options at the same time are not compatible');
const ERR_GT_LT_NX = err('GT, LT, and/or NX options at the same time are not compatible');
const ERR_INCR_PAIR = err('INCR option supports a single increment-element pair');
const ERR_NAN_RESULT = err('resulting score is not a number (NaN)');
const ERR_MINMAX_FLOAT = err('min or max is not a float');
const ERR_MINMAX_LEX = err('min or max not valid string range item');
const ERR_LIMIT_RANK = err('syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
const ERR_WITHSCORES_LEX = err('syntax error, WITHSCORES not supported in combination with BYLEX');
const ERR_LIMIT_NEGATIVE = err("LIMIT can't be negative");
const ERR_WEIGHT = errorText(NODE_ERRORS.NOT_FLOAT, 'weight value is not a float');

type Pair = readonly [member: string, score: number];

function read(ctx: CommandContext, p: number, key: string): ZSetValue | undefined {
  return ctx.store!.readCollection(p, key, 'zset');
}

/** Writes members (and scores): RESP3 WITHSCORES is an array of [member, score] pairs, RESP2 a flat array. */
function writePairs(w: ReplyWriter, items: readonly Pair[], withScores: boolean): void {
  if (withScores && w.resp3) {
    w.array(items.length);
    for (const [m, s] of items) {
      w.array(2);
      w.bulk(m);
      writeScore(w, s);
    }
    return;
  }
  w.array(withScores ? items.length * 2 : items.length);
  for (const [m, s] of items) {
    w.bulk(m);
    if (withScores) writeScore(w, s);
  }
}

// ---------------------------------------------------------------- ranges

/** One end of a score range (`1.5`, `(1.5`, `-inf`) as Redis's zslParseRange reads it (strtod, whole string). */
function scoreItem(s: string): { v: number; ex: boolean } | undefined {
  const ex = s.startsWith('(');
  const t = ex ? s.slice(1) : s;
  const { value, used } = strtod(t);
  if (used !== t.length || Number.isNaN(value)) return undefined;
  return { v: value, ex };
}

function scoreRangeArgs(a: string, b: string): ScoreRange | undefined {
  const min = scoreItem(a);
  const max = scoreItem(b);
  if (min === undefined || max === undefined) return undefined;
  return { min: min.v, max: max.v, minEx: min.ex, maxEx: max.ex };
}

/** One end of a lex range: `(x`, `[x`, `-`, `+`. 'neg'/'pos' = the infinities. */
type LexItem = { s: string; ex: boolean } | 'neg' | 'pos';

function lexItem(s: string): LexItem | undefined {
  if (s === '+') return 'pos';
  if (s === '-') return 'neg';
  if (s.startsWith('(')) return { s: s.slice(1), ex: true };
  if (s.startsWith('[')) return { s: s.slice(1), ex: false };
  return undefined;
}

/** A lex range, or null when it can hold nothing (min is +, max is -); undefined when it does not parse. */
function lexRangeArgs(a: string, b: string): LexRange | null | undefined {
  const min = lexItem(a);
  const max = lexItem(b);
  if (min === undefined || max === undefined) return undefined;
  if (min === 'pos' || max === 'neg') return null;
  return {
    min: min === 'neg' ? undefined : min.s, minEx: min !== 'neg' && min.ex,
    max: max === 'pos' ? undefined : max.s, maxEx: max !== 'pos' && max.ex,
  };
}

/**
 * Pairs from rank `start` (inclusive; -1 = none), forward or backward, skipping `offset`, at most `limit` (< 0 =
 * all), while `inRange` holds (checked after the skip, as Redis does).
 */
function walk(z: ZSetValue, start: number, reverse: boolean, offset: number, limit: number, inRange: (p: Pair) => boolean): Pair[] {
  const out: Pair[] = [];
  // Redis: a negative offset never reaches 0 in `while (ln && offset--)`, so it skips everything.
  if (start < 0 || offset < 0) return out;
  const from = reverse ? start - offset : start + offset;
  if (limit === 0) return out;
  for (const p of z.index.walk(from, reverse)) {
    if (!inRange(p)) break;
    out.push(p);
    if (--limit === 0) break;
  }
  return out;
}

function rankRange(z: ZSetValue, start: number, end: number, reverse: boolean): Pair[] {
  const len = z.size;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return [];
  if (end >= len) end = len - 1;
  return walk(z, reverse ? len - 1 - start : start, reverse, 0, end - start + 1, () => true);
}

function scoreRange(z: ZSetValue, r: ScoreRange, reverse: boolean, offset: number, limit: number): Pair[] {
  if (offset > 0 && offset >= z.size) return [];
  const first = reverse ? z.index.scoreLast(r) : z.index.scoreFirst(r);
  return walk(z, first, reverse, offset, limit, ([, sc]) => (reverse ? (r.minEx ? sc > r.min : sc >= r.min) : (r.maxEx ? sc < r.max : sc <= r.max)));
}

function lexRange(z: ZSetValue, r: LexRange | null, reverse: boolean, offset: number, limit: number): Pair[] {
  if (r === null || (offset > 0 && offset >= z.size)) return [];
  const first = reverse ? z.index.lexLast(r) : z.index.lexFirst(r);
  return walk(z, first, reverse, offset, limit, ([m]) => (reverse
    ? r.min === undefined || (r.minEx ? m > r.min : m >= r.min)
    : r.max === undefined || (r.maxEx ? m < r.max : m <= r.max)));
}

type RangeType = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'fwd' | 'rev';

/**
 * ZRANGE and friends (Redis's zrangeGenericCommand): the key at `keyAt`, min/max after it, options after those.
 * `store` = ZRANGESTORE (destination at argument 1, no WITHSCORES).
 */
function zrangeGeneric(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, keyAt: number, store: boolean, rangeType: RangeType, direction: Direction): void {
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = keyAt + 3; j < req.argc; j++) {
    const o = req.str(j).toLowerCase();
    const left = req.argc - j - 1;
    if (!store && o === 'withscores') withScores = true;
    else if (o === 'limit' && left >= 2) {
      const a = numArg(req, j + 1);
      const b = a === undefined ? undefined : numArg(req, j + 2);
      if (a === undefined || b === undefined) return w.error(ERR_NOT_INTEGER);
      offset = a;
      limit = b;
      j += 2;
    } else if (direction === 'auto' && o === 'rev') direction = 'rev';
    else if (rangeType === 'auto' && o === 'bylex') rangeType = 'lex';
    else if (rangeType === 'auto' && o === 'byscore') rangeType = 'score';
    else return w.error(ERR_SYNTAX);
  }
  if (direction === 'auto') direction = 'fwd';
  if (rangeType === 'auto') rangeType = 'rank';
  if (limit !== -1 && rangeType === 'rank') return w.error(ERR_LIMIT_RANK);
  if (withScores && rangeType === 'lex') return w.error(ERR_WITHSCORES_LEX);
  const reverse = direction === 'rev';
  const swap = reverse && rangeType !== 'rank';
  const minAt = keyAt + (swap ? 2 : 1);
  const maxAt = keyAt + (swap ? 1 : 2);
  // The arguments are checked before the key is read (Redis's order); no per-call closures on this hot path.
  let start = 0;
  let end = 0;
  let scoreR: ScoreRange | undefined;
  let lexR: LexRange | null | undefined;
  if (rangeType === 'rank') {
    const a = numArg(req, minAt);
    const b = a === undefined ? undefined : numArg(req, maxAt);
    if (a === undefined || b === undefined) return w.error(ERR_NOT_INTEGER);
    start = a;
    end = b;
  } else if (rangeType === 'score') {
    scoreR = scoreRangeArgs(req.str(minAt), req.str(maxAt));
    if (scoreR === undefined) return w.error(ERR_MINMAX_FLOAT);
  } else {
    lexR = lexRangeArgs(req.str(minAt), req.str(maxAt));
    if (lexR === undefined) return w.error(ERR_MINMAX_LEX);
  }
  const srcPart = store ? partitionOfArg(ctx, req, keyAt, p) : p;
  const z = read(ctx, srcPart, req.str(keyAt));
  let items: Pair[];
  if (z === undefined) items = [];
  else if (rangeType === 'rank') items = rankRange(z, start, end, reverse);
  else if (rangeType === 'score') items = scoreRange(z, scoreR!, reverse, offset, limit);
  else items = lexRange(z, lexR!, reverse, offset, limit);
  if (store) {
    const out = new ZSetValue();
    for (const [m, s] of items) out.add(m, s);
    ctx.store!.putCollection(p, req.str(1), out);
    return w.integer(out.size);
  }
  writePairs(w, items, withScores);
}

function zrange(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zrangeGeneric(ctx, req, w, p, 1, false, 'auto', 'auto');
}
function zrangestore(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zrangeGeneric(ctx, req, w, p, 2, true, 'auto', 'auto');
}
function zrevrange(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zrangeGeneric(ctx, req, w, p, 1, false, 'rank', 'rev');
}
function zrangebyscore(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zrangeGeneric(ctx, req, w, p, 1, false, 'score', 'fwd');
}
function zrevrangebyscore(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zrangeGeneric(ctx, req, w, p, 1, false, 'score', 'rev');
}
function zrangebylex(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zrangeGeneric(ctx, req, w, p, 1, false, 'lex', 'fwd');
}
function zrevrangebylex(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zrangeGeneric(ctx, req, w, p, 1, false, 'lex', 'rev');
}

// ---------------------------------------------------------------- writes

/** ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...], and ZINCRBY (`incrOnly`). */
function zaddGeneric(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, incrOnly: boolean): void {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = incrOnly;
  let at = 2;
  if (!incrOnly) {
    for (; at < req.argc; at++) {
      // Flags are 2 to 4 letters: anything else (a score) ends them without a string and a lowercase copy.
      const len = req.argLength(at);
      if (len < 2 || len > 4) break;
      const o = req.str(at).toLowerCase();
      if (o === 'nx') nx = true;
      else if (o === 'xx') xx = true;
      else if (o === 'ch') ch = true;
      else if (o === 'incr') incr = true;
      else if (o === 'gt') gt = true;
      else if (o === 'lt') lt = true;
      else break;
    }
  }
  const elements = req.argc - at;
  if (elements % 2 !== 0 || elements === 0) return w.error(ERR_SYNTAX);
  if (nx && xx) return w.error(ERR_XX_NX);
  if ((gt && nx) || (lt && nx) || (gt && lt)) return w.error(ERR_GT_LT_NX);
  if (incr && elements > 2) return w.error(ERR_INCR_PAIR);
  const scores: number[] = [];
  let bytes = 0;
  for (let i = at; i < req.argc; i += 2) {
    const s = scoreArg(req.str(i));
    if (s === undefined) return w.error(ERR_NOT_FLOAT);
    scores.push(s);
    bytes += req.argLength(i + 1) + ZSET_MEMBER_OVERHEAD_BYTES;
  }
  // Counters the mutation fills (locals, not a result object: one allocation fewer on this hot path).
  let added = 0;
  let updated = 0;
  let processed = 0;
  let last = 0;
  let nan = false;
  ctx.store!.mutate(p, req.str(1), 'zset', !xx, bytes, (z): void => {
    for (let k = 0; k < scores.length; k++) {
      const member = req.str(at + 2 * k + 1);
      let score = scores[k]!;
      const cur = z.scores.get(member);
      if (cur !== undefined) {
        if (nx) continue;
        if (incr) {
          score += cur;
          if (Number.isNaN(score)) {
            nan = true;
            return;
          }
        }
        if ((lt && score >= cur) || (gt && score <= cur)) continue;
        last = score;
        if (score !== cur) {
          z.addKnown(member, score === 0 ? 0 : score, cur); // -0 is kept as 0 (Redis's listpack stores "0"), replied as computed
          updated++;
        }
        processed++;
      } else if (!xx) {
        z.addKnown(member, score === 0 ? 0 : score, undefined);
        last = score;
        added++;
        processed++;
      }
    }
  }, undefined, () => added + updated > 0);
  if (nan) return w.error(ERR_NAN_RESULT);
  if (incr) {
    if (processed > 0) writeScore(w, last);
    else w.nil();
    return;
  }
  w.integer(ch ? added + updated : added);
}

function zadd(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zaddGeneric(ctx, req, w, p, false);
}

function zincrby(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zaddGeneric(ctx, req, w, p, true);
}

function zrem(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(ctx.store!.mutate(p, req.str(1), 'zset', false, 0, (z) => {
    let n = 0;
    for (let i = 2; i < req.argc; i++) if (z.delete(req.str(i))) n++;
    return n;
  }, 0, (n) => n > 0));
}

function removeAll(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, pick: (z: ZSetValue) => Pair[]): void {
  w.integer(ctx.store!.mutate(p, req.str(1), 'zset', false, 0, (z) => {
    const gone = pick(z);
    for (const [m] of gone) z.delete(m);
    return gone.length;
  }, 0, (n) => n > 0));
}

function zremrangebyrank(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const start = numArg(req, 2);
  const end = start === undefined ? undefined : numArg(req, 3);
  if (start === undefined || end === undefined) return w.error(ERR_NOT_INTEGER);
  removeAll(ctx, req, w, p, (z) => rankRange(z, start, end, false));
}

function zremrangebyscore(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const r = scoreRangeArgs(req.str(2), req.str(3));
  if (r === undefined) return w.error(ERR_MINMAX_FLOAT);
  removeAll(ctx, req, w, p, (z) => scoreRange(z, r, false, 0, -1));
}

function zremrangebylex(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const r = lexRangeArgs(req.str(2), req.str(3));
  if (r === undefined) return w.error(ERR_MINMAX_LEX);
  removeAll(ctx, req, w, p, (z) => lexRange(z, r, false, 0, -1));
}

/** ZPOPMIN/ZPOPMAX key [count]. */
function zpop(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, max: boolean): void {
  if (req.argc > 3) return w.error(ERR_SYNTAX);
  let count = -1;
  if (req.argc === 3) {
    const n = intArg(req, 2);
    if (n === undefined || n < 0) return w.error(ERR_OUT_OF_RANGE_POSITIVE);
    count = Number(n);
  }
  const nested = w.resp3 && count !== -1;
  if (count === 0) {
    read(ctx, p, req.str(1)); // the type is checked first (WRONGTYPE)
    return w.array(0);
  }
  const items = ctx.store!.mutate(p, req.str(1), 'zset', false, 0, (z) => {
    const out: Pair[] = [];
    const want = count === -1 ? 1 : count;
    while (out.length < want) {
      const p = z.index.at(max ? z.size - 1 : 0);
      if (p === undefined) break;
      out.push(p);
      z.delete(p[0]);
    }
    return out;
  }, [] as Pair[], (o) => o.length > 0);
  if (nested) return writePairs(w, items, true);
  w.array(items.length * 2);
  for (const [m, s] of items) {
    w.bulk(m);
    writeScore(w, s);
  }
}

function zpopmin(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zpop(ctx, req, w, p, false);
}

function zpopmax(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zpop(ctx, req, w, p, true);
}

// ---------------------------------------------------------------- reads

function zcard(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(read(ctx, p, req.str(1))?.size ?? 0);
}

function zscore(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const s = read(ctx, p, req.str(1))?.scores.get(req.str(2));
  if (s === undefined) w.nil();
  else writeScore(w, s);
}

function zmscore(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const z = read(ctx, p, req.str(1));
  w.array(req.argc - 2);
  for (let i = 2; i < req.argc; i++) {
    const s = z?.scores.get(req.str(i));
    if (s === undefined) w.nil();
    else writeScore(w, s);
  }
}

function zrankGeneric(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, reverse: boolean): void {
  const z = read(ctx, p, req.str(1));
  const member = req.str(2);
  const s = z?.scores.get(member);
  if (z === undefined || s === undefined) return w.nil();
  const rank = z.index.rank(s, member);
  w.integer(reverse ? z.size - 1 - rank : rank);
}

function zrank(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zrankGeneric(ctx, req, w, p, false);
}

function zrevrank(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  zrankGeneric(ctx, req, w, p, true);
}

function zcount(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const r = scoreRangeArgs(req.str(2), req.str(3));
  if (r === undefined) return w.error(ERR_MINMAX_FLOAT);
  const z = read(ctx, p, req.str(1));
  if (z === undefined) return w.raw(REPLY_ZERO);
  const a = z.index.scoreFirst(r);
  const b = z.index.scoreLast(r);
  w.integer(a < 0 || b < a ? 0 : b - a + 1);
}

function zlexcount(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const r = lexRangeArgs(req.str(2), req.str(3));
  if (r === undefined) return w.error(ERR_MINMAX_LEX);
  const z = read(ctx, p, req.str(1));
  if (z === undefined || r === null) return w.raw(REPLY_ZERO);
  // One score for all: a rank difference. Mixed scores: counted from the first member in range while members stay
  // below max, as Redis's listpack walk.
  if (z.index.uniform() !== undefined) {
    const a = z.index.lexFirst(r);
    const b = z.index.lexLast(r);
    return w.integer(a < 0 || b < a ? 0 : b - a + 1);
  }
  w.integer(lexRange(z, r, false, 0, -1).length);
}

/** ZRANDMEMBER key [count [WITHSCORES]]. */
function zrandmember(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  if (req.argc === 2) {
    const z = read(ctx, p, req.str(1));
    if (z === undefined) return w.nil();
    const pick = z.index.at(Math.floor(ctx.random() * z.size));
    return pick === undefined ? w.nil() : w.bulk(pick[0]);
  }
  const count = randCountArg(req, w, 2);
  if (count === undefined) return;
  if (req.argc > 4 || (req.argc === 4 && req.str(3).toLowerCase() !== 'withscores')) return w.error(ERR_SYNTAX);
  const withScores = req.argc === 4;
  if (withScores && !pairCountInRange(count)) return w.error(ERR_OUT_OF_RANGE);
  const z = read(ctx, p, req.str(1));
  if (z === undefined || count === 0) return w.array(0);
  const all: Pair[] = [...z.scores];
  let picks: number[];
  if (count < 0) picks = Array.from({ length: -count }, () => Math.floor(ctx.random() * all.length));
  else picks = count >= all.length ? all.map((_, i) => i) : distinctIndexes(ctx, all.length, count);
  writePairs(w, picks.map((i) => all[i]!), withScores);
}

/** ZSCAN key cursor [MATCH pattern] [COUNT n]: members with their scores as strings. */
function zscan(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const cursor = scanCursorArg(req.str(2));
  if (cursor === undefined) return w.error(ERR_INVALID_CURSOR);
  const z = read(ctx, p, req.str(1));
  if (z === undefined) return writeEmptyScan(w);
  const o = scanOptions(req, 3);
  if (typeof o === 'string') return w.error(o);
  writeMapScan(w, z.scores, cursor, o, formatScore);
}

// ---------------------------------------------------------------- ZUNION / ZINTER / ZDIFF

type SetOp = 'union' | 'inter' | 'diff';

/** An input of a set operation: a sorted set, or a set (every member scores 1), or nothing (missing key). */
interface Source {
  readonly size: number;
  readonly weight: number;
  entries(): Iterable<Pair>;
  score(member: string): number | undefined;
}

function sourceOf(z: ZSetValue | SetValue | undefined, weight: number): Source {
  if (z === undefined) return { size: 0, weight, entries: () => [], score: () => undefined };
  if (z instanceof ZSetValue) {
    return { size: z.size, weight, entries: () => z.scores, score: (m) => z.scores.get(m) };
  }
  return {
    size: z.size, weight,
    entries: function* () {
      for (const m of z.members) yield [m, 1] as const;
    },
    score: (m) => (z.has(m) ? 1 : undefined),
  };
}

function aggregate(target: number, value: number, how: string): number {
  if (how === 'min') return value < target ? value : target;
  if (how === 'max') return value > target ? value : target;
  const s = target + value;
  return Number.isNaN(s) ? 0 : s;
}

function combine(op: SetOp, sources: Source[], how: string): ZSetValue {
  const acc = new Map<string, number>();
  if (op === 'union') {
    for (const src of sources) {
      for (const [m, s] of src.entries()) {
        let v = src.weight * s;
        if (Number.isNaN(v)) v = 0;
        const cur = acc.get(m);
        acc.set(m, cur === undefined ? v : aggregate(cur, v, how));
      }
    }
  } else if (op === 'inter') {
    const sorted = [...sources].sort((a, b) => a.size - b.size);
    const [first, ...rest] = sorted;
    if (first !== undefined && first.size > 0) {
      outer: for (const [m, s] of first.entries()) {
        let score = first.weight * s;
        if (Number.isNaN(score)) score = 0;
        for (const src of rest) {
          const o = src.score(m);
          if (o === undefined) continue outer;
          score = aggregate(score, o * src.weight, how);
        }
        acc.set(m, score);
      }
    }
  } else {
    const [first, ...rest] = sources;
    if (first !== undefined) {
      for (const [m, s] of first.entries()) if (!rest.some((src) => src.score(m) !== undefined)) acc.set(m, s);
    }
  }
  const out = new ZSetValue();
  for (const [m, s] of acc) out.add(m, s);
  return out;
}

/** The sorted sets or sets at `keyIndexes` (undefined for a missing key); null after replying WRONGTYPE. */
function readInputs(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, keyIndexes: readonly number[]): Array<ZSetValue | SetValue | undefined> | null {
  const store = ctx.store!;
  const inputs: Array<ZSetValue | SetValue | undefined> = [];
  for (const i of keyIndexes) {
    const pp = partitionOfArg(ctx, req, i, p);
    const key = req.str(i);
    const t = store.type(pp, key);
    if (t === 'none') inputs.push(undefined);
    else if (t === 'zset') inputs.push(store.readCollection(pp, key, 'zset'));
    else if (t === 'set') inputs.push(store.readCollection(pp, key, 'set'));
    else {
      w.error(ERR_WRONGTYPE);
      return null;
    }
  }
  return inputs;
}

/** ZUNION/ZINTER/ZDIFF numkeys key... and the STORE forms (destination at 1, numkeys at 2). */
function zsetOp(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, op: SetOp, store: boolean, name: string): void {
  const numAt = store ? 2 : 1;
  const numkeys = numArg(req, numAt);
  if (numkeys === undefined) return w.error(ERR_NOT_INTEGER);
  if (numkeys < 1) return w.error(err(`at least 1 input key is needed for '${name}' command`));
  if (numkeys > req.argc - (numAt + 1)) return w.error(ERR_SYNTAX);
  const keyIndexes = Array.from({ length: numkeys }, (_, k) => numAt + 1 + k);
  if (!sameSlot(ctx, req, w, store ? [1, ...keyIndexes] : keyIndexes)) return;
  const store_ = ctx.store!;
  const inputs = readInputs(ctx, req, w, p, keyIndexes);
  if (inputs === null) return;
  const weights = inputs.map(() => 1);
  let how = 'sum';
  let withScores = false;
  let j = numAt + 1 + numkeys;
  while (j < req.argc) {
    const o = req.str(j).toLowerCase();
    const remaining = req.argc - j;
    if (op !== 'diff' && remaining >= numkeys + 1 && o === 'weights') {
      j++;
      for (let k = 0; k < numkeys; k++, j++) {
        const wt = scoreArg(req.str(j));
        if (wt === undefined) return w.error(ERR_WEIGHT);
        weights[k] = wt;
      }
    } else if (op !== 'diff' && remaining >= 2 && o === 'aggregate') {
      const a = req.str(j + 1).toLowerCase();
      if (a !== 'sum' && a !== 'min' && a !== 'max') return w.error(ERR_SYNTAX);
      how = a;
      j += 2;
    } else if (!store && o === 'withscores') {
      withScores = true;
      j++;
    } else {
      return w.error(ERR_SYNTAX);
    }
  }
  const result = combine(op, inputs.map((z, k) => sourceOf(z, weights[k]!)), how);
  if (store) {
    const n = result.size;
    store_.putCollection(p, req.str(1), result);
    return w.integer(n);
  }
  writePairs(w, [...result.index], withScores);
}

/**
 * ZINTERCARD numkeys key [key ...] [LIMIT limit] (Redis 7.0): the size of the intersection of sorted sets (and
 * sets), counting stops at `limit` when > 0. Checks in Redis's order: numkeys, key types, then options.
 */
function zintercard(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const numkeys = numArg(req, 1);
  if (numkeys === undefined) return w.error(ERR_NOT_INTEGER);
  if (numkeys < 1) return w.error(err("at least 1 input key is needed for 'zintercard' command"));
  if (numkeys > req.argc - 2) return w.error(ERR_SYNTAX);
  const keyIndexes = Array.from({ length: numkeys }, (_, k) => 2 + k);
  if (!sameSlot(ctx, req, w, keyIndexes)) return;
  const inputs = readInputs(ctx, req, w, p, keyIndexes);
  if (inputs === null) return;
  let limit = 0;
  for (let j = 2 + numkeys; j < req.argc; j += 2) {
    if (j + 1 >= req.argc || req.str(j).toLowerCase() !== 'limit') return w.error(ERR_SYNTAX);
    const l = numArg(req, j + 1);
    if (l === undefined || l < 0) return w.error(ERR_LIMIT_NEGATIVE);
    limit = l;
  }
  if (inputs.includes(undefined)) return w.integer(0);
  const sources = inputs.map((z) => sourceOf(z, 1)).sort((a, b) => a.size - b.size);
  const [first, ...rest] = sources;
  let n = 0;
  for (const [m] of first!.entries()) {
    if (rest.every((src) => src.score(m) !== undefined) && ++n === limit) break;
  }
  w.integer(n);
}

const op = (o: SetOp, store: boolean, name: string) =>
  (ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void => zsetOp(ctx, req, w, p, o, store, name);

const W = CMD_WRITE | CMD_DENYOOM;
const R = CMD_READONLY | CMD_FAST;

export function registerSortedSetCommands(t: CommandTable): void {
  t.add(cmd('zadd', -4, W | CMD_FAST, KEY1, zadd, 'Add or update sorted-set members (NX XX GT LT CH INCR)'));
  t.add(cmd('zincrby', 4, W | CMD_FAST, KEY1, zincrby, 'Increment a member\'s score'));
  t.add(cmd('zcard', 2, R, KEY1, zcard, 'Number of members of a sorted set'));
  t.add(cmd('zscore', 3, R, KEY1, zscore, 'Score of a member'));
  t.add(cmd('zmscore', -3, R, KEY1, zmscore, 'Scores of several members'));
  t.add(cmd('zrank', 3, R, KEY1, zrank, 'Rank of a member, lowest score first'));
  t.add(cmd('zrevrank', 3, R, KEY1, zrevrank, 'Rank of a member, highest score first'));
  t.add(cmd('zrem', -3, CMD_WRITE | CMD_FAST, KEY1, zrem, 'Remove members'));
  t.add(cmd('zrange', -4, CMD_READONLY, KEY1, zrange, 'Members in a range of ranks, scores (BYSCORE) or members (BYLEX)'));
  t.add(cmd('zrangestore', -5, W, [1, 2, 1], zrangestore, 'Store a range of a sorted set'));
  t.add(cmd('zrevrange', -4, CMD_READONLY, KEY1, zrevrange, 'Members in a range of ranks, highest first'));
  t.add(cmd('zrangebyscore', -4, CMD_READONLY, KEY1, zrangebyscore, 'Members in a score range'));
  t.add(cmd('zrevrangebyscore', -4, CMD_READONLY, KEY1, zrevrangebyscore, 'Members in a score range, highest first'));
  t.add(cmd('zrangebylex', -4, CMD_READONLY, KEY1, zrangebylex, 'Members in a lexicographical range'));
  t.add(cmd('zrevrangebylex', -4, CMD_READONLY, KEY1, zrevrangebylex, 'Members in a lexicographical range, highest first'));
  t.add(cmd('zcount', 4, R, KEY1, zcount, 'Count members in a score range'));
  t.add(cmd('zlexcount', 4, R, KEY1, zlexcount, 'Count members in a lexicographical range'));
  t.add(cmd('zremrangebyrank', 4, CMD_WRITE, KEY1, zremrangebyrank, 'Remove members in a range of ranks'));
  t.add(cmd('zremrangebyscore', 4, CMD_WRITE, KEY1, zremrangebyscore, 'Remove members in a score range'));
  t.add(cmd('zremrangebylex', 4, CMD_WRITE, KEY1, zremrangebylex, 'Remove members in a lexicographical range'));
  t.add(cmd('zpopmin', -2, CMD_WRITE | CMD_FAST, KEY1, zpopmin, 'Remove and return the lowest-scored members'));
  t.add(cmd('zpopmax', -2, CMD_WRITE | CMD_FAST, KEY1, zpopmax, 'Remove and return the highest-scored members'));
  t.add(cmd('zrandmember', -2, CMD_READONLY, KEY1, zrandmember, 'Random members of a sorted set'));
  t.add(cmd('zunion', -3, CMD_READONLY, [2, 2, 1], op('union', false, 'zunion'), 'Union of sorted sets (and sets)'));
  t.add(cmd('zinter', -3, CMD_READONLY, [2, 2, 1], op('inter', false, 'zinter'), 'Intersection of sorted sets (and sets)'));
  t.add(cmd('zintercard', -3, CMD_READONLY, [2, 2, 1], zintercard, 'Size of the intersection of sorted sets (and sets)'));
  t.add(cmd('zdiff', -3, CMD_READONLY, [2, 2, 1], op('diff', false, 'zdiff'), 'Difference of sorted sets (and sets)'));
  t.add(cmd('zunionstore', -4, W, KEY1, op('union', true, 'zunionstore'), 'Store the union of sorted sets'));
  t.add(cmd('zinterstore', -4, W, KEY1, op('inter', true, 'zinterstore'), 'Store the intersection of sorted sets'));
  t.add(cmd('zdiffstore', -4, W, KEY1, op('diff', true, 'zdiffstore'), 'Store the difference of sorted sets'));
  t.add(cmd('zscan', -3, CMD_READONLY, KEY1, zscan, 'Iterate a sorted set'));
}
