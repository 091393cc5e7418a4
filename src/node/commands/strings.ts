/** String commands: GET, SET and friends, counters, ranges, multi-key MGET/MSET. */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_OK, REPLY_ONE, REPLY_ZERO } from '../../protocol/resp/index.js';
import { parseInt64, type SetOptions, type Store } from '../../storage/index.js';
import { addLongDouble, formatLongDouble, MAX_LONG_DOUBLE_CHARS, parseLongDouble, type LongDouble } from '../long-double.js';
import type { Connection } from '../connection.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX, errInvalidExpire, errWrongArity, errorText } from '../replies.js';
import { slotOfArg } from '../slots.js';
import { CMD_DENYOOM, CMD_FAST, CMD_READONLY, CMD_WRITE, KEY1, cmd, type CommandContext, type CommandTable } from './types.js';

/** The partition of argument i: the guarded partition when every key shares a slot (cluster), else computed. */
export function partitionOfArg(ctx: CommandContext, req: RequestDecoder, i: number, guarded: number): number {
  if (ctx.options.crossSlotCheck) return guarded;
  return ctx.view.partitionOfSlot(slotOfArg(req, i));
}

/**
 * A value argument as the store keeps it: a latin1 string (no extra copy: the store keeps small values as strings),
 * or, past 1 MB, a view the store copies into a buffer of its own (V8 strings stop at ~512 MB).
 */
export function valueArg(req: RequestDecoder, i: number): string | Buffer {
  return req.argLength(i) > 1024 * 1024 ? req.arg(i) : req.str(i);
}

/** Parses an int64 argument; undefined when invalid. Numbers beyond 2^53 come back as bigint. */
export function intArg(req: RequestDecoder, i: number): number | bigint | undefined {
  const n = req.int(i);
  // req.int reads up to 18 digits into a double (past 2^53 its last digits are rounded, so re-parse exactly) and
  // takes "01" and "-0", which Redis refuses: only the canonical spelling of a safe integer is taken as it is.
  if (Number.isSafeInteger(n) && (n > -10 && n < 10 ? req.argLength(i) === (n < 0 ? 2 : 1) : String(n).length === req.argLength(i))) return n;
  return req.argLength(i) <= 20 ? parseInt64(req.str(i)) : undefined;
}

/** An int64 argument as a JS number (bigints clamp to ±2^63, enough for ranges and offsets); undefined when invalid. */
export function numArg(req: RequestDecoder, i: number): number | undefined {
  const v = intArg(req, i);
  return v === undefined ? undefined : Number(v);
}

const ERR_DECR_OVERFLOW = errorText(NODE_ERRORS.INCR_OVERFLOW, 'decrement would overflow');
const INT64_MAX = 2n ** 63n - 1n;
/** LLONG_MAX / 1000 and LLONG_MIN / 1000 in C (truncating): the largest seconds that still convert to ms. */
const MAX_SECONDS = INT64_MAX / 1000n;

/**
 * `base + n × scale` as an int64 the way Redis computes expiry times, or undefined on overflow. Returned as a JS
 * number: times past 2^53 ms (year 287,000) keep their magnitude but not their last digits.
 */
export function expiryMs(n: number | bigint, scale: 1 | 1000, base: number): number | undefined {
  if (typeof n === 'number' && Number.isSafeInteger(n * scale + base)) return n * scale + base;
  let ms = BigInt(n);
  if (scale === 1000) {
    if (ms > MAX_SECONDS || ms < -MAX_SECONDS) return undefined;
    ms *= 1000n;
  }
  if (ms > INT64_MAX - BigInt(base)) return undefined;
  return Number(ms + BigInt(base));
}

/**
 * An absolute expiry from EX/PX/EXAT/PXAT and its argument, or a string error reply. Redis 7.0 rejects ≤ 0 and
 * int64 overflow with "invalid expire time"; anything else up to 2^63 - 1 ms is accepted.
 */
export function expiryArg(ctx: CommandContext, unit: string, req: RequestDecoder, i: number, name: string): number | string {
  const n = intArg(req, i);
  if (n === undefined) return ERR_NOT_INTEGER;
  if (n <= 0) return errInvalidExpire(name);
  const relative = unit === 'ex' || unit === 'px';
  const at = expiryMs(n, unit === 'ex' || unit === 'exat' ? 1000 : 1, relative ? ctx.now() : 0);
  if (at === undefined) return errInvalidExpire(name);
  return at;
}

function reply(w: ReplyWriter, v: string | Buffer | undefined): void {
  if (v === undefined) w.nil();
  else w.bulk(v);
}

function get(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  reply(w, ctx.store!.get(p, req.str(1)));
}

function set(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const argc = req.argc;
  const store = ctx.store!;
  if (argc === 3) {
    store.set(p, req.str(1), valueArg(req, 2));
    w.raw(REPLY_OK);
    return;
  }
  let expiresAt: number | undefined;
  let nx = false;
  let xx = false;
  let keepTtl = false;
  let withGet = false;
  for (let i = 3; i < argc; i++) {
    const opt = req.str(i).toLowerCase();
    if (opt === 'nx' && !xx) nx = true;
    else if (opt === 'xx' && !nx) xx = true;
    else if (opt === 'get') withGet = true;
    else if (opt === 'keepttl' && expiresAt === undefined) keepTtl = true;
    else if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && expiresAt === undefined && !keepTtl && i + 1 < argc) {
      const at = expiryArg(ctx, opt, req, ++i, 'set');
      if (typeof at === 'string') return w.error(at);
      expiresAt = at;
    } else {
      return w.error(ERR_SYNTAX);
    }
  }
  const options: SetOptions = { expiresAt, keepTtl, nx, xx };
  if (withGet) {
    reply(w, store.setGet(p, req.str(1), valueArg(req, 2), options));
    return;
  }
  if (store.set(p, req.str(1), valueArg(req, 2), options)) w.raw(REPLY_OK);
  else w.nil();
}

function setnx(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.raw(ctx.store!.set(p, req.str(1), valueArg(req, 2), { nx: true }) ? REPLY_ONE : REPLY_ZERO);
}

function setexLike(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, unit: string, name: string): void {
  const at = expiryArg(ctx, unit, req, 2, name);
  if (typeof at === 'string') return w.error(at);
  ctx.store!.set(p, req.str(1), valueArg(req, 3), { expiresAt: at });
  w.raw(REPLY_OK);
}

function setex(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  setexLike(ctx, req, w, p, 'ex', 'setex');
}

function psetex(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  setexLike(ctx, req, w, p, 'px', 'psetex');
}

function getset(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  reply(w, ctx.store!.setGet(p, req.str(1), valueArg(req, 2)));
}

function getdel(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  reply(w, ctx.store!.getDel(p, req.str(1)));
}

function getex(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const argc = req.argc;
  if (argc === 2) return reply(w, ctx.store!.getEx(p, req.str(1)));
  const opt = req.str(2).toLowerCase();
  if (opt === 'persist' && argc === 3) return reply(w, ctx.store!.getEx(p, req.str(1), { persist: true }));
  if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && argc === 4) {
    const at = expiryArg(ctx, opt, req, 3, 'getex');
    // Redis looks the key up before it validates the time: a missing key answers nil.
    if (typeof at === 'string') return ctx.store!.exists(p, req.str(1)) ? w.error(at) : w.nil();
    return reply(w, ctx.store!.getEx(p, req.str(1), { expiresAt: at }));
  }
  w.error(ERR_SYNTAX);
}

function incrByReply(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, delta: number | bigint): void {
  w.integer(ctx.store!.incrBy(p, req.str(1), delta));
}

function incr(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  incrByReply(ctx, req, w, p, 1);
}

function decr(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  incrByReply(ctx, req, w, p, -1);
}

function incrby(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const d = intArg(req, 2);
  if (d === undefined) return w.error(ERR_NOT_INTEGER);
  incrByReply(ctx, req, w, p, d);
}

function decrby(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const d = intArg(req, 2);
  if (d === undefined) return w.error(ERR_NOT_INTEGER);
  if (typeof d === 'bigint') {
    if (d === -(2n ** 63n)) return w.error(ERR_DECR_OVERFLOW);
    return incrByReply(ctx, req, w, p, -d);
  }
  incrByReply(ctx, req, w, p, -d);
}

const KEEP_TTL: SetOptions = Object.freeze({ keepTtl: true });
const LD_ZERO: LongDouble = Object.freeze({ neg: false, mant: 0n, exp: 0 });
const ERR_NAN_OR_INFINITY = errorText(NODE_ERRORS.FLOAT_NAN_OR_INFINITY, 'increment would produce NaN or Infinity');

/**
 * INCRBYFLOAT in Redis's arithmetic (80-bit long double, see long-double.ts), so results print as Redis prints them.
 * The new value is written with `set` keeping the TTL: one ordinary store write.
 */
function incrbyfloat(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const store = ctx.store!;
  const key = req.str(1);
  const cur = store.get(p, key);
  const x = cur === undefined ? LD_ZERO : cur.length < MAX_LONG_DOUBLE_CHARS ? parseLongDouble(typeof cur === 'string' ? cur : cur.toString('latin1')) : undefined;
  if (x === undefined) return w.error(ERR_NOT_FLOAT);
  const d = req.argLength(2) < MAX_LONG_DOUBLE_CHARS ? parseLongDouble(req.str(2)) : undefined;
  if (d === undefined) return w.error(ERR_NOT_FLOAT);
  const sum = addLongDouble(x, d);
  if (typeof sum === 'string') return w.error(ERR_NAN_OR_INFINITY);
  const text = formatLongDouble(sum);
  store.set(p, key, text, KEEP_TTL);
  w.bulk(text);
}

function append(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(ctx.store!.append(p, req.str(1), valueArg(req, 2)));
}

function strlen(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(ctx.store!.strlen(p, req.str(1)));
}

function getrange(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const start = numArg(req, 2);
  const end = numArg(req, 3);
  if (start === undefined || end === undefined) return w.error(ERR_NOT_INTEGER);
  w.bulk(ctx.store!.getRange(p, req.str(1), start, end));
}

function setrange(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const offset = numArg(req, 2);
  if (offset === undefined) return w.error(ERR_NOT_INTEGER);
  w.integer(ctx.store!.setRange(p, req.str(1), offset, valueArg(req, 3)));
}

function mget(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const n = req.argc;
  const store = ctx.store!;
  w.array(n - 1);
  // A key holding a collection reads as nil (Redis's MGET), not WRONGTYPE.
  for (let i = 1; i < n; i++) reply(w, store.getIfString(partitionOfArg(ctx, req, i, p), req.str(i)));
}

function mset(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const n = req.argc;
  if ((n - 1) % 2 !== 0) return w.error(errWrongArity('mset'));
  const store = ctx.store!;
  for (let i = 1; i < n; i += 2) store.set(partitionOfArg(ctx, req, i, p), req.str(i), valueArg(req, i + 1));
  w.raw(REPLY_OK);
}

function msetnx(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const n = req.argc;
  if ((n - 1) % 2 !== 0) return w.error(errWrongArity('msetnx'));
  const store: Store = ctx.store!;
  for (let i = 1; i < n; i += 2) {
    if (store.exists(partitionOfArg(ctx, req, i, p), req.str(i))) return w.raw(REPLY_ZERO);
  }
  for (let i = 1; i < n; i += 2) store.set(partitionOfArg(ctx, req, i, p), req.str(i), valueArg(req, i + 1));
  w.raw(REPLY_ONE);
}

const W = CMD_WRITE | CMD_DENYOOM;
const R = CMD_READONLY | CMD_FAST;

export function registerStringCommands(t: CommandTable): void {
  t.add(cmd('get', 2, R, KEY1, get, 'Get the value of a key'));
  t.add(cmd('set', -3, W, KEY1, set, 'Set a key, with EX/PX/EXAT/PXAT/KEEPTTL/NX/XX/GET'));
  t.add(cmd('setnx', 3, W | CMD_FAST, KEY1, setnx, 'Set a key only if it does not exist'));
  t.add(cmd('setex', 4, W, KEY1, setex, 'Set a key with a TTL in seconds'));
  t.add(cmd('psetex', 4, W, KEY1, psetex, 'Set a key with a TTL in milliseconds'));
  t.add(cmd('getset', 3, W | CMD_FAST, KEY1, getset, 'Set a key and return its old value'));
  t.add(cmd('getdel', 2, CMD_WRITE | CMD_FAST, KEY1, getdel, 'Get a key and delete it'));
  t.add(cmd('getex', -2, CMD_WRITE | CMD_FAST, KEY1, getex, 'Get a key and change its TTL'));
  t.add(cmd('incr', 2, W | CMD_FAST, KEY1, incr, 'Increment an integer by one'));
  t.add(cmd('decr', 2, W | CMD_FAST, KEY1, decr, 'Decrement an integer by one'));
  t.add(cmd('incrby', 3, W | CMD_FAST, KEY1, incrby, 'Increment an integer'));
  t.add(cmd('decrby', 3, W | CMD_FAST, KEY1, decrby, 'Decrement an integer'));
  t.add(cmd('incrbyfloat', 3, W | CMD_FAST, KEY1, incrbyfloat, 'Increment a float (80-bit long double arithmetic, as Redis on x86-64)'));
  t.add(cmd('append', 3, W | CMD_FAST, KEY1, append, 'Append to a value'));
  t.add(cmd('strlen', 2, R, KEY1, strlen, 'Length of a value'));
  t.add(cmd('getrange', 4, CMD_READONLY, KEY1, getrange, 'A substring of a value'));
  t.add(cmd('substr', 4, CMD_READONLY, KEY1, getrange, 'A substring of a value (old name of GETRANGE)'));
  t.add(cmd('setrange', 4, W, KEY1, setrange, 'Overwrite part of a value'));
  t.add(cmd('mget', -2, R, [1, -1, 1], mget, 'Get several keys (one slot in cluster mode)'));
  t.add(cmd('mset', -3, W, [1, -1, 2], mset, 'Set several keys (one slot in cluster mode)'));
  t.add(cmd('msetnx', -3, W, [1, -1, 2], msetnx, 'Set several keys only if none exists'));
}
