/** Server commands: COMMAND (command-docs.ts), INFO, CONFIG GET/SET/RESETSTAT, TIME, DBSIZE, FLUSHALL/FLUSHDB. */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_OK } from '../../protocol/resp/index.js';
import type { Connection } from '../connection.js';
import { ERR_FLUSH_DISABLED, ERR_SYNTAX, errNotSupported, errUnknownSubcommand, errWrongArity, errorText } from '../replies.js';
import { globMatcher } from '../glob.js';
import { EVICTION_POLICIES, parseBytes, type EvictionPolicy } from '../../storage/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { command } from './command-docs.js';
import { CMD_ADMIN, CMD_FAST, CMD_READONLY, CMD_SERVED_KEYS, CMD_WRITE, NO_KEYS, cmd, type CommandContext, type CommandTable } from './types.js';

/** INFO text of one section, or '' when unknown. */
function infoSection(ctx: CommandContext, section: string): string {
  const store = ctx.store;
  const st = store?.stats();
  const o = ctx.options;
  const lines: string[] = [];
  switch (section) {
    case 'server': {
      lines.push('# Server', `redis_version:${o.version.split('-')[0]}`, `ringleader_version:${o.version}`, 'redis_mode:cluster', `os:${process.platform}`, `arch_bits:64`,
        `process_id:${process.pid}`, `tcp_port:${o.port}`, `uptime_in_seconds:${Math.floor((ctx.now() - ctx.startedAt) / 1000)}`, `uptime_in_days:${Math.floor((ctx.now() - ctx.startedAt) / 86_400_000)}`,
        `executable:${process.execPath}`, `node_version:${process.version}`);
      break;
    }
    case 'clients':
      lines.push('# Clients', `connected_clients:${ctx.connectionCount}`, 'cluster_connections:0', `maxclients:${o.maxClients}`, 'blocked_clients:0', 'tracking_clients:0');
      break;
    case 'memory': {
      const mu = process.memoryUsage();
      lines.push('# Memory', `used_memory:${st?.usedBytes ?? 0}`, `used_memory_human:${human(st?.usedBytes ?? 0)}`, `used_memory_rss:${mu.rss}`, `used_memory_rss_human:${human(mu.rss)}`,
        `used_memory_heap:${mu.heapUsed}`, `maxmemory:${st?.maxMemoryBytes ?? 0}`, `maxmemory_human:${human(st?.maxMemoryBytes ?? 0)}`, `maxmemory_policy:${st?.evictionPolicy ?? 'allkeys-lru'}`);
      break;
    }
    case 'persistence':
      lines.push('# Persistence', 'loading:0', 'async_loading:0', 'rdb_bgsave_in_progress:0', 'aof_enabled:0');
      break;
    case 'stats': {
      const s = ctx.stats;
      lines.push('# Stats', `total_connections_received:${s.connectionsReceived}`, `total_commands_processed:${s.commandsProcessed}`, `total_net_input_bytes:${s.netInputBytes}`,
        `total_net_output_bytes:${s.netOutputBytes}`, `total_reads_processed:${s.readsProcessed}`, `total_writes_processed:${s.writesProcessed}`, `rejected_connections:${s.rejectedConnections}`, `expired_keys:${st?.expiredKeys ?? 0}`, `evicted_keys:${st?.evictions ?? 0}`,
        `keyspace_hits:${st?.hits ?? 0}`, `keyspace_misses:${st?.misses ?? 0}`, `oom_rejections:${st?.oomRejections ?? 0}`, `total_error_replies_moved:${s.moved}`,
        `total_error_replies_crossslot:${s.crossSlot}`, `protocol_errors:${s.protocolErrors}`, `client_output_buffer_limit_disconnections:${s.outputLimitDisconnects}`,
        'unexpected_error_replies:0', `total_error_replies:${s.errorReplies}`, `ringleader_backup_reads:${s.backupReads}`);
      break;
    }
    case 'errorstats':
      lines.push('# Errorstats');
      for (const [prefix, count] of ctx.errorStats) lines.push(`errorstat_${prefix}:count=${count}`);
      break;
    case 'commandstats':
      lines.push('# Commandstats');
      for (const [name, c] of ctx.commandCounters) {
        const usec = Math.round(c.usec);
        lines.push(`cmdstat_${name}:calls=${c.calls},usec=${usec},usec_per_call=${(c.calls === 0 ? 0 : usec / c.calls).toFixed(2)},rejected_calls=${c.rejected},failed_calls=${c.failed}`);
      }
      break;
    case 'replication':
      // Cluster mode: the replication stream's lines (offsets per partition stream); standalone: a primary with no replicas.
      lines.push('# Replication', ...(ctx.replication?.infoLines() ?? ['role:master', 'connected_slaves:0', 'master_failover_state:no-failover', 'master_repl_offset:0',
        'second_repl_offset:-1', 'repl_backlog_active:0', 'repl_backlog_size:0', 'repl_backlog_first_byte_offset:0', 'repl_backlog_histlen:0']));
      break;
    case 'cpu': {
      const u = process.cpuUsage();
      lines.push('# CPU', `used_cpu_sys:${(u.system / 1e6).toFixed(6)}`, `used_cpu_user:${(u.user / 1e6).toFixed(6)}`);
      break;
    }
    case 'cluster': {
      // The lease (C5): `off` when there is none to lapse (standalone, --lease-mode off).
      const left = ctx.view.lease.remainingMs();
      lines.push('# Cluster', 'cluster_enabled:1', `ringleader_epoch:${ctx.view.epoch}`, `ringleader_lease:${!Number.isFinite(left) ? 'off' : left > 0 ? 'valid' : 'lapsed'}`,
        `ringleader_lease_remaining_ms:${Number.isFinite(left) ? Math.floor(left) : -1}`, `ringleader_lease_refused:${ctx.stats.leaseRefused}`, `ringleader_lease_late_closes:${ctx.stats.leaseLateCloses}`);
      break;
    }
    case 'keyspace':
      lines.push('# Keyspace');
      if (st !== undefined && st.keys > 0) lines.push(`db0:keys=${st.keys},expires=${st.volatileKeys},avg_ttl=0`);
      break;
    default:
      return '';
  }
  return lines.join('\r\n') + '\r\n';
}

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'errorstats', 'cluster', 'keyspace'];
const ALL_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'commandstats', 'errorstats', 'cluster', 'keyspace'];

/** INFO [section ...]: `default`, `all`, `everything` as Redis 7.0 (commandstats only in all/everything or by name). */
function info(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  let sections = DEFAULT_SECTIONS;
  if (req.argc > 1) {
    const asked = new Set<string>();
    for (let i = 1; i < req.argc; i++) {
      const a = req.str(i).toLowerCase();
      if (a === 'all' || a === 'everything') ALL_SECTIONS.forEach((x) => asked.add(x));
      else if (a === 'default') DEFAULT_SECTIONS.forEach((x) => asked.add(x));
      else asked.add(a);
    }
    sections = ALL_SECTIONS.filter((x) => asked.has(x));
  }
  w.verbatim(sections.map((s) => infoSection(ctx, s)).filter((s) => s !== '').join('\r\n'));
}

function human(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)}G`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(2)}M`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(2)}K`;
  return `${bytes}B`;
}

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

/** A CONFIG parameter: its value now and, when it can change at run time, how to set it (returns an error text or undefined). */
interface ConfigParam {
  readonly name: string;
  readonly alias?: string;
  get(ctx: CommandContext): string;
  set?(ctx: CommandContext, value: string): string | undefined;
}

function memoryValue(v: string): number | undefined {
  try {
    return parseBytes(v);
  } catch {
    return undefined;
  }
}

function intBetween(name: string, min: number, max: number, apply: (ctx: CommandContext, n: number) => void): (ctx: CommandContext, v: string) => string | undefined {
  return (ctx, v) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) return `argument must be between ${min} and ${max} inclusive`;
    apply(ctx, n);
    return undefined;
  };
}

function mutableOptions(ctx: CommandContext): { -readonly [K in keyof CommandContext['options']]: CommandContext['options'][K] } {
  return ctx.options;
}

/** Applies maxmemory / maxmemory-policy to the live store and to any store created later. */
function applyMemory(ctx: CommandContext): void {
  ctx.store?.setMemoryLimit(ctx.memory.maxMemoryBytes, ctx.memory.evictionPolicy);
}

const CONFIG_PARAMS: readonly ConfigParam[] = [
  { name: 'save', get: () => '', set: (_ctx, v) => (v.trim() === '' ? undefined : 'the node does not persist: only "" is accepted') },
  { name: 'appendonly', get: () => 'no', set: (_ctx, v) => (v.toLowerCase() === 'no' ? undefined : 'the node does not persist: only no is accepted') },
  {
    name: 'maxmemory',
    get: (ctx) => String(ctx.memory.maxMemoryBytes),
    set: (ctx, v) => {
      const n = memoryValue(v);
      if (n === undefined) return 'argument must be a memory value';
      ctx.memory.maxMemoryBytes = n;
      return undefined;
    },
  },
  {
    name: 'maxmemory-policy',
    get: (ctx) => ctx.memory.evictionPolicy,
    set: (ctx, v) => {
      const p = v.toLowerCase() as EvictionPolicy;
      if (!EVICTION_POLICIES.includes(p)) return `argument(s) must be one of the following: ${EVICTION_POLICIES.join(', ')}`;
      ctx.memory.evictionPolicy = p;
      return undefined;
    },
  },
  { name: 'maxmemory-samples', get: (ctx) => String(ctx.store?.options.evictionSamples ?? 5) },
  { name: 'maxclients', get: (ctx) => String(ctx.options.maxClients), set: intBetween('maxclients', 1, 4294967295, (ctx, n) => { mutableOptions(ctx).maxClients = n; }) },
  { name: 'port', get: (ctx) => String(ctx.options.port) },
  { name: 'bind', get: (ctx) => ctx.options.host },
  { name: 'cluster-enabled', get: () => 'yes' },
  { name: 'databases', get: () => '1' },
  { name: 'replicaof', alias: 'slaveof', get: () => '' },
  { name: 'requirepass', get: (ctx) => ctx.options.requirePass, set: (ctx, v) => { mutableOptions(ctx).requirePass = v; return undefined; } },
  { name: 'enable-debug-command', get: (ctx) => yesNo(ctx.options.enableDebug) },
  {
    name: 'proto-max-bulk-len',
    get: (ctx) => String(ctx.options.maxBulkBytes),
    set: (ctx, v) => {
      const n = memoryValue(v);
      if (n === undefined) return 'argument must be a memory value';
      if (n < 1024 * 1024) return `argument must be between 1048576 and 9223372036854775807 inclusive`;
      mutableOptions(ctx).maxBulkBytes = n;
      // Authenticated connections take it at once; unauthenticated ones keep their small limit until AUTH.
      for (const c of ctx.clients()) if (c.authenticated) c.decoder.setLimits({ maxBulkBytes: n });
      return undefined;
    },
  },
  {
    name: 'client-query-buffer-limit',
    get: (ctx) => String(ctx.options.maxQueryBufferBytes),
    set: (ctx, v) => {
      const n = memoryValue(v);
      if (n === undefined) return 'argument must be a memory value';
      if (n < 1024 * 1024) return 'argument must be between 1048576 and 9223372036854775807 inclusive';
      mutableOptions(ctx).maxQueryBufferBytes = n;
      for (const c of ctx.clients()) c.decoder.setLimits({ maxQueryBufferBytes: n });
      return undefined;
    },
  },
  { name: 'client-output-buffer-limit', get: (ctx) => `normal ${ctx.options.maxOutputBufferBytes} ${ctx.options.maxOutputBufferBytes} 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60` },
  { name: 'timeout', get: () => '0' },
];

/** Parameter names and aliases, lower case -> the parameter. */
const CONFIG_BY_NAME: ReadonlyMap<string, ConfigParam> = new Map(CONFIG_PARAMS.flatMap((p) => (p.alias === undefined ? [[p.name, p]] : [[p.name, p], [p.alias, p]]) as Array<[string, ConfigParam]>));

/**
 * CONFIG GET pattern...: as Redis 7.0, every parameter or alias whose name a glob matches (case-insensitively), or
 * the one named exactly (the reply then uses the name as asked); each parameter once.
 */
function configGet(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter): void {
  const hits = new Map<string, [string, ConfigParam]>();
  for (let i = 2; i < req.argc; i++) {
    const asked = req.str(i);
    if (!/[[*?]/.test(asked)) {
      const p = CONFIG_BY_NAME.get(asked.toLowerCase());
      if (p !== undefined && !hits.has(asked.toLowerCase())) hits.set(asked.toLowerCase(), [asked, p]);
      continue;
    }
    const m = globMatcher(asked.toLowerCase());
    for (const [name, p] of CONFIG_BY_NAME) if (!hits.has(name) && m(name)) hits.set(name, [name, p]);
  }
  w.map(hits.size);
  for (const [shown, p] of hits.values()) {
    w.bulk(shown);
    w.bulk(p.get(ctx));
  }
}

/** CONFIG SET name value [name value ...]: all or nothing, with Redis 7.0's error texts. */
function configSet(ctx: CommandContext, req: RequestDecoder, w: ReplyWriter): void {
  if (req.argc < 4 || req.argc % 2 !== 0) return w.error(errWrongArity('config|set'));
  const pairs: Array<[ConfigParam, string, string]> = [];
  const seen = new Set<ConfigParam>();
  for (let i = 2; i < req.argc; i += 2) {
    const asked = req.str(i);
    const p = CONFIG_BY_NAME.get(asked.toLowerCase());
    if (p === undefined) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `Unknown option or number of arguments for CONFIG SET - '${asked}'`));
    if (p.set === undefined) return w.error(errorText(NODE_ERRORS.NOT_SUPPORTED, `CONFIG SET failed (possibly related to argument '${asked}') - can't set immutable config`));
    if (seen.has(p)) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `CONFIG SET failed (possibly related to argument '${asked}') - duplicate parameter`));
    seen.add(p);
    pairs.push([p, asked, req.str(i + 1)]);
  }
  // Validate everything on copies first, then apply: a failed CONFIG SET changes nothing.
  const saved = { memory: { ...ctx.memory }, options: { ...ctx.options } };
  for (const [p, asked, value] of pairs) {
    const err = p.set!(ctx, value);
    if (err !== undefined) {
      Object.assign(ctx.memory, saved.memory);
      Object.assign(mutableOptions(ctx), saved.options);
      return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `CONFIG SET failed (possibly related to argument '${asked}') - ${err}`));
    }
  }
  if (ctx.memory.maxMemoryBytes !== saved.memory.maxMemoryBytes || ctx.memory.evictionPolicy !== saved.memory.evictionPolicy) applyMemory(ctx);
  w.raw(REPLY_OK);
}

function config(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  const sub = req.str(1).toLowerCase();
  switch (sub) {
    case 'get':
      if (req.argc < 3) return w.error(errWrongArity('config|get'));
      return configGet(ctx, req, w);
    case 'set':
      return configSet(ctx, req, w);
    case 'resetstat':
      if (req.argc !== 2) return w.error(errWrongArity('config|resetstat'));
      ctx.resetStats();
      return w.raw(REPLY_OK);
    case 'rewrite':
      if (req.argc !== 2) return w.error(errWrongArity('config|rewrite'));
      return w.error(errNotSupported('The server is running without a config file'));
    default:
      return w.error(errUnknownSubcommand(req.str(1), 'config'));
  }
}

/** TIME: [unix seconds, microseconds] as bulk strings, from the node's clock. */
function time(ctx: CommandContext, _c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  const ms = ctx.now();
  const sec = Math.floor(ms / 1000);
  w.array(2);
  w.bulk(String(sec));
  w.bulk(String(Math.floor((ms - sec * 1000) * 1000)));
}

function dbsize(ctx: CommandContext, _c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  const store = ctx.store;
  if (store === null) return w.integer(0);
  const owned = ctx.view.owned;
  let n = 0;
  for (let p = 0; p < owned.length; p++) if (owned[p] === 1) n += store.partitionSize(p);
  w.integer(n);
}

function flushall(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  if (req.argc > 2) return w.error(ERR_SYNTAX);
  if (req.argc === 2) {
    const mode = req.str(1).toLowerCase();
    if (mode !== 'sync' && mode !== 'async') return w.error(ERR_SYNTAX);
  }
  if (!ctx.options.enableFlush) return w.error(ERR_FLUSH_DISABLED);
  const store = ctx.store;
  if (store !== null && ctx.replication === null) store.flushAll();
  else if (store !== null) {
    // Cluster mode: this node's FLUSHALL empties the partitions it serves (as a Redis Cluster master flushes its
    // slots); each drop is streamed to their copies. Copies it holds for other primaries are theirs to flush.
    const owned = ctx.view.owned;
    for (let p = 0; p < owned.length; p++) if (owned[p] === 1) store.dropPartition(p);
  }
  w.raw(REPLY_OK);
}

export function registerServerCommands(t: CommandTable): void {
  t.add(cmd('command', -1, CMD_ADMIN, NO_KEYS, command, 'COMMAND, COMMAND COUNT/INFO/DOCS/LIST/GETKEYS/GETKEYSANDFLAGS',
    { subcommands: ['count', 'docs', 'getkeys', 'getkeysandflags', 'help', 'info', 'list'], support: 'partial', note: 'DOCS adds ringleader_support and ringleader_note to each command' }));
  t.add(cmd('info', -1, CMD_ADMIN, NO_KEYS, info, 'Server facts by section', {
    support: 'partial', note: 'sections server clients memory persistence stats replication cpu commandstats errorstats cluster keyspace, with the fields that apply to a node',
  }));
  t.add(cmd('config', -2, CMD_ADMIN, NO_KEYS, config, 'CONFIG GET/SET/RESETSTAT', {
    subcommands: ['get', 'set', 'resetstat', 'rewrite'], support: 'partial',
    note: `parameters: ${CONFIG_PARAMS.map((p) => p.name).join(', ')}; settable: ${CONFIG_PARAMS.filter((p) => p.set !== undefined).map((p) => p.name).join(', ')}; REWRITE is refused`,
  }));
  t.add(cmd('time', 1, CMD_FAST, NO_KEYS, time, 'The node\'s clock: seconds and microseconds'));
  t.add(cmd('dbsize', 1, CMD_READONLY | CMD_FAST | CMD_SERVED_KEYS, NO_KEYS, dbsize, 'Keys in the partitions this node serves'));
  t.add(cmd('flushall', -1, CMD_WRITE | CMD_SERVED_KEYS, NO_KEYS, flushall, 'Delete every key (needs --enable-flush)', { support: 'partial', note: 'refused unless the node runs with --enable-flush' }));
  t.add(cmd('flushdb', -1, CMD_WRITE | CMD_SERVED_KEYS, NO_KEYS, flushall, 'Delete every key (needs --enable-flush)', { support: 'partial', note: 'refused unless the node runs with --enable-flush' }));
}
