/**
 * Hash commands (Redis 7.0): HSET/HMSET/HSETNX/HGET/HMGET/HGETALL/HDEL/HEXISTS/HLEN/HSTRLEN/HINCRBY/HINCRBYFLOAT/
 * HKEYS/HVALS/HRANDFIELD/HSCAN. Reads go through `store.readCollection`, writes through `store.mutate` (one store
 * step each, so a write is one `set` event of the whole hash for the replication stream).
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_OK, REPLY_ONE, REPLY_ZERO } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { addInt64, HASH_FIELD_OVERHEAD_BYTES, parseInt64, type HashValue } from '../../storage/index.js';
import { addLongDouble, formatLongDouble, MAX_LONG_DOUBLE_CHARS, parseLongDouble } from '../long-double.js';
import type { Connection } from '../connection.js';
import { ERR_NOT_FLOAT, ERR_NOT_INTEGER, ERR_SYNTAX, errWrongArity, errorText } from '../replies.js';
import { intArg } from './strings.js';
import {
  distinctIndexes, ERR_INVALID_CURSOR, ERR_OUT_OF_RANGE, pairCountInRange, randCountArg, scanCursorArg, scanOptions, writeEmptyScan, writeMapScan,
} from './collection-args.js';
import { CMD_DENYOOM, CMD_FAST, CMD_READONLY, CMD_WRITE, KEY1, cmd, type CommandContext, type CommandTable } from './types.js';

const ERR_HASH_NOT_INT = errorText(NODE_ERRORS.NOT_INTEGER, 'hash value is not an integer');
const ERR_HASH_NOT_FLOAT = errorText(NODE_ERRORS.NOT_FLOAT, 'hash value is not a float');
const ERR_OVERFLOW = errorText(NODE_ERRORS.INCR_OVERFLOW, 'increment or decrement would overflow');
const ERR_NAN_INF_ARG = errorText(NODE_ERRORS.FLOAT_NAN_OR_INFINITY, 'value is NaN or Infinity');
const ERR_NAN_INF = errorText(NODE_ERRORS.FLOAT_NAN_OR_INFINITY, 'increment would produce NaN or Infinity');

function read(ctx: CommandContext, req: RequestDecoder, p: number): HashValue | undefined {
  return ctx.store!.readCollection(p, req.str(1), 'hash');
}

/** Bytes a write of fields/values from argument `from` (pairs) may add. */
function pairBytes(req: RequestDecoder, from: number): number {
  let n = 0;
  for (let i = from; i < req.argc; i++) n += req.argLength(i);
  return n + ((req.argc - from) / 2) * HASH_FIELD_OVERHEAD_BYTES;
}

function hsetGeneric(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, name: string): number | undefined {
  if (req.argc % 2 === 1) {
    w.error(errWrongArity(name));
    return undefined;
  }
  return ctx.store!.mutate(p, req.str(1), 'hash', true, pairBytes(req, 2), (h) => {
    let added = 0;
    for (let i = 2; i < req.argc; i += 2) if (h.set(req.str(i), req.str(i + 1))) added++;
    return added;
  }, 0);
}

function hset(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const n = hsetGeneric(ctx, req, w, p, 'hset');
  if (n !== undefined) w.integer(n);
}

function hmset(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  if (hsetGeneric(ctx, req, w, p, 'hmset') !== undefined) w.raw(REPLY_OK);
}

function hsetnx(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const field = req.str(2);
  const added = ctx.store!.mutate(p, req.str(1), 'hash', true, pairBytes(req, 2), (h) => !h.map.has(field) && h.set(field, req.str(3)), false, (r) => r);
  w.raw(added ? REPLY_ONE : REPLY_ZERO);
}

function hget(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const v = read(ctx, req, p)?.map.get(req.str(2));
  if (v === undefined) w.nil();
  else w.bulk(v);
}

function hmget(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const h = read(ctx, req, p);
  w.array(req.argc - 2);
  for (let i = 2; i < req.argc; i++) {
    const v = h?.map.get(req.str(i));
    if (v === undefined) w.nil();
    else w.bulk(v);
  }
}

function hgetall(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const h = read(ctx, req, p);
  if (h === undefined) return w.map(0);
  w.map(h.size);
  for (const [f, v] of h.map) {
    w.bulk(f);
    w.bulk(v);
  }
}

function hkeys(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const h = read(ctx, req, p);
  if (h === undefined) return w.array(0);
  w.array(h.size);
  for (const f of h.map.keys()) w.bulk(f);
}

function hvals(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const h = read(ctx, req, p);
  if (h === undefined) return w.array(0);
  w.array(h.size);
  for (const v of h.map.values()) w.bulk(v);
}

function hdel(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(ctx.store!.mutate(p, req.str(1), 'hash', false, 0, (h) => {
    let n = 0;
    for (let i = 2; i < req.argc; i++) if (h.delete(req.str(i))) n++;
    return n;
  }, 0, (n) => n > 0));
}

function hexists(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.raw(read(ctx, req, p)?.map.has(req.str(2)) === true ? REPLY_ONE : REPLY_ZERO);
}

function hlen(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(read(ctx, req, p)?.size ?? 0);
}

function hstrlen(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(read(ctx, req, p)?.map.get(req.str(2))?.length ?? 0);
}

function hincrby(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const delta = intArg(req, 3);
  if (delta === undefined) return w.error(ERR_NOT_INTEGER);
  const field = req.str(2);
  const r = ctx.store!.mutate(p, req.str(1), 'hash', true, pairBytes(req, 2) + 20, (h): number | bigint | string => {
    const cur = h.map.get(field);
    const n = cur === undefined ? 0 : cur.length <= 20 ? parseInt64(cur) : undefined;
    if (n === undefined) return ERR_HASH_NOT_INT;
    const next = addInt64(n, delta);
    if (next === undefined) return ERR_OVERFLOW;
    h.set(field, String(next));
    return next;
  }, '', (x) => typeof x !== 'string');
  if (typeof r === 'string') w.error(r);
  else w.integer(r);
}

function hincrbyfloat(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const d = req.argLength(3) < MAX_LONG_DOUBLE_CHARS ? parseLongDouble(req.str(3)) : undefined;
  if (d === undefined) return w.error(ERR_NOT_FLOAT);
  if (typeof d === 'string') return w.error(ERR_NAN_INF_ARG);
  const field = req.str(2);
  const r = ctx.store!.mutate(p, req.str(1), 'hash', true, pairBytes(req, 2) + 64, (h): { text: string } | string => {
    const cur = h.map.get(field);
    const x = cur === undefined ? 0 : cur.length < MAX_LONG_DOUBLE_CHARS ? parseLongDouble(cur) : undefined;
    if (x === undefined) return ERR_HASH_NOT_FLOAT;
    const sum = addLongDouble(x === 0 ? { neg: false, mant: 0n, exp: 0 } : x, d);
    if (typeof sum === 'string') return ERR_NAN_INF;
    const text = formatLongDouble(sum);
    h.set(field, text);
    return { text };
  }, '', (x) => typeof x !== 'string');
  if (typeof r === 'string') w.error(r);
  else w.bulk(r.text);
}

/** HRANDFIELD key [count [WITHVALUES]]. */
function hrandfield(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  if (req.argc === 2) {
    const h = read(ctx, req, p);
    if (h === undefined) return w.nil();
    const i = Math.floor(ctx.random() * h.size);
    let k = 0;
    for (const f of h.map.keys()) if (k++ === i) return w.bulk(f);
    return w.nil();
  }
  const count = randCountArg(req, w, 2);
  if (count === undefined) return;
  if (req.argc > 4 || (req.argc === 4 && req.str(3).toLowerCase() !== 'withvalues')) return w.error(ERR_SYNTAX);
  const withValues = req.argc === 4;
  if (withValues && !pairCountInRange(count)) return w.error(ERR_OUT_OF_RANGE);
  const h = read(ctx, req, p);
  if (h === undefined || count === 0) return w.array(0);
  const entries = [...h.map];
  let picks: number[];
  if (count < 0) {
    picks = Array.from({ length: -count }, () => Math.floor(ctx.random() * entries.length));
  } else {
    picks = count >= entries.length ? entries.map((_, i) => i) : distinctIndexes(ctx, entries.length, count);
  }
  if (withValues && w.resp3) {
    w.array(picks.length);
    for (const i of picks) {
      w.array(2);
      w.bulk(entries[i]![0]);
      w.bulk(entries[i]![1]);
    }
    return;
  }
  w.array(withValues ? picks.length * 2 : picks.length);
  for (const i of picks) {
    w.bulk(entries[i]![0]);
    if (withValues) w.bulk(entries[i]![1]);
  }
}

/** HSCAN key cursor [MATCH pattern] [COUNT n]: cursor parsed first, a missing key answers an empty scan. */
function hscan(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const cursor = scanCursorArg(req.str(2));
  if (cursor === undefined) return w.error(ERR_INVALID_CURSOR);
  const h = read(ctx, req, p);
  if (h === undefined) return writeEmptyScan(w);
  const o = scanOptions(req, 3);
  if (typeof o === 'string') return w.error(o);
  writeMapScan(w, h.map, cursor, o, (v) => v);
}

const W = CMD_WRITE | CMD_DENYOOM | CMD_FAST;
const R = CMD_READONLY | CMD_FAST;

export function registerHashCommands(t: CommandTable): void {
  t.add(cmd('hset', -4, W, KEY1, hset, 'Set hash fields'));
  t.add(cmd('hmset', -4, W, KEY1, hmset, 'Set hash fields (old form of HSET, replies OK)'));
  t.add(cmd('hsetnx', 4, W, KEY1, hsetnx, 'Set a hash field only if it does not exist'));
  t.add(cmd('hget', 3, R, KEY1, hget, 'Get a hash field'));
  t.add(cmd('hmget', -3, R, KEY1, hmget, 'Get several hash fields'));
  t.add(cmd('hgetall', 2, CMD_READONLY, KEY1, hgetall, 'All fields and values of a hash'));
  t.add(cmd('hdel', -3, CMD_WRITE | CMD_FAST, KEY1, hdel, 'Delete hash fields'));
  t.add(cmd('hexists', 3, R, KEY1, hexists, 'Whether a hash field exists'));
  t.add(cmd('hlen', 2, R, KEY1, hlen, 'Number of fields of a hash'));
  t.add(cmd('hstrlen', 3, R, KEY1, hstrlen, 'Length of a hash field\'s value'));
  t.add(cmd('hincrby', 4, W, KEY1, hincrby, 'Increment an integer hash field'));
  t.add(cmd('hincrbyfloat', 4, W, KEY1, hincrbyfloat, 'Increment a float hash field (80-bit long double, as Redis on x86-64)'));
  t.add(cmd('hkeys', 2, CMD_READONLY, KEY1, hkeys, 'All fields of a hash'));
  t.add(cmd('hvals', 2, CMD_READONLY, KEY1, hvals, 'All values of a hash'));
  t.add(cmd('hrandfield', -2, CMD_READONLY, KEY1, hrandfield, 'Random fields of a hash'));
  t.add(cmd('hscan', -3, CMD_READONLY, KEY1, hscan, 'Iterate a hash'));
}
