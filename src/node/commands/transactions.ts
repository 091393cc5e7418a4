/**
 * MULTI, EXEC, DISCARD, WATCH, UNWATCH as Redis 7.0 (with Redis Cluster's one-slot rule in cluster mode). The
 * queueing itself happens in the server (a command sent after MULTI is checked, then queued instead of run); the
 * WATCH registry and EXEC are in src/node/transactions.ts.
 */
import type { RequestDecoder, ReplyWriter } from '../../protocol/resp/index.js';
import { REPLY_OK } from '../../protocol/resp/index.js';
import { NODE_ERRORS } from '../../protocol/errors/index.js';
import type { Connection } from '../connection.js';
import { errorText } from '../replies.js';
import { partitionOfArg } from './strings.js';
import { CMD_FAST, NO_KEYS, cmd, type CommandContext, type CommandTable } from './types.js';

const ERR_NESTED = errorText(NODE_ERRORS.SYNTAX_ERROR, 'MULTI calls can not be nested');
const ERR_EXEC_WITHOUT = errorText(NODE_ERRORS.SYNTAX_ERROR, 'EXEC without MULTI');
const ERR_DISCARD_WITHOUT = errorText(NODE_ERRORS.SYNTAX_ERROR, 'DISCARD without MULTI');
const ERR_WATCH_IN_MULTI = errorText(NODE_ERRORS.SYNTAX_ERROR, 'WATCH inside MULTI is not allowed');

function multi(_ctx: CommandContext, c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  if (c.multi !== null) return w.error(ERR_NESTED);
  c.multi = [];
  c.multiBytes = 0;
  c.multiDirty = false;
  c.multiSlot = -1;
  w.raw(REPLY_OK);
}

function exec(ctx: CommandContext, c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  if (c.multi === null) return w.error(ERR_EXEC_WITHOUT);
  ctx.execTransaction(c, w);
}

function discard(ctx: CommandContext, c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  if (c.multi === null) return w.error(ERR_DISCARD_WITHOUT);
  c.multi = null;
  c.multiBytes = 0;
  c.multiDirty = false;
  c.multiSlot = -1;
  ctx.unwatchAll(c);
  w.raw(REPLY_OK);
}

function watch(ctx: CommandContext, c: Connection, req: RequestDecoder, w: ReplyWriter, p: number): void {
  if (c.multi !== null) return w.error(ERR_WATCH_IN_MULTI);
  for (let i = 1; i < req.argc; i++) ctx.watchKey(c, partitionOfArg(ctx, req, i, p), req.str(i));
  w.raw(REPLY_OK);
}

function unwatch(ctx: CommandContext, c: Connection, _req: RequestDecoder, w: ReplyWriter): void {
  ctx.unwatchAll(c);
  w.raw(REPLY_OK);
}

export function registerTransactionCommands(t: CommandTable): void {
  t.add(cmd('multi', 1, CMD_FAST, NO_KEYS, multi, 'Start a transaction: later commands are queued until EXEC'));
  t.add(cmd('exec', 1, 0, NO_KEYS, exec, 'Run the queued commands (null when a WATCHed key was touched)'));
  t.add(cmd('discard', 1, CMD_FAST, NO_KEYS, discard, 'Drop the queued commands and the WATCHed keys'));
  t.add(cmd('watch', -2, CMD_FAST, [1, -1, 1], watch, 'Abort the next EXEC if one of these keys is written, or its partition changes primary'));
  t.add(cmd('unwatch', 1, CMD_FAST, NO_KEYS, unwatch, 'Forget the WATCHed keys'));
}
