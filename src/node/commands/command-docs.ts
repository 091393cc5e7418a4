/**
 * COMMAND and its subcommands (COUNT, LIST [FILTERBY], INFO, DOCS, GETKEYS, GETKEYSANDFLAGS, HELP). For a command
 * Redis has, INFO and DOCS answer what Redis 7.0 answers (a snapshot in redis-meta.ts, generated from
 * redis-server), with container subcommands filtered to the ones this node implements. DOCS adds two fields Redis
 * does not have: `ringleader_support` (full | partial | ringleader) and, when partial, `ringleader_note`, the same
 * facts docs/PROTOCOL.md lists (a test keeps them in agreement).
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import type { Connection } from '../connection.js';
import { globMatcher } from '../glob.js';
import { ERR_SYNTAX, errUnknownSubcommand, errWrongArity, errorText } from '../replies.js';
import { REDIS_COMMAND_META, type MetaNode } from './redis-meta.js';

export type { MetaNode };
import { CMD_ADMIN, CMD_DENYOOM, CMD_FAST, CMD_NO_AUTH, CMD_READONLY, CMD_WRITE, type CommandContext, type CommandSpec } from './types.js';

const ERR_INVALID_COMMAND = errorText(NODE_ERRORS.SYNTAX_ERROR, 'Invalid command specified');
const ERR_NO_KEYS = errorText(NODE_ERRORS.SYNTAX_ERROR, 'The command has no key arguments');
const ERR_GETKEYS_INVALID = errorText(NODE_ERRORS.SYNTAX_ERROR, 'Invalid arguments specified for command');
const ERR_GETKEYS_ARITY = errorText(NODE_ERRORS.SYNTAX_ERROR, 'Invalid number of arguments specified for command');

type MetaMap = { '%': MetaNode[] };

function isMap(n: MetaNode): n is MetaMap {
  return typeof n === 'object' && n !== null && '%' in n;
}

/** Writes a snapshot node as the reply it was (RESP3 types fall back to RESP2 as the writer does). */
export function writeMeta(w: ReplyWriter, n: MetaNode): void {
  if (typeof n === 'string') return w.bulk(n);
  if (typeof n === 'number') return w.integer(n);
  if (n === null) return w.nil();
  if (Array.isArray(n)) {
    w.array(n.length);
    for (const x of n) writeMeta(w, x);
    return;
  }
  if ('+' in n) return w.simple(n['+']);
  if ('~' in n) {
    w.set(n['~'].length);
    for (const x of n['~']) writeMeta(w, x);
    return;
  }
  w.map(n['%'].length / 2);
  for (const x of n['%']) writeMeta(w, x);
}

/** The items of an array or set node; [] for anything else. */
function itemsOf(n: MetaNode | undefined): MetaNode[] {
  if (Array.isArray(n)) return n;
  if (typeof n === 'object' && n !== null && '~' in n) return n['~'];
  return [];
}

function mapGet(m: MetaNode, key: string): MetaNode | undefined {
  if (!isMap(m)) return undefined;
  const items = m['%'];
  for (let i = 0; i < items.length; i += 2) if (items[i] === key) return items[i + 1];
  return undefined;
}

/** Subcommand names a spec implements, as Redis writes them (`client|list`). */
function implementedSubs(s: CommandSpec): Set<string> | null {
  return s.subcommands === undefined ? null : new Set(s.subcommands.map((x) => `${s.name}|${x}`));
}

function flagNames(s: CommandSpec): string[] {
  const out: string[] = [];
  if (s.flags & CMD_WRITE) out.push('write');
  if (s.flags & CMD_READONLY) out.push('readonly');
  if (s.flags & CMD_DENYOOM) out.push('denyoom');
  if (s.flags & CMD_ADMIN) out.push('admin');
  if (s.flags & CMD_NO_AUTH) out.push('no_auth');
  if (s.flags & CMD_FAST) out.push('fast');
  return out;
}

/** COMMAND INFO of one spec: Redis's entry (subcommands filtered), or one built from the spec for RL.* commands. */
export function commandInfo(s: CommandSpec): MetaNode {
  const meta = REDIS_COMMAND_META[s.name];
  if (meta !== undefined && Array.isArray(meta.info)) {
    const subs = implementedSubs(s);
    if (subs === null) return meta.info;
    const info = [...meta.info];
    const list = info[9];
    if (Array.isArray(list)) info[9] = list.filter((e) => Array.isArray(e) && subs.has(e[0] as string));
    else if (typeof list === 'object' && list !== null && '~' in list) info[9] = { '~': list['~'].filter((e) => Array.isArray(e) && subs.has(e[0] as string)) };
    return info;
  }
  const flags: MetaNode = { '~': flagNames(s).map((f) => ({ '+': f })) };
  return [s.name, s.arity, flags, s.firstKey, s.lastKey, s.step, { '~': [] }, { '~': [] }, [], []];
}

/** COMMAND DOCS of one spec: Redis's map (subcommands filtered) plus ringleader_support / ringleader_note. */
export function commandDocs(s: CommandSpec): MetaNode {
  const support = s.support ?? (s.name.startsWith('rl.') ? 'ringleader' : 'full');
  const extra: MetaNode[] = ['ringleader_support', support];
  if (s.note !== undefined) extra.push('ringleader_note', s.note);
  const meta = REDIS_COMMAND_META[s.name];
  if (meta === undefined || !isMap(meta.docs)) {
    return { '%': ['summary', s.summary, 'since', '0.1.0', 'group', 'module', 'complexity', 'O(1)', ...extra] };
  }
  const items = [...meta.docs['%']];
  const subs = implementedSubs(s);
  if (subs !== null) {
    for (let i = 0; i < items.length; i += 2) {
      const v = items[i + 1]!;
      if (items[i] === 'subcommands' && isMap(v)) {
        const kept: MetaNode[] = [];
        for (let j = 0; j < v['%'].length; j += 2) if (subs.has(v['%'][j] as string)) kept.push(v['%'][j]!, v['%'][j + 1]!);
        items[i + 1] = { '%': kept };
      }
    }
  }
  return { '%': [...items, ...extra] };
}

/** Redis's ACL categories of a command (from its COMMAND INFO), without the '@'. */
function aclCategories(info: MetaNode): string[] {
  const cats = Array.isArray(info) ? info[6] : undefined;
  if (cats === undefined || cats === null || typeof cats !== 'object' || !('~' in cats)) return [];
  return cats['~'].map((c) => (typeof c === 'object' && c !== null && '+' in c ? c['+'].replace(/^@/, '') : ''));
}

/** Every implemented command and subcommand name with its COMMAND INFO (for LIST FILTERBY). */
function allNames(ctx: CommandContext): Array<[string, MetaNode]> {
  const out: Array<[string, MetaNode]> = [];
  for (const s of ctx.commands.all()) {
    const info = commandInfo(s);
    out.push([s.name, info]);
    for (const e of itemsOf(Array.isArray(info) ? info[9] : undefined)) if (Array.isArray(e)) out.push([e[0] as string, e]);
  }
  return out;
}

/**
 * The keys of a full command line (COMMAND GETKEYS), with the flags of the key spec each came from
 * (GETKEYSANDFLAGS). Uses Redis's key specs when the command has them (begin_search index + find_keys range, the
 * only kinds our commands use), else the spec's first/last/step. Returns an error reply text when the line is not a
 * valid command with keys.
 */
function keysOf(ctx: CommandContext, args: string[]): Array<[string, string[]]> | string {
  const spec = ctx.commands.get(args[0]!);
  if (spec === undefined) return ERR_INVALID_COMMAND;
  let info = commandInfo(spec);
  const subs = Array.isArray(info) ? itemsOf(info[9]) : [];
  if (subs.length > 0 && args.length > 1) {
    const sub = `${spec.name}|${args[1]!.toLowerCase()}`;
    const e = subs.find((x) => Array.isArray(x) && x[0] === sub);
    if (e === undefined) return ERR_INVALID_COMMAND;
    info = e;
  }
  if (!Array.isArray(info)) return ERR_INVALID_COMMAND;
  const arity = info[1] as number;
  const keySpecs = itemsOf(info[8]).filter(isMap);
  if (keySpecs.length === 0 && (info[3] as number) === 0) return ERR_NO_KEYS;
  if ((arity > 0 && arity !== args.length) || args.length < -arity) return ERR_GETKEYS_ARITY;
  const out: Array<[string, string[]]> = [];
  if (keySpecs.length === 0) {
    const first = info[3] as number;
    const lastRaw = info[4] as number;
    const step = info[5] as number;
    const last = lastRaw < 0 ? args.length + lastRaw : lastRaw;
    for (let i = first; i <= last && i < args.length; i += step) out.push([args[i]!, []]);
    return out;
  }
  for (const ks of keySpecs) {
    const flags = mapGet(ks, 'flags');
    const flagList = itemsOf(flags).map((f) => (typeof f === 'object' && f !== null && '+' in f ? f['+'] : ''));
    const begin = mapGet(mapGet(ks, 'begin_search') ?? null, 'spec');
    const find = mapGet(mapGet(ks, 'find_keys') ?? null, 'spec');
    const index = begin === undefined ? undefined : mapGet(begin, 'index');
    if (typeof index !== 'number' || find === undefined) continue;
    if (mapGet(mapGet(ks, 'find_keys') ?? null, 'type') === 'keynum') {
      // numkeys forms (ZUNIONSTORE dst numkeys k..., SINTERCARD numkeys k...): the count, then that many keys.
      const keynumIdx = index + ((mapGet(find, 'keynumidx') as number | undefined) ?? 0);
      const first = index + ((mapGet(find, 'firstkey') as number | undefined) ?? 1);
      const keyStep = (mapGet(find, 'keystep') as number | undefined) ?? 1;
      const n = Number(args[keynumIdx]);
      if (!/^\d+$/.test(args[keynumIdx] ?? '') || n < 1 || first + (n - 1) * keyStep >= args.length) return ERR_GETKEYS_INVALID;
      for (let k = 0; k < n; k++) out.push([args[first + k * keyStep]!, flagList]);
      continue;
    }
    const lastKey = (mapGet(find, 'lastkey') as number | undefined) ?? 0;
    const keyStep = (mapGet(find, 'keystep') as number | undefined) ?? 1;
    const last = lastKey < 0 ? args.length + lastKey : index + lastKey;
    for (let i = index; i <= last && i < args.length; i += keyStep) out.push([args[i]!, flagList]);
  }
  if (out.length === 0) return ERR_NO_KEYS;
  return out;
}

const COMMAND_HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
  'HELP',
  '    Prints this help.',
];

export function command(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  const all = ctx.commands.all();
  if (req.argc === 1) {
    w.array(all.length);
    for (const s of all) writeMeta(w, commandInfo(s));
    return;
  }
  const sub = req.str(1).toLowerCase();
  const rest = Array.from({ length: req.argc - 2 }, (_, i) => req.str(i + 2));
  switch (sub) {
    case 'count':
      if (req.argc !== 2) return w.error(errWrongArity('command|count'));
      return w.integer(all.length);
    case 'help':
      if (req.argc !== 2) return w.error(errWrongArity('command|help'));
      w.array(COMMAND_HELP.length);
      for (const l of COMMAND_HELP) w.simple(l);
      return;
    case 'info': {
      const specs = rest.length === 0 ? [...all] : rest.map((n) => ctx.commands.get(n));
      w.array(specs.length);
      for (const s of specs) {
        if (s === undefined) w.nil();
        else writeMeta(w, commandInfo(s));
      }
      return;
    }
    case 'docs': {
      const specs = (rest.length === 0 ? [...all] : rest.map((n) => ctx.commands.get(n))).filter((s): s is CommandSpec => s !== undefined);
      w.map(specs.length);
      for (const s of specs) {
        w.bulk(s.name);
        writeMeta(w, commandDocs(s));
      }
      return;
    }
    case 'list': {
      let names = allNames(ctx);
      if (rest.length > 0) {
        if (rest.length !== 3 || rest[0]!.toLowerCase() !== 'filterby') return w.error(ERR_SYNTAX);
        const kind = rest[1]!.toLowerCase();
        const arg = rest[2]!;
        if (kind === 'module') names = [];
        else if (kind === 'aclcat') names = names.filter(([, info]) => aclCategories(info).includes(arg.toLowerCase()));
        else if (kind === 'pattern') {
          const m = globMatcher(arg.toLowerCase());
          names = names.filter(([n]) => m(n));
        } else return w.error(ERR_SYNTAX);
      } else {
        names = names.filter(([n]) => !n.includes('|'));
      }
      w.array(names.length);
      for (const [n] of names) w.bulk(n);
      return;
    }
    case 'getkeys':
    case 'getkeysandflags': {
      if (req.argc < 4) return w.error(errWrongArity(`command|${sub}`));
      const keys = keysOf(ctx, rest);
      if (typeof keys === 'string') return w.error(keys);
      w.array(keys.length);
      for (const [k, flags] of keys) {
        if (sub === 'getkeys') {
          w.bulk(k);
          continue;
        }
        w.array(2);
        w.bulk(k);
        w.set(flags.length);
        for (const f of flags) w.simple(f);
      }
      return;
    }
    default:
      return w.error(errUnknownSubcommand(req.str(1), 'command'));
  }
}
