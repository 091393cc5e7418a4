/** Generic key commands: DEL, EXISTS, TOUCH, TTLs, TYPE, SCAN. */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_ONE, REPLY_ZERO } from '../../protocol/resp/index.js';
import type { Connection } from '../connection.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX, errInvalidExpire, errorText } from '../replies.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { globMatcher } from '../glob.js';
import { expiryMs, intArg, numArg, partitionOfArg } from './strings.js';
import { CMD_FAST, CMD_READONLY, CMD_SERVED_KEYS, CMD_WRITE, KEY1, NO_KEYS, cmd, type CommandContext, type CommandTable } from './types.js';
import type { ValueType } from '../../storage/index.js';

function del(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const store = ctx.store!;
  let n = 0;
  for (let i = 1; i < req.argc; i++) if (store.del(partitionOfArg(ctx, req, i, p), req.str(i))) n++;
  w.integer(n);
}

function exists(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const store = ctx.store!;
  let n = 0;
  for (let i = 1; i < req.argc; i++) if (store.exists(partitionOfArg(ctx, req, i, p), req.str(i))) n++;
  w.integer(n);
}

function touch(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const store = ctx.store!;
  let n = 0;
  for (let i = 1; i < req.argc; i++) if (store.touch(partitionOfArg(ctx, req, i, p), req.str(i))) n++;
  w.integer(n);
}

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;
const EXPIRE_FLAGS: Readonly<Record<string, number>> = { nx: EXPIRE_NX, xx: EXPIRE_XX, gt: EXPIRE_GT, lt: EXPIRE_LT };
const ERR_EXPIRE_NX = errorText(NODE_ERRORS.SYNTAX_ERROR, 'NX and XX, GT or LT options at the same time are not compatible');
const ERR_EXPIRE_GT_LT = errorText(NODE_ERRORS.SYNTAX_ERROR, 'GT and LT options at the same time are not compatible');

/**
 * EXPIRE family, as Redis 7.0's expireGenericCommand: flags first (NX alone; XX may go with GT or LT), then the
 * number; `scale` ms per unit, `absolute` for the *AT forms. A time ≤ now deletes the key. GT treats "no TTL" as
 * infinite (always fails), LT as infinite (always passes).
 */
function expireGeneric(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, scale: 1 | 1000, absolute: boolean, name: string): void {
  let flags = 0;
  for (let i = 3; i < req.argc; i++) {
    const f = EXPIRE_FLAGS[req.str(i).toLowerCase()];
    if (f === undefined) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `Unsupported option ${req.str(i)}`));
    flags |= f;
  }
  if ((flags & EXPIRE_NX) !== 0 && (flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) !== 0) return w.error(ERR_EXPIRE_NX);
  if ((flags & EXPIRE_GT) !== 0 && (flags & EXPIRE_LT) !== 0) return w.error(ERR_EXPIRE_GT_LT);
  const n = intArg(req, 2);
  if (n === undefined) return w.error(ERR_NOT_INTEGER);
  const at = expiryMs(n, scale, absolute ? 0 : ctx.now());
  if (at === undefined) return w.error(errInvalidExpire(name));
  const store = ctx.store!;
  const key = req.str(1);
  if (flags !== 0) {
    const cur = store.expireTime(p, key);
    if (cur === -2) return w.raw(REPLY_ZERO);
    if ((flags & EXPIRE_NX) !== 0 && cur !== -1) return w.raw(REPLY_ZERO);
    if ((flags & EXPIRE_XX) !== 0 && cur === -1) return w.raw(REPLY_ZERO);
    if ((flags & EXPIRE_GT) !== 0 && (cur === -1 || at <= cur)) return w.raw(REPLY_ZERO);
    if ((flags & EXPIRE_LT) !== 0 && cur !== -1 && at >= cur) return w.raw(REPLY_ZERO);
  }
  w.raw(store.expire(p, key, at) ? REPLY_ONE : REPLY_ZERO);
}

function expire(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  expireGeneric(ctx, req, w, p, 1000, false, 'expire');
}
function pexpire(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  expireGeneric(ctx, req, w, p, 1, false, 'pexpire');
}
function expireat(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  expireGeneric(ctx, req, w, p, 1000, true, 'expireat');
}
function pexpireat(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  expireGeneric(ctx, req, w, p, 1, true, 'pexpireat');
}

function persist(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.raw(ctx.store!.persist(p, req.str(1)) ? REPLY_ONE : REPLY_ZERO);
}

function ttl(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const ms = ctx.store!.pttl(p, req.str(1));
  w.integer(ms < 0 ? ms : Math.floor((ms + 500) / 1000));
}

function pttl(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(ctx.store!.pttl(p, req.str(1)));
}

function expiretime(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const at = ctx.store!.expireTime(p, req.str(1));
  w.integer(at < 0 ? at : Math.floor(at / 1000));
}

function pexpiretime(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.integer(ctx.store!.expireTime(p, req.str(1)));
}

function type(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  w.simple(ctx.store!.type(p, req.str(1)));
}

const MAX_SCAN_COUNT = 100_000;
/** Types SCAN ... TYPE can match (Redis answers no keys for any other name). */
const SCAN_TYPES: ReadonlySet<string> = new Set(['string', 'hash', 'set', 'zset']);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A SCAN cursor read as Redis reads it (strtoul: optional sign, digits, at most 2^64 - 1, a '-' wraps modulo
 * 2^64); undefined when Redis says "invalid cursor". Our cursors stay below 2^53: a larger one was never handed
 * out and maps to -1 (the scan then answers cursor 0 and no keys).
 */
function scanCursorArg(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const neg = s.startsWith('-');
  const digits = BigInt(s.replace(/^[+-]/, ''));
  if (digits > UINT64_MAX) return undefined;
  const n = neg && digits !== 0n ? 2n ** 64n - digits : digits;
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : -1;
}

/** SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]: over the partitions this node serves as primary. */
function scan(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  const cursor = scanCursorArg(req.str(1));
  if (cursor === undefined) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'invalid cursor'));
  let count = 10;
  let match: ((key: string) => boolean) | undefined;
  let typeFilter: string | undefined;
  for (let i = 2; i < req.argc; i++) {
    const o = req.str(i).toLowerCase();
    if (i + 1 >= req.argc) return w.error(ERR_SYNTAX);
    if (o === 'count') {
      const c = numArg(req, ++i);
      if (c === undefined) return w.error(ERR_NOT_INTEGER);
      if (c < 1) return w.error(ERR_SYNTAX);
      count = Math.min(c, MAX_SCAN_COUNT);
    } else if (o === 'match') {
      const pattern = req.str(++i);
      if (pattern !== '*') match = globMatcher(pattern);
    } else if (o === 'type') {
      typeFilter = req.str(++i).toLowerCase();
    } else return w.error(ERR_SYNTAX);
  }
  const store = ctx.store;
  w.array(2);
  if (store === null || cursor < 0 || (typeFilter !== undefined && !SCAN_TYPES.has(typeFilter))) {
    w.bulk('0');
    w.array(0);
    return;
  }
  const owned = ctx.view.owned;
  const res = store.scan(cursor, count, (part) => owned[part] === 1, match, typeFilter as ValueType | undefined);
  w.bulk(String(res.cursor));
  w.array(res.keys.length);
  for (const k of res.keys) w.bulk(k);
}

export function registerKeyCommands(t: CommandTable): void {
  t.add(cmd('del', -2, CMD_WRITE, [1, -1, 1], del, 'Delete keys'));
  t.add(cmd('unlink', -2, CMD_WRITE | CMD_FAST, [1, -1, 1], del, 'Delete keys (same as DEL here: values are freed by the GC)'));
  t.add(cmd('exists', -2, CMD_READONLY | CMD_FAST, [1, -1, 1], exists, 'Count existing keys'));
  t.add(cmd('touch', -2, CMD_READONLY | CMD_FAST, [1, -1, 1], touch, 'Mark keys as recently used; count existing'));
  t.add(cmd('expire', -3, CMD_WRITE | CMD_FAST, KEY1, expire, 'Set a TTL in seconds (NX/XX/GT/LT)'));
  t.add(cmd('pexpire', -3, CMD_WRITE | CMD_FAST, KEY1, pexpire, 'Set a TTL in milliseconds'));
  t.add(cmd('expireat', -3, CMD_WRITE | CMD_FAST, KEY1, expireat, 'Set an absolute expiry (Unix seconds)'));
  t.add(cmd('pexpireat', -3, CMD_WRITE | CMD_FAST, KEY1, pexpireat, 'Set an absolute expiry (Unix ms)', { support: 'partial', note: 'times past 2^53 ms are kept as doubles (PEXPIRETIME shows them rounded)' }));
  t.add(cmd('persist', 2, CMD_WRITE | CMD_FAST, KEY1, persist, 'Remove a TTL'));
  t.add(cmd('ttl', 2, CMD_READONLY | CMD_FAST, KEY1, ttl, 'Remaining TTL in seconds (-1 none, -2 missing)'));
  t.add(cmd('pttl', 2, CMD_READONLY | CMD_FAST, KEY1, pttl, 'Remaining TTL in milliseconds'));
  t.add(cmd('expiretime', 2, CMD_READONLY | CMD_FAST, KEY1, expiretime, 'Absolute expiry in Unix seconds'));
  t.add(cmd('pexpiretime', 2, CMD_READONLY | CMD_FAST, KEY1, pexpiretime, 'Absolute expiry in Unix ms'));
  t.add(cmd('type', 2, CMD_READONLY | CMD_FAST, KEY1, type, 'The type of a key (string, hash, set, zset or none)'));
  t.add(cmd('scan', -2, CMD_READONLY | CMD_SERVED_KEYS, NO_KEYS, scan, 'Iterate the keys this node serves', { support: 'partial', note: 'cursors are the node\'s own (partition, position in it, its deletion count); a key present throughout is returned, see docs/ARCHITECTURE.md' }));
}
