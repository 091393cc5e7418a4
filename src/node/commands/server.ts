/** Server commands: COMMAND, INFO, CONFIG GET, DBSIZE, FLUSHALL/FLUSHDB. */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_OK } from '../../protocol/resp/index.js';
import type { Connection } from '../connection.js';
import { ERR_FLUSH_DISABLED, ERR_SYNTAX, errNotSupported, errUnknownSubcommand, errWrongArity } from '../replies.js';
import { globMatcher } from '../glob.js';
import { CMD_ADMIN, CMD_DENYOOM, CMD_FAST, CMD_NO_AUTH, CMD_READONLY, CMD_WRITE, NO_KEYS, cmd, type CommandContext, type CommandSpec, type CommandTable } from './types.js';

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

/** One COMMAND INFO entry (Redis 7 shape, 10 fields; the last four empty). */
function commandEntry(w: ReplyWriter, s: CommandSpec): void {
  w.array(10);
  w.bulk(s.name);
  w.integer(s.arity);
  const flags = flagNames(s);
  w.set(flags.length);
  for (const f of flags) w.simple(f);
  w.integer(s.firstKey);
  w.integer(s.lastKey);
  w.integer(s.step);
  w.set(0);
  w.set(0);
  w.array(0);
  w.array(0);
}

function command(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  const all = ctx.commands.all();
  if (req.argc === 1) {
    w.array(all.length);
    for (const s of all) commandEntry(w, s);
    return;
  }
  const sub = req.str(1).toLowerCase();
  if (sub === 'count') return w.integer(all.length);
  if (sub === 'info') {
    const names = req.argc === 2 ? all.map((s) => s.name) : Array.from({ length: req.argc - 2 }, (_, i) => req.str(i + 2));
    w.array(names.length);
    for (const n of names) {
      const s = ctx.commands.get(n);
      if (s === undefined) w.nilArray();
      else commandEntry(w, s);
    }
    return;
  }
  if (sub === 'docs') {
    const specs = req.argc === 2 ? all : Array.from({ length: req.argc - 2 }, (_, i) => ctx.commands.get(req.str(i + 2))).filter((s): s is CommandSpec => s !== undefined);
    w.map(specs.length);
    for (const s of specs) {
      w.bulk(s.name);
      w.map(4);
      w.bulk('summary');
      w.bulk(s.summary);
      w.bulk('since');
      w.bulk('1.0.0');
      w.bulk('group');
      w.bulk(s.flags & CMD_ADMIN ? 'server' : s.firstKey > 0 ? 'string' : 'connection');
      w.bulk('complexity');
      w.bulk('O(1)');
    }
    return;
  }
  if (sub === 'list') {
    w.array(all.length);
    for (const s of all) w.bulk(s.name);
    return;
  }
  w.error(errUnknownSubcommand(req.str(1), 'command'));
}

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
      lines.push('# Clients', `connected_clients:${ctx.connectionCount}`, `maxclients:${o.maxClients}`, 'blocked_clients:0');
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
        `total_net_output_bytes:${s.netOutputBytes}`, `rejected_connections:${s.rejectedConnections}`, `expired_keys:${st?.expiredKeys ?? 0}`, `evicted_keys:${st?.evictions ?? 0}`,
        `keyspace_hits:${st?.hits ?? 0}`, `keyspace_misses:${st?.misses ?? 0}`, `oom_rejections:${st?.oomRejections ?? 0}`, `total_error_replies_moved:${s.moved}`,
        `total_error_replies_crossslot:${s.crossSlot}`, `protocol_errors:${s.protocolErrors}`, `client_output_buffer_limit_disconnections:${s.outputLimitDisconnects}`);
      break;
    }
    case 'replication':
      lines.push('# Replication', ...(ctx.replication?.infoLines() ?? ['role:master', 'connected_slaves:0']));
      break;
    case 'cpu': {
      const u = process.cpuUsage();
      lines.push('# CPU', `used_cpu_sys:${(u.system / 1e6).toFixed(6)}`, `used_cpu_user:${(u.user / 1e6).toFixed(6)}`);
      break;
    }
    case 'cluster':
      lines.push('# Cluster', 'cluster_enabled:1', `ringleader_epoch:${ctx.view.epoch}`);
      break;
    case 'keyspace':
      lines.push('# Keyspace');
      if (st !== undefined && st.keys > 0) lines.push(`db0:keys=${st.keys},expires=${st.volatileKeys},avg_ttl=0`);
      break;
    default:
      return '';
  }
  return lines.join('\r\n') + '\r\n';
}

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'cluster', 'keyspace'];

function info(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  let sections = DEFAULT_SECTIONS;
  if (req.argc > 1) {
    const asked = Array.from({ length: req.argc - 1 }, (_, i) => req.str(i + 1).toLowerCase());
    sections = asked.some((s) => s === 'all' || s === 'everything' || s === 'default') ? DEFAULT_SECTIONS : asked;
  }
  w.text(sections.map((s) => infoSection(ctx, s)).filter((s) => s !== '').join('\r\n'));
}

function human(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)}G`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(2)}M`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(2)}K`;
  return `${bytes}B`;
}

function configValues(ctx: CommandContext): Array<[string, string]> {
  const st = ctx.store?.stats();
  const o = ctx.options;
  return [
    ['save', ''],
    ['appendonly', 'no'],
    ['maxmemory', String(st?.maxMemoryBytes ?? 0)],
    ['maxmemory-policy', st?.evictionPolicy ?? 'allkeys-lru'],
    ['maxclients', String(o.maxClients)],
    ['port', String(o.port)],
    ['bind', o.host],
    ['cluster-enabled', 'yes'],
    ['databases', '1'],
    ['proto-max-bulk-len', String(o.maxBulkBytes)],
    ['client-query-buffer-limit', String(o.maxQueryBufferBytes)],
    ['timeout', '0'],
  ];
}

function config(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  const sub = req.str(1).toLowerCase();
  if (sub === 'get') {
    if (req.argc < 3) return w.error(errWrongArity('config|get'));
    const matchers = Array.from({ length: req.argc - 2 }, (_, i) => globMatcher(req.str(i + 2).toLowerCase()));
    const hits = configValues(ctx).filter(([k]) => matchers.some((m) => m(k)));
    w.map(hits.length);
    for (const [k, v] of hits) {
      w.bulk(k);
      w.bulk(v);
    }
    return;
  }
  if (sub === 'resetstat') return w.raw(REPLY_OK);
  if (sub === 'set') return w.error(errNotSupported('CONFIG SET is not supported: restart the node with new options'));
  w.error(errUnknownSubcommand(req.str(1), 'config'));
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
  t.add(cmd('command', -1, CMD_ADMIN, NO_KEYS, command, 'COMMAND, COMMAND COUNT/INFO/DOCS/LIST'));
  t.add(cmd('info', -1, CMD_ADMIN, NO_KEYS, info, 'Server facts by section'));
  t.add(cmd('config', -2, CMD_ADMIN, NO_KEYS, config, 'CONFIG GET (read-only view), CONFIG RESETSTAT'));
  t.add(cmd('dbsize', 1, CMD_READONLY | CMD_FAST, NO_KEYS, dbsize, 'Keys in the partitions this node serves'));
  t.add(cmd('flushall', -1, CMD_WRITE, NO_KEYS, flushall, 'Delete every key (needs --enable-flush)'));
  t.add(cmd('flushdb', -1, CMD_WRITE, NO_KEYS, flushall, 'Delete every key (needs --enable-flush)'));
}
