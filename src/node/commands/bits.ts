/**
 * Bit commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, with Redis 7.0's argument rules, ranges (BYTE or
 * BIT units, negative indexes from the end) and error texts. SETBIT writes through the store's SETRANGE (one byte,
 * zero-padding, TTL kept), so the write is one ordinary store write.
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { valueToBuffer, type StoreValue } from '../../storage/index.js';
import type { Connection } from '../connection.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX, errorText } from '../replies.js';
import { intArg, numArg } from './strings.js';
import { CMD_DENYOOM, CMD_READONLY, CMD_WRITE, KEY1, cmd, type CommandContext, type CommandTable } from './types.js';

const ERR_BIT_OFFSET = errorText(NODE_ERRORS.NOT_INTEGER, 'bit offset is not an integer or out of range');
const ERR_BIT_VALUE = errorText(NODE_ERRORS.NOT_INTEGER, 'bit is not an integer or out of range');
const ERR_BIT_ARG = errorText(NODE_ERRORS.SYNTAX_ERROR, 'The bit argument must be 1 or 0.');

/** The byte at `i` of a stored value (string values are latin1, one char per byte). */
function byteAt(v: StoreValue, i: number): number {
  return typeof v === 'string' ? v.charCodeAt(i) : v[i]!;
}

/** A bit offset argument: 0 ≤ offset and offset / 8 < the largest value size; undefined otherwise. */
function bitOffsetArg(ctx: CommandContext, req: RequestDecoder, i: number): number | undefined {
  const n = intArg(req, i);
  if (n === undefined || typeof n === 'bigint' || n < 0) return undefined;
  if (Math.floor(n / 8) >= ctx.options.maxBulkBytes) return undefined;
  return n;
}

function setbit(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const offset = bitOffsetArg(ctx, req, 2);
  if (offset === undefined) return w.error(ERR_BIT_OFFSET);
  const on = req.str(3);
  if (on !== '0' && on !== '1') return w.error(ERR_BIT_VALUE);
  const store = ctx.store!;
  const key = req.str(1);
  const byte = offset >> 3;
  const mask = 1 << (7 - (offset & 7));
  const cur = store.get(p, key);
  const old = cur !== undefined && byte < cur.length ? byteAt(cur, byte) : 0;
  const next = on === '1' ? old | mask : old & ~mask;
  store.setRange(p, key, byte, String.fromCharCode(next));
  w.integer((old & mask) !== 0 ? 1 : 0);
}

function getbit(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const offset = bitOffsetArg(ctx, req, 2);
  if (offset === undefined) return w.error(ERR_BIT_OFFSET);
  const v = ctx.store!.get(p, req.str(1));
  const byte = offset >> 3;
  if (v === undefined || byte >= v.length) return w.integer(0);
  w.integer((byteAt(v, byte) >> (7 - (offset & 7))) & 1);
}

/**
 * A [first, last] bit range from start/end arguments in BYTE or BIT units over a value of `len` bytes, as Redis
 * converts them (negative = from the end, clamped to the value); null when empty. (BITCOUNT's extra rule, 0 for two
 * negative indexes in the wrong order, is applied by BITCOUNT itself; BITPOS clamps them like any other.)
 */
function bitRange(len: number, start: number, end: number, isBit: boolean): [number, number] | null {
  const total = isBit ? len * 8 : len;
  if (start < 0) start = total + start;
  if (end < 0) end = total + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (start > end) return null;
  return isBit ? [start, end] : [start * 8, end * 8 + 7];
}

function unitArg(req: RequestDecoder, i: number): boolean | undefined {
  const u = req.str(i).toLowerCase();
  return u === 'bit' ? true : u === 'byte' ? false : undefined;
}

/** Set bits of buf in the bit range [first, last]. */
function popcount(buf: Buffer, first: number, last: number): number {
  let n = 0;
  let i = first;
  for (; i <= last && (i & 7) !== 0; i++) n += (buf[i >> 3]! >> (7 - (i & 7))) & 1;
  for (; i + 7 <= last; i += 8) {
    let b = buf[i >> 3]!;
    b = b - ((b >> 1) & 0x55);
    b = (b & 0x33) + ((b >> 2) & 0x33);
    n += (b + (b >> 4)) & 0x0f;
  }
  for (; i <= last; i++) n += (buf[i >> 3]! >> (7 - (i & 7))) & 1;
  return n;
}

/** BITCOUNT key [start end [BYTE|BIT]]: as Redis 7.0, a missing key answers 0 before the range is parsed. */
function bitcount(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const argc = req.argc;
  const v = ctx.store!.get(p, req.str(1));
  if (v === undefined) return w.integer(0);
  let start = 0;
  let end = -1;
  let isBit = false;
  if (argc === 4 || argc === 5) {
    const s = numArg(req, 2);
    const e = numArg(req, 3);
    if (s === undefined || e === undefined) return w.error(ERR_NOT_INTEGER);
    start = s;
    end = e;
    // Redis 7.0 answers 0 for two negative indexes in the wrong order before it looks at the unit.
    if (start < 0 && end < 0 && start > end) return w.integer(0);
    if (argc === 5) {
      const u = unitArg(req, 4);
      if (u === undefined) return w.error(ERR_SYNTAX);
      isBit = u;
    }
  } else if (argc !== 2) {
    return w.error(ERR_SYNTAX);
  }
  const range = bitRange(v.length, start, end, isBit);
  if (range === null) return w.integer(0);
  w.integer(popcount(valueToBuffer(v), range[0], range[1]));
}

function bitpos(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const argc = req.argc;
  const bitArg = intArg(req, 2);
  if (bitArg === undefined) return w.error(ERR_NOT_INTEGER);
  if (bitArg !== 0 && bitArg !== 1) return w.error(ERR_BIT_ARG);
  const bit = bitArg;
  const v = ctx.store!.get(p, req.str(1));
  if (v === undefined) return w.integer(bit === 1 ? -1 : 0);
  let start = 0;
  let end = -1;
  let isBit = false;
  let endGiven = false;
  if (argc >= 4 && argc <= 6) {
    const s = numArg(req, 3);
    if (s === undefined) return w.error(ERR_NOT_INTEGER);
    start = s;
    if (argc === 6) {
      const u = unitArg(req, 5);
      if (u === undefined) return w.error(ERR_SYNTAX);
      isBit = u;
    }
    if (argc >= 5) {
      const e = numArg(req, 4);
      if (e === undefined) return w.error(ERR_NOT_INTEGER);
      end = e;
      endGiven = true;
    }
  } else if (argc !== 3) {
    return w.error(ERR_SYNTAX);
  }
  const range = bitRange(v.length, start, end, isBit);
  if (range === null) return w.integer(-1);
  const buf = valueToBuffer(v);
  const [first, last] = range;
  for (let i = first; i <= last; i++) {
    if ((i & 7) === 0 && i + 7 <= last && buf[i >> 3] === (bit === 1 ? 0 : 0xff)) {
      i += 7; // a whole byte without the bit we look for
      continue;
    }
    if (((buf[i >> 3]! >> (7 - (i & 7))) & 1) === bit) return w.integer(i);
  }
  // Looking for a 0 past the value without an explicit end: the string is seen as padded with zeros.
  w.integer(bit === 0 && !endGiven ? last + 1 : -1);
}

export function registerBitCommands(t: CommandTable): void {
  t.add(cmd('setbit', 4, CMD_WRITE | CMD_DENYOOM, KEY1, setbit, 'Set or clear one bit; replies the old bit'));
  t.add(cmd('getbit', 3, CMD_READONLY, KEY1, getbit, 'One bit of a value'));
  t.add(cmd('bitcount', -2, CMD_READONLY, KEY1, bitcount, 'Count set bits, in a BYTE or BIT range'));
  t.add(cmd('bitpos', -3, CMD_READONLY, KEY1, bitpos, 'First bit set to 0 or 1, in a BYTE or BIT range'));
}
