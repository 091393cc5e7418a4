/**
 * Set commands (Redis 7.0): SADD/SREM/SISMEMBER/SMISMEMBER/SMEMBERS/SCARD/SPOP/SRANDMEMBER/SMOVE/SINTER/SINTERCARD/
 * SINTERSTORE/SUNION/SUNIONSTORE/SDIFF/SDIFFSTORE/SSCAN. Multi-key forms follow the node's cross-slot rule; every
 * write is one store step (one `set` or `del` event per key written).
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_ONE, REPLY_ZERO } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { SET_MEMBER_OVERHEAD_BYTES, SetValue, type Collection } from '../../storage/index.js';
import type { Connection } from '../connection.js';
import { ERR_SYNTAX, errorText } from '../replies.js';
import { intArg, numArg, partitionOfArg } from './strings.js';
import {
  distinctIndexes, ERR_INVALID_CURSOR, ERR_OUT_OF_RANGE_POSITIVE, ERR_WRONGTYPE,  randCountArg, sameSlot, scanCursorArg,
  scanOptions, writeEmptyScan,
} from './collection-args.js';
import { CMD_DENYOOM, CMD_FAST, CMD_READONLY, CMD_WRITE, KEY1, cmd, type CommandContext, type CommandTable } from './types.js';

const ERR_NUMKEYS_POSITIVE = errorText(NODE_ERRORS.SYNTAX_ERROR, 'numkeys should be greater than 0');
const ERR_NUMKEYS_ARGS = errorText(NODE_ERRORS.SYNTAX_ERROR, "Number of keys can't be greater than number of args");
const ERR_LIMIT_NEGATIVE = errorText(NODE_ERRORS.SYNTAX_ERROR, "LIMIT can't be negative");

function read(ctx: CommandContext, p: number, key: string): SetValue | undefined {
  return ctx.store!.readCollection(p, key, 'set');
}

function writeMembers(w: ReplyWriter, members: Iterable<string>, n: number): void {
  w.set(n);
  for (const m of members) w.bulk(m);
}

function sadd(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  let bytes = 0;
  for (let i = 2; i < req.argc; i++) bytes += req.argLength(i) + SET_MEMBER_OVERHEAD_BYTES;
  w.integer(ctx.store!.mutate(p, req.str(1), 'set', true, bytes, (s) => {
    let n = 0;
    for (let i = 2; i < req.argc; i++) if (s.add(req.str(i))) n++;
    return n;
  }, 0, (n) => n > 0));
}

function srem(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(ctx.store!.mutate(p, req.str(1), 'set', false, 0, (s) => {
    let n = 0;
    for (let i = 2; i < req.argc; i++) if (s.delete(req.str(i))) n++;
    return n;
  }, 0, (n) => n > 0));
}

function sismember(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.raw(read(ctx, p, req.str(1))?.has(req.str(2)) === true ? REPLY_ONE : REPLY_ZERO);
}

function smismember(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const s = read(ctx, p, req.str(1));
  w.array(req.argc - 2);
  for (let i = 2; i < req.argc; i++) w.raw(s?.has(req.str(i)) === true ? REPLY_ONE : REPLY_ZERO);
}

function smembers(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const s = read(ctx, p, req.str(1));
  if (s === undefined) return w.set(0);
  writeMembers(w, s.members, s.size);
}

function scard(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(read(ctx, p, req.str(1))?.size ?? 0);
}

/** SPOP key [count]. */
function spop(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const store = ctx.store!;
  const key = req.str(1);
  if (req.argc > 3) return w.error(ERR_SYNTAX);
  if (req.argc === 2) {
    const popped = store.mutate(p, key, 'set', false, 0, (s): string | undefined => {
      const i = Math.floor(ctx.random() * s.size);
      let k = 0;
      for (const m of s.members) {
        if (k++ === i) {
          s.delete(m);
          return m;
        }
      }
      return undefined;
    }, undefined);
    if (popped === undefined) w.nil();
    else w.bulk(popped);
    return;
  }
  const count = intArg(req, 2);
  if (count === undefined || count < 0) return w.error(ERR_OUT_OF_RANGE_POSITIVE);
  const n = Number(count);
  const popped = store.mutate(p, key, 'set', false, 0, (s): string[] => {
    const all = [...s.members];
    const picked = n >= all.length ? all : distinctIndexes(ctx, all.length, n).map((i) => all[i]!);
    for (const m of picked) s.delete(m);
    return picked;
  }, [], (r) => r.length > 0);
  writeMembers(w, popped, popped.length);
}

/** SRANDMEMBER key [count]. */
function srandmember(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  if (req.argc > 3) return w.error(ERR_SYNTAX);
  if (req.argc === 2) {
    const s = read(ctx, p, req.str(1));
    if (s === undefined) return w.nil();
    const i = Math.floor(ctx.random() * s.size);
    let k = 0;
    for (const m of s.members) if (k++ === i) return w.bulk(m);
    return w.nil();
  }
  const count = randCountArg(req, w, 2);
  if (count === undefined) return;
  const s = read(ctx, p, req.str(1));
  if (s === undefined || count === 0) return w.array(0);
  const all = [...s.members];
  let picks: number[];
  if (count < 0) picks = Array.from({ length: -count }, () => Math.floor(ctx.random() * all.length));
  else picks = count >= all.length ? all.map((_, i) => i) : distinctIndexes(ctx, all.length, count);
  w.array(picks.length);
  for (const i of picks) w.bulk(all[i]!);
}

function smove(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const store = ctx.store!;
  const src = req.str(1);
  const dst = req.str(2);
  const member = req.str(3);
  const pd = partitionOfArg(ctx, req, 2, p);
  // Redis's order: a missing source answers 0, then the source's and the destination's types are checked.
  const srcType = store.type(p, src);
  if (srcType === 'none') return w.raw(REPLY_ZERO);
  const dstType = store.type(pd, dst);
  if (srcType !== 'set' || (dstType !== 'none' && dstType !== 'set')) return w.error(ERR_WRONGTYPE);
  const from = read(ctx, p, src)!;
  if (src === dst && p === pd) return w.raw(from.has(member) ? REPLY_ONE : REPLY_ZERO);
  if (!from.has(member)) return w.raw(REPLY_ZERO);
  store.mutate(pd, dst, 'set', true, member.length + SET_MEMBER_OVERHEAD_BYTES, (s) => s.add(member), false, (added) => added);
  store.mutate(p, src, 'set', false, 0, (s) => s.delete(member), false);
  w.raw(REPLY_ONE);
}

/**
 * The sets at `keys` (argument indexes) in order, every key's type checked first (WRONGTYPE is thrown by the store):
 * undefined for a missing key, or null when `missingEmpties` (an intersection) and a key is missing.
 */
function setsAt(ctx: CommandContext, req: RequestDecoder, p: number, indexes: readonly number[], missingEmpties: boolean): Array<SetValue | undefined> | null {
  const out: Array<SetValue | undefined> = [];
  for (const i of indexes) out.push(read(ctx, partitionOfArg(ctx, req, i, p), req.str(i)));
  return missingEmpties && out.includes(undefined) ? null : out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
}

/** Intersection, smallest set first; stops early at `limit` members when > 0. */
function intersect(sets: readonly SetValue[], limit = 0): string[] {
  const sorted = [...sets].sort((a, b) => a.size - b.size);
  const out: string[] = [];
  const [first, ...rest] = sorted;
  if (first === undefined) return out;
  for (const m of first.members) {
    if (rest.every((s) => s.has(m))) {
      out.push(m);
      if (limit > 0 && out.length >= limit) break;
    }
  }
  return out;
}

function union(sets: ReadonlyArray<SetValue | undefined>): Set<string> {
  const out = new Set<string>();
  for (const s of sets) if (s !== undefined) for (const m of s.members) out.add(m);
  return out;
}

function diff(sets: ReadonlyArray<SetValue | undefined>): Set<string> {
  const out = new Set<string>();
  const [first, ...rest] = sets;
  if (first === undefined) return out;
  for (const m of first.members) if (!rest.some((s) => s !== undefined && s.has(m))) out.add(m);
  return out;
}

function toSet(members: Iterable<string>): SetValue {
  const s = new SetValue();
  for (const m of members) s.add(m);
  return s;
}

function storeResult(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, result: Collection): void {
  ctx.store!.putCollection(p, req.str(1), result);
  w.integer(result.size);
}

function sinter(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const sets = setsAt(ctx, req, p, range(1, req.argc), true);
  const out = sets === null ? [] : intersect(sets as SetValue[]);
  writeMembers(w, out, out.length);
}

function sinterstore(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const sets = setsAt(ctx, req, p, range(2, req.argc), true);
  storeResult(ctx, req, w, p, toSet(sets === null ? [] : intersect(sets as SetValue[])));
}

function sunion(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const out = union(setsAt(ctx, req, p, range(1, req.argc), false)!);
  writeMembers(w, out, out.size);
}

function sunionstore(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  storeResult(ctx, req, w, p, toSet(union(setsAt(ctx, req, p, range(2, req.argc), false)!)));
}

function sdiff(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const out = diff(setsAt(ctx, req, p, range(1, req.argc), false)!);
  writeMembers(w, out, out.size);
}

function sdiffstore(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  storeResult(ctx, req, w, p, toSet(diff(setsAt(ctx, req, p, range(2, req.argc), false)!)));
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit]. */
function sintercard(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const numkeys = numArg(req, 1);
  if (numkeys === undefined || numkeys <= 0) return w.error(ERR_NUMKEYS_POSITIVE);
  if (numkeys > req.argc - 2) return w.error(ERR_NUMKEYS_ARGS);
  let limit = 0;
  for (let i = 2 + numkeys; i < req.argc; i++) {
    if (req.str(i).toLowerCase() === 'limit' && i + 1 < req.argc) {
      const l = numArg(req, ++i);
      if (l === undefined || l < 0) return w.error(ERR_LIMIT_NEGATIVE);
      limit = l;
    } else {
      return w.error(ERR_SYNTAX);
    }
  }
  const keys = range(2, 2 + numkeys);
  if (!sameSlot(ctx, req, w, keys)) return;
  const sets = setsAt(ctx, req, p, keys, true);
  w.integer(sets === null ? 0 : intersect(sets as SetValue[], limit).length);
}

/** SSCAN key cursor [MATCH pattern] [COUNT n]. */
function sscan(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const cursor = scanCursorArg(req.str(2));
  if (cursor === undefined) return w.error(ERR_INVALID_CURSOR);
  const s = read(ctx, p, req.str(1));
  if (s === undefined) return writeEmptyScan(w);
  const o = scanOptions(req, 3);
  if (typeof o === 'string') return w.error(o);
  const kept: string[] = [];
  const keep = (m: string): void => {
    if (o.match === undefined || o.match(m)) kept.push(m);
  };
  let next = 0;
  // An intset answers whole whatever its size, as Redis's.
  if (s.encoding() === 'intset') for (const m of s.members) keep(m);
  else next = s.members.scan(cursor, o.count, keep);
  w.array(2);
  w.bulk(String(next));
  w.array(kept.length);
  for (const m of kept) w.bulk(m);
}

const W = CMD_WRITE | CMD_DENYOOM;
const R = CMD_READONLY | CMD_FAST;
const ALL_KEYS: [number, number, number] = [1, -1, 1];

export function registerSetCommands(t: CommandTable): void {
  t.add(cmd('sadd', -3, W | CMD_FAST, KEY1, sadd, 'Add members to a set'));
  t.add(cmd('srem', -3, CMD_WRITE | CMD_FAST, KEY1, srem, 'Remove members from a set'));
  t.add(cmd('sismember', 3, R, KEY1, sismember, 'Whether a member is in a set'));
  t.add(cmd('smismember', -3, R, KEY1, smismember, 'Whether each member is in a set'));
  t.add(cmd('smembers', 2, CMD_READONLY, KEY1, smembers, 'All members of a set'));
  t.add(cmd('scard', 2, R, KEY1, scard, 'Number of members of a set'));
  t.add(cmd('spop', -2, CMD_WRITE | CMD_FAST, KEY1, spop, 'Remove and return random members'));
  t.add(cmd('srandmember', -2, CMD_READONLY, KEY1, srandmember, 'Random members of a set'));
  t.add(cmd('smove', 4, CMD_WRITE | CMD_FAST, [1, 2, 1], smove, 'Move a member between sets (one slot in cluster mode)'));
  t.add(cmd('sinter', -2, CMD_READONLY, ALL_KEYS, sinter, 'Intersection of sets'));
  t.add(cmd('sintercard', -3, CMD_READONLY, [2, 2, 1], sintercard, 'Size of the intersection of sets'));
  t.add(cmd('sinterstore', -3, W, ALL_KEYS, sinterstore, 'Store the intersection of sets'));
  t.add(cmd('sunion', -2, CMD_READONLY, ALL_KEYS, sunion, 'Union of sets'));
  t.add(cmd('sunionstore', -3, W, ALL_KEYS, sunionstore, 'Store the union of sets'));
  t.add(cmd('sdiff', -2, CMD_READONLY, ALL_KEYS, sdiff, 'Difference of sets'));
  t.add(cmd('sdiffstore', -3, W, ALL_KEYS, sdiffstore, 'Store the difference of sets'));
  t.add(cmd('sscan', -3, CMD_READONLY, KEY1, sscan, 'Iterate a set'));
}
