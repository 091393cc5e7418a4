/**
 * Internal node-to-node commands of the partition replication stream (src/node/replication). A follower opens a
 * connection to a primary, authenticates like any client when the node has a password, and sends:
 *
 *   RL.REPLCONN <follower id> <partition count> [capability ...]   the connection becomes a stream; no reply (frames
 *                                                 follow); capability `snapb`: send snapshot batches as SNAPB
 *   RL.FOLLOW <p> <term> <offset> <complete> <table term>   stream p from (term, offset), else a snapshot first
 *   RL.UNFOLLOW <p>                               stop streaming p
 *   RL.ACK <p> <offset> [...]                    the follower's applied offsets (lag); no reply
 *   RL.HANDOFF <p> <term>                         the new primary of p (term) asks the old one to stop now
 *   RL.TABLE <json>                               the new primary sends the table of the hand-over; no reply
 *   RL.RECV <bytes>                               stream bytes read and applied so far on this connection; no reply
 *
 * The coordinator sends, before it promotes a copy of p at a new term (failover):
 *
 *   RL.FENCE <p> <term>       -> [copy term, copy offset, complete 0|1]; the copy ignores older terms from now on
 *
 * Frames, not replies, answer them (docs/PROTOCOL.md "Replication stream"); errors are replied and the follower
 * reconnects. RL.DIGEST <p> is for operators and tests: [term, offset, mode, complete, keys, digest].
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { errorText } from '../replies.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import { CMD_ADMIN, NO_KEYS, cmd, type CommandContext, type CommandHandler, type CommandSpec, type CommandTable } from './types.js';

const ERR_STANDALONE = errorText(NODE_ERRORS.NOT_SUPPORTED, 'replication commands need cluster mode');
const MAX_TERM = Number.MAX_SAFE_INTEGER;

/** A non-negative integer argument no larger than max, or null (the handler replies the error). */
function intArg(req: RequestDecoder, i: number, max: number): number | null {
  const s = req.str(i);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(s)) return null;
  const n = Number(s);
  return n <= max ? n : null;
}

function partitionArg(ctx: CommandContext, req: RequestDecoder, i: number, w: ReplyWriter): number | null {
  const n = ctx.view.partitionCount;
  const p = intArg(req, i, Math.max(0, n - 1));
  if (p === null || n === 0) {
    w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `partition must be an integer in [0, ${Math.max(0, n - 1)}]`));
    return null;
  }
  return p;
}

const replconn: CommandHandler = (ctx, conn, req, w) => {
  const r = ctx.replication;
  if (r === null) return w.error(ERR_STANDALONE);
  const id = req.str(1);
  if (!/^[0-9a-f]{40}$/.test(id)) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'follower id must be 40 lowercase hex chars'));
  const count = intArg(req, 2, 16384);
  if (count === null || count !== ctx.view.partitionCount) {
    return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, `partition count ${req.str(2).slice(0, 16)} differs from this node's ${ctx.view.partitionCount}`));
  }
  // Capabilities the follower announced; unknown ones are ignored (a newer follower talking to an older primary).
  let binarySnapshots = false;
  for (let i = 3; i < req.argc; i++) if (req.str(i).toLowerCase() === 'snapb') binarySnapshots = true;
  r.replConn(conn.socket, id, { binarySnapshots });
};

const follow: CommandHandler = (ctx, conn, req, w) => {
  const r = ctx.replication;
  if (r === null) return w.error(ERR_STANDALONE);
  const p = partitionArg(ctx, req, 1, w);
  if (p === null) return;
  const term = intArg(req, 2, MAX_TERM);
  const offset = intArg(req, 3, MAX_TERM);
  const complete = req.str(4);
  if (term === null || offset === null || (complete !== '0' && complete !== '1') || intArg(req, 5, MAX_TERM) === null) {
    return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'usage: RL.FOLLOW <partition> <term> <offset> <0|1> <table term>'));
  }
  const err = r.follow(conn.socket, p, term, offset, complete === '1');
  if (err !== null) w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, err));
};

const unfollow: CommandHandler = (ctx, conn, req, w) => {
  const r = ctx.replication;
  if (r === null) return w.error(ERR_STANDALONE);
  const p = partitionArg(ctx, req, 1, w);
  if (p !== null) r.unfollow(conn.socket, p);
};

const ack: CommandHandler = (ctx, conn, req, w) => {
  const r = ctx.replication;
  if (r === null) return w.error(ERR_STANDALONE);
  const argc = req.argc;
  if (argc % 2 !== 1) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'usage: RL.ACK <partition> <offset> [<partition> <offset> ...]'));
  const pairs: Array<[number, number]> = [];
  for (let i = 1; i < argc; i += 2) {
    const p = partitionArg(ctx, req, i, w);
    if (p === null) return;
    const o = intArg(req, i + 1, MAX_TERM);
    if (o === null) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'offset must be a non-negative integer'));
    pairs.push([p, o]);
  }
  r.ack(conn.socket, pairs);
};

const handoff: CommandHandler = (ctx, _conn, req, w) => {
  const r = ctx.replication;
  if (r === null) return w.error(ERR_STANDALONE);
  const p = partitionArg(ctx, req, 1, w);
  if (p === null) return;
  const term = intArg(req, 2, MAX_TERM);
  if (term === null) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'term must be a non-negative integer'));
  r.handoff(p, term);
};

const recv: CommandHandler = (ctx, conn, req, w) => {
  const r = ctx.replication;
  if (r === null) return w.error(ERR_STANDALONE);
  const bytes = intArg(req, 1, MAX_TERM);
  if (bytes === null) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'usage: RL.RECV <bytes>; a non-negative integer'));
  r.recv(conn.socket, bytes);
};

const peerTable: CommandHandler = (ctx, conn, req, w) => {
  const r = ctx.replication;
  if (r === null) return w.error(ERR_STANDALONE);
  r.peerTable(conn.socket, req.str(1));
};

const fence: CommandHandler = (ctx, _conn, req, w) => {
  const r = ctx.replication;
  if (r === null) return w.error(ERR_STANDALONE);
  const p = partitionArg(ctx, req, 1, w);
  if (p === null) return;
  const term = intArg(req, 2, MAX_TERM);
  if (term === null || term === 0) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'usage: RL.FENCE <partition> <term>; term must be a positive integer'));
  const at = r.fence(p, term);
  w.array(3);
  w.integer(at.term);
  w.integer(at.offset);
  w.integer(at.complete ? 1 : 0);
};

const digest: CommandHandler = (ctx, _conn, req, w) => {
  const r = ctx.replication;
  const p = partitionArg(ctx, req, 1, w);
  if (p === null) return;
  if (r === null) {
    const d = ctx.store?.digest(p);
    if (d === undefined) return w.error(ERR_STANDALONE);
    w.array(6);
    w.integer(0);
    w.integer(0);
    w.bulk('primary');
    w.integer(1);
    w.integer(d.keys);
    w.bulk(d.digest);
    return;
  }
  const d = r.digest(p);
  if (d === null) return w.error(errorText(NODE_ERRORS.CLUSTERDOWN, 'The cluster is down'));
  w.array(6);
  w.integer(d.term);
  w.integer(d.offset);
  w.bulk(d.mode);
  w.integer(d.complete ? 1 : 0);
  w.integer(d.keys);
  w.bulk(d.digest);
};

/**
 * WAIT numreplicas timeout: the number of followers that acknowledged every write this connection made (per
 * partition: the least), once it reaches numreplicas or after timeout ms (0 = no timeout), as Redis. In sync mode the
 * in-sync backups acknowledged a write before its reply, so WAIT returns at once for them. Standalone: 0.
 */
const wait: CommandHandler = (ctx, conn, req, w) => {
  const replicas = req.str(1);
  const timeout = req.str(2);
  if (!/^-?[0-9]{1,18}$/.test(replicas) || !/^-?[0-9]{1,18}$/.test(timeout)) return w.error(errorText(NODE_ERRORS.NOT_INTEGER, 'value is not an integer or out of range'));
  if (Number(timeout) < 0) return w.error(errorText(NODE_ERRORS.SYNTAX_ERROR, 'timeout is negative'));
  const r = ctx.replication;
  if (r === null) return w.integer(0);
  if (conn.inExec) {
    // No blocking inside a transaction: answer the count now.
    const writes: number[] = [];
    for (const [p, o] of conn.lastWrites ?? []) writes.push(p, o);
    let n = 0;
    if (writes.length > 0) r.waitReplicas(writes, 0, 1, (acked) => (n = acked));
    return w.integer(n);
  }
  conn.pendingWait = { replicas: Math.max(0, Number(replicas)), timeoutMs: Number(timeout) };
};

export const REPLICATION_COMMANDS: readonly CommandSpec[] = [
  cmd('wait', 3, 0, NO_KEYS, wait, 'Waits until the given number of followers acknowledged every write of this connection, or the timeout (ms; 0 = none).'),
  cmd('rl.replconn', -3, CMD_ADMIN, NO_KEYS, replconn, 'Internal: turn this connection into a replication stream to a follower node.'),
  cmd('rl.follow', 6, CMD_ADMIN, NO_KEYS, follow, 'Internal: stream a partition to this follower from (term, offset), or a snapshot first.'),
  cmd('rl.unfollow', 2, CMD_ADMIN, NO_KEYS, unfollow, 'Internal: stop streaming a partition to this follower.'),
  cmd('rl.ack', -3, CMD_ADMIN, NO_KEYS, ack, 'Internal: a follower acknowledges the offsets it applied.'),
  cmd('rl.handoff', 3, CMD_ADMIN, NO_KEYS, handoff, 'Internal: the new primary of a partition asks the old one to stop serving it now.'),
  cmd('rl.recv', 2, CMD_ADMIN, NO_KEYS, recv, 'Internal: a follower tells its primary how many stream bytes it read and applied (snapshot flow control).'),
  cmd('rl.table', 2, CMD_ADMIN, NO_KEYS, peerTable, 'Internal: the new primary of partitions sends the old one the table of the hand-over (applied when newer).'),
  cmd('rl.fence', 3, CMD_ADMIN, NO_KEYS, fence, "Internal: the coordinator fences a partition's copy for a new term; answers [term, offset, complete]."),
  cmd('rl.digest', 2, CMD_ADMIN, NO_KEYS, digest, "A partition copy's [term, offset, mode, complete, keys, digest]."),
];

export function registerReplicationCommands(table: CommandTable): void {
  for (const spec of REPLICATION_COMMANDS) table.add(spec);
}
