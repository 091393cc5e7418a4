/** CLUSTER SLOTS/SHARDS/NODES/INFO/MYID/KEYSLOT/COUNTKEYSINSLOT/GETKEYSINSLOT, built from the current table. */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { SLOT_COUNT } from '../../hashing/index.js';
import type { Member } from '../../partitioning/index.js';
import type { Connection } from '../connection.js';
import { splitAddress, type SlotRange } from '../cluster-view.js';
import { ERR_CLUSTERDOWN, ERR_NOT_INTEGER, errNotSupported, errUnknownSubcommand, errorText } from '../replies.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { slotOfArg, slotOfRange } from '../slots.js';
import { numArg } from './strings.js';
import { CMD_ADMIN, NO_KEYS, cmd, type CommandContext, type CommandTable } from './types.js';

function nodeTriple(w: ReplyWriter, m: Member): void {
  const { host, port } = splitAddress(m.address);
  w.array(3);
  w.bulk(host);
  w.integer(port);
  w.bulk(m.id);
}

function slots(ctx: CommandContext, w: ReplyWriter): void {
  const ranges = ctx.view.ranges();
  w.array(ranges.length);
  for (const r of ranges) {
    w.array(2 + r.members.length);
    w.integer(r.first);
    w.integer(r.last);
    for (const m of r.members) nodeTriple(w, m);
  }
}

/** One shard per distinct replica set: its slot ranges and its nodes (primary first). */
function shards(ctx: CommandContext, w: ReplyWriter): void {
  const groups = new Map<string, SlotRange[]>();
  for (const r of ctx.view.ranges()) {
    const key = r.members.map((m) => m.id).join(',');
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  w.array(groups.size);
  for (const ranges of groups.values()) {
    w.map(2);
    w.bulk('slots');
    w.array(ranges.length * 2);
    for (const r of ranges) {
      w.integer(r.first);
      w.integer(r.last);
    }
    w.bulk('nodes');
    const members = ranges[0]!.members;
    w.array(members.length);
    members.forEach((m, i) => {
      const { host, port } = splitAddress(m.address);
      w.map(7);
      w.bulk('id');
      w.bulk(m.id);
      w.bulk('port');
      w.integer(port);
      w.bulk('ip');
      w.bulk(host);
      w.bulk('endpoint');
      w.bulk(host);
      w.bulk('role');
      w.bulk(i === 0 ? 'master' : 'replica');
      w.bulk('replication-offset');
      w.integer(0);
      w.bulk('health');
      w.bulk(m.state === 'dead' ? 'fail' : 'online');
    });
  }
}

function infoText(ctx: CommandContext): string {
  const v = ctx.view;
  const t = v.table;
  const assigned = v.assignedSlots();
  const primaries = new Set(v.ranges().map((r) => r.members[0]!.id));
  const state = t !== null && assigned === SLOT_COUNT ? 'ok' : 'fail';
  return [
    `cluster_state:${state}`, `cluster_slots_assigned:${assigned}`, `cluster_slots_ok:${assigned}`, 'cluster_slots_pfail:0', 'cluster_slots_fail:0',
    `cluster_known_nodes:${t?.members.length ?? 0}`, `cluster_size:${primaries.size}`, `cluster_current_epoch:${v.epoch}`, `cluster_my_epoch:${v.epoch}`,
    `cluster_partitions:${v.partitionCount}`, 'cluster_stats_messages_sent:0', 'cluster_stats_messages_received:0', 'total_cluster_links_buffer_limit_exceeded:0',
  ].join('\r\n') + '\r\n';
}

/** Keys of a slot held here: scans the slot's partition (O(partition size); an admin command). */
function keysInSlot(ctx: CommandContext, slot: number, limit: number): string[] {
  const store = ctx.store;
  if (store === null || !ctx.view.ready) return [];
  const p = ctx.view.partitionOfSlot(slot);
  const out: string[] = [];
  // The live keys only: exporting would encode every collection's content.
  for (const key of store.partitionKeys(p)) {
    const b = Buffer.from(key, 'latin1');
    if (slotOfRange(b, 0, b.length) === slot) {
      out.push(key);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

function cluster(ctx: CommandContext, _c: Connection, req: RequestDecoder, w: ReplyWriter): void {
  const sub = req.str(1).toLowerCase();
  const needsTable = sub === 'slots' || sub === 'shards' || sub === 'nodes';
  if (needsTable && !ctx.view.ready) return w.error(ERR_CLUSTERDOWN);
  switch (sub) {
    case 'slots':
      return slots(ctx, w);
    case 'shards':
      return shards(ctx, w);
    case 'nodes':
      return w.text(ctx.view.nodesText());
    case 'info':
      return w.text(infoText(ctx));
    case 'myid':
      return w.bulk(ctx.view.selfId);
    case 'keyslot':
      return w.integer(slotOfArg(req, 2));
    case 'countkeysinslot': {
      const slot = numArg(req, 2);
      if (slot === undefined) return w.error(ERR_NOT_INTEGER);
      if (slot < 0 || slot >= SLOT_COUNT) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'Invalid slot'));
      return w.integer(keysInSlot(ctx, slot, Infinity).length);
    }
    case 'getkeysinslot': {
      const slot = numArg(req, 2);
      const count = numArg(req, 3);
      if (slot === undefined || count === undefined) return w.error(ERR_NOT_INTEGER);
      if (slot < 0 || slot >= SLOT_COUNT || count < 0) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'Invalid slot or number of keys'));
      const keys = keysInSlot(ctx, slot, count);
      w.array(keys.length);
      for (const k of keys) w.bulk(k);
      return;
    }
    case 'help':
      w.array(1);
      return w.simple('CLUSTER SLOTS | SHARDS | NODES | INFO | MYID | KEYSLOT <key> | COUNTKEYSINSLOT <slot> | GETKEYSINSLOT <slot> <count>');
    case 'addslots':
    case 'delslots':
    case 'setslot':
    case 'meet':
    case 'forget':
    case 'replicate':
    case 'failover':
    case 'reset':
      return w.error(errNotSupported(`CLUSTER ${sub.toUpperCase()} is not supported: the coordinator owns the topology`));
    default:
      return w.error(errUnknownSubcommand(req.str(1), 'cluster'));
  }
}

export function registerClusterCommands(t: CommandTable): void {
  t.add(cmd('cluster', -2, CMD_ADMIN, NO_KEYS, cluster, 'Cluster topology from the coordinator\'s table', {
    subcommands: ['countkeysinslot', 'getkeysinslot', 'help', 'info', 'keyslot', 'myid', 'nodes', 'shards', 'slots'], support: 'partial',
    note: 'read-only subcommands; the coordinator owns the topology, so ADDSLOTS, SETSLOT, MEET, FAILOVER and the like are refused; every member shows as master',
  }));
}
