/**
 * Keyspace commands: KEYS, RANDOMKEY, RENAME, RENAMENX, COPY, OBJECT. Each write goes through the store's write
 * methods (set, del) in one synchronous step, so the write events a replication stream follows describe it fully:
 * RENAME = read source and its TTL, set destination with the TTL as an absolute time, delete source.
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_OK, REPLY_ONE, REPLY_ZERO } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { entryCost, isCollection, parseInt64, type Collection, type StoreValue } from '../../storage/index.js';
import type { Connection } from '../connection.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX, errUnknownSubcommand, errWrongArity, errorText } from '../replies.js';
import { globMatcher } from '../glob.js';
import { numArg, partitionOfArg } from './strings.js';
import { CMD_FAST, CMD_READONLY, CMD_SERVED_KEYS, CMD_WRITE, NO_KEYS, cmd, type CommandContext, type CommandTable } from './types.js';

const ERR_NO_SUCH_KEY = errorText(NODE_ERRORS.SYNTAX_ERROR, 'no such key');
const ERR_SAME_OBJECT = errorText(NODE_ERRORS.SYNTAX_ERROR, 'source and destination objects are the same');
const ERR_COPY_DB = errorText(NODE_ERRORS.NOT_SUPPORTED, 'Copying to another database is not allowed in cluster mode');
const ERR_NO_LFU = errorText(NODE_ERRORS.NOT_SUPPORTED, 'An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');

/** Every live key of the partitions this node serves that `match` accepts (all when undefined). */
function* servedKeys(ctx: CommandContext, match?: (key: string) => boolean): IterableIterator<string> {
  const store = ctx.store;
  if (store === null) return;
  const owned = ctx.view.owned;
  for (let p = 0; p < owned.length; p++) {
    if (owned[p] !== 1 || store.partitionSize(p) === 0) continue;
    for (const k of store.partitionKeys(p)) if (match === undefined || match(k)) yield k;
  }
}

function keys(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  const pattern = req.str(1);
  const out = [...servedKeys(ctx, pattern === '*' ? undefined : globMatcher(pattern))];
  w.array(out.length);
  for (const k of out) w.bulk(k);
}

/** RANDOMKEY: a partition picked with probability by size, then a key at a random position in it. */
function randomkey(ctx: CommandContext, _c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  const store = ctx.store;
  if (store === null) return w.nil();
  const owned = ctx.view.owned;
  let total = 0;
  for (let p = 0; p < owned.length; p++) if (owned[p] === 1) total += store.partitionSize(p);
  for (let attempt = 0; total > 0 && attempt < 8; attempt++) {
    let r = Math.floor(ctx.random() * total);
    for (let p = 0; p < owned.length; p++) {
      if (owned[p] !== 1) continue;
      const n = store.partitionSize(p);
      if (r >= n) {
        r -= n;
        continue;
      }
      // Sizes count expired keys not yet removed: walking the live keys may end before r; then try again.
      for (const k of store.partitionKeys(p)) if (r-- === 0) return w.bulk(k);
      break;
    }
  }
  const first = servedKeys(ctx).next();
  if (first.done === true) w.nil();
  else w.bulk(first.value);
}

/**
 * Copies src (partition ps) to dst (partition pd) with its TTL, as one `set` write of the whole value with an
 * absolute expiry. The caller has checked that src exists.
 */
function copyValue(ctx: CommandContext, ps: number, src: string, pd: number, dst: string, value: StoreValue | Collection): void {
  const store = ctx.store!;
  const expiresAt = store.expireTime(ps, src);
  if (isCollection(value)) store.putCollection(pd, dst, value.clone(), expiresAt > 0 ? expiresAt : 0);
  else store.set(pd, dst, value, expiresAt > 0 ? { expiresAt } : undefined);
}

function renameGeneric(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter, p: number, nx: boolean): void {
  const store = ctx.store!;
  const src = req.str(1);
  const dst = req.str(2);
  const pd = partitionOfArg(ctx, req, 2, p);
  const value = store.peek(p, src);
  if (value === undefined) return w.error(ERR_NO_SUCH_KEY);
  if (src === dst) return w.raw(nx ? REPLY_ZERO : REPLY_OK);
  if (nx && store.exists(pd, dst)) return w.raw(REPLY_ZERO);
  copyValue(ctx, p, src, pd, dst, value);
  store.del(p, src);
  w.raw(nx ? REPLY_ONE : REPLY_OK);
}

function rename(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  renameGeneric(ctx, req, w, p, false);
}

function renamenx(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  renameGeneric(ctx, req, w, p, true);
}

/** COPY source destination [DB 0] [REPLACE]. Only database 0 exists. */
function copy(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  let replace = false;
  let db = 0;
  for (let i = 3; i < req.argc; i++) {
    const o = req.str(i).toLowerCase();
    if (o === 'replace') replace = true;
    else if (o === 'db' && i + 1 < req.argc) {
      const n = numArg(req, ++i);
      if (n === undefined) return w.error(ERR_NOT_INTEGER);
      db = n;
    } else return w.error(ERR_SYNTAX);
  }
  if (db !== 0) return w.error(ERR_COPY_DB);
  const src = req.str(1);
  const dst = req.str(2);
  if (src === dst) return w.error(ERR_SAME_OBJECT);
  const store = ctx.store!;
  const value = store.peek(p, src);
  if (value === undefined) return w.raw(REPLY_ZERO);
  const pd = partitionOfArg(ctx, req, 2, p);
  if (!replace && store.exists(pd, dst)) return w.raw(REPLY_ZERO);
  copyValue(ctx, p, src, pd, dst, value);
  w.raw(REPLY_ONE);
}

/** Redis's string encodings: `int` for a canonical integer that fits a long, `embstr` up to 44 bytes, else `raw`. */
export function stringEncoding(v: StoreValue): 'int' | 'embstr' | 'raw' {
  if (v.length <= 20 && typeof v === 'string' && parseInt64(v) !== undefined) return 'int';
  return v.length <= 44 ? 'embstr' : 'raw';
}

/** Redis shares the integers 0..9999 when no maxmemory LRU/LFU policy is active: OBJECT REFCOUNT shows INT_MAX. */
function refcount(ctx: CommandContext, v: StoreValue): number {
  if (stringEncoding(v) !== 'int') return 1;
  const n = Number(v);
  const st = ctx.store!.stats();
  const shared = st.maxMemoryBytes === 0 || !st.evictionPolicy.endsWith('lru');
  return shared && n >= 0 && n < 10_000 ? 2147483647 : 1;
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

/**
 * OBJECT ENCODING|FREQ|IDLETIME|REFCOUNT key. The store keeps no per-key encoding or access time: ENCODING is
 * derived from the value (Redis turns a value changed in place by APPEND/SETRANGE/SETBIT into `raw`; we do not),
 * IDLETIME is 0, FREQ needs an LFU policy, which the node does not have (Redis's error).
 */
function object(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const sub = req.str(1).toLowerCase();
  if (sub === 'help') {
    if (req.argc !== 2) return w.error(errWrongArity('object|help'));
    w.array(OBJECT_HELP.length);
    for (const l of OBJECT_HELP) w.simple(l);
    return;
  }
  if (sub !== 'encoding' && sub !== 'freq' && sub !== 'idletime' && sub !== 'refcount') return w.error(errUnknownSubcommand(req.str(1), 'object'));
  if (req.argc !== 3) return w.error(errWrongArity(`object|${sub}`));
  // The key is argument 2 (the spec says so): the server's ownership guard has checked it and computed p.
  const v = ctx.store!.peek(p, req.str(2));
  if (v === undefined) return w.nil();
  switch (sub) {
    case 'encoding':
      return w.bulk(isCollection(v) ? v.encoding() : stringEncoding(v));
    case 'refcount':
      return w.integer(isCollection(v) ? 1 : refcount(ctx, v));
    case 'idletime':
      return w.integer(0);
    default:
      return w.error(ERR_NO_LFU);
  }
}

const MEMORY_HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Prints this help.',
];

/**
 * MEMORY USAGE key [SAMPLES n] (the store's accounted bytes for the key, see src/storage/memory.ts; Redis counts
 * its allocator's bytes, so the numbers differ) and MEMORY HELP. Options are parsed before the key is looked up.
 */
function memory(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  const sub = req.str(1).toLowerCase();
  if (sub === 'help') {
    w.array(MEMORY_HELP.length);
    for (const l of MEMORY_HELP) w.simple(l);
    return;
  }
  if (sub !== 'usage') return w.error(errUnknownSubcommand(req.str(1), 'memory'));
  for (let j = 3; j < req.argc; j++) {
    if (req.str(j).toLowerCase() === 'samples' && j + 1 < req.argc) {
      const n = numArg(req, ++j);
      if (n === undefined) return w.error(ERR_NOT_INTEGER);
      if (n < 0) return w.error(ERR_SYNTAX);
    } else return w.error(ERR_SYNTAX);
  }
  const key = req.str(2);
  const v = ctx.store!.peek(p, key);
  if (v === undefined) return w.nil();
  w.integer(entryCost(key, v));
}

export function registerKeyspaceCommands(t: CommandTable): void {
  t.add(cmd('memory', -2, CMD_READONLY, [2, 2, 1], memory, 'MEMORY USAGE/HELP', {
    subcommands: ['help', 'usage'], support: 'partial', note: 'USAGE and HELP only; USAGE reports the store\'s accounted bytes, not the allocator\'s',
  }));
  t.add(cmd('keys', 2, CMD_READONLY | CMD_SERVED_KEYS, NO_KEYS, keys, 'Keys matching a glob, over the partitions this node serves'));
  t.add(cmd('randomkey', 1, CMD_READONLY | CMD_SERVED_KEYS, NO_KEYS, randomkey, 'A random key of the partitions this node serves'));
  t.add(cmd('rename', 3, CMD_WRITE, [1, 2, 1], rename, 'Rename a key, keeping its TTL (both keys in one slot in cluster mode)'));
  t.add(cmd('renamenx', 3, CMD_WRITE | CMD_FAST, [1, 2, 1], renamenx, 'Rename a key only if the new name does not exist'));
  t.add(cmd('copy', -3, CMD_WRITE, [1, 2, 1], copy, 'Copy a key with its TTL (database 0 only)', { support: 'partial', note: 'DB other than 0 is refused' }));
  t.add(cmd('object', -2, CMD_READONLY, [2, 2, 1], object, 'OBJECT ENCODING/FREQ/IDLETIME/REFCOUNT/HELP', {
    subcommands: ['encoding', 'freq', 'help', 'idletime', 'refcount'], support: 'partial',
    note: 'ENCODING is derived from the value (strings: no raw after in-place changes; collections: Redis 7.0\'s size thresholds); IDLETIME is always 0; FREQ needs LFU, which the node has not',
  }));
}
