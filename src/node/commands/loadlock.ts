/**
 * Cold-start protection support (issue 5): the node side of getOrLoad's cluster-wide lease.
 *
 * The lease itself is a plain `SET <lockKey> <token> NX PX <leaseMs>` on the key's slot (it works on any RESP node,
 * expires on the node's clock, and migrates/replicates like any key). What plain commands cannot do atomically is
 * release it only if it is still ours: `RL.LOADUNLOCK <lockKey> <token>` deletes lockKey only when it holds exactly
 * <token> and replies 1, else 0 (the lease expired and someone else took it: leave theirs alone).
 * Clients fall back to GET + DEL on servers without it (redis-server).
 */
import type { StoreValue } from '../../storage/index.js';
import { cmd, CMD_FAST, CMD_WRITE, KEY1, type CommandHandler, type CommandSpec, type CommandTable } from './types.js';

function sameBytes(v: StoreValue, token: Buffer): boolean {
  // Tokens are ASCII, so the latin1 view of a string value is its bytes.
  return typeof v === 'string' ? v.length === token.length && Buffer.from(v, 'latin1').equals(token) : v.equals(token);
}

const loadUnlock: CommandHandler = (ctx, _conn, req, w, partition) => {
  const store = ctx.store!;
  const key = req.str(1);
  const held = store.get(partition, key);
  if (held === undefined || !sameBytes(held, req.arg(2))) {
    w.integer(0);
    return;
  }
  store.del(partition, key);
  w.integer(1);
};

export const LOADLOCK_COMMANDS: readonly CommandSpec[] = [
  cmd('rl.loadunlock', 3, CMD_WRITE | CMD_FAST, KEY1, loadUnlock, 'Deletes a getOrLoad lease key only if it holds the given token (1 = released, 0 = not ours).'),
];

/** Adds the commands of this file to a command table. */
export function registerLoadLockCommands(table: CommandTable): void {
  for (const spec of LOADLOCK_COMMANDS) table.add(spec);
}
