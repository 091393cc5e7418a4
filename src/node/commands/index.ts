/**
 * The node's command table, assembled from one file per command group. A new group (e.g. RL.* internal commands)
 * adds a file exporting `registerXxxCommands(table)` and one line below.
 */
import { CommandTable } from './types.js';
import { registerClusterCommands } from './cluster.js';
import { registerConnectionCommands } from './connection.js';
import { registerKeyCommands } from './keys.js';
import { registerServerCommands } from './server.js';
import { registerStringCommands } from './strings.js';
import { registerLoadLockCommands } from './loadlock.js';
import { registerKeyspaceCommands } from './keyspace.js';
import { registerBitCommands } from './bits.js';
import { registerLcsCommands } from './lcs.js';
import { registerDebugCommands } from './debug.js';
import { registerTransactionCommands } from './transactions.js';
import { registerReplicationCommands } from './replication.js';
import { registerHashCommands } from './hashes.js';
import { registerSetCommands } from './sets.js';
import { registerSortedSetCommands } from './zsets.js';

export type CommandRegistrar = (table: CommandTable) => void;

export const BUILTIN_COMMAND_GROUPS: readonly CommandRegistrar[] = Object.freeze([
  registerConnectionCommands,
  registerServerCommands,
  registerClusterCommands,
  registerStringCommands,
  registerKeyCommands,
  registerHashCommands,
  registerSetCommands,
  registerSortedSetCommands,
  registerKeyspaceCommands,
  registerBitCommands,
  registerLcsCommands,
  registerDebugCommands,
  registerTransactionCommands,
  registerLoadLockCommands,
  registerReplicationCommands,
]);

/** A fresh table with the built-in commands plus `extra` groups. */
export function createCommandTable(extra: readonly CommandRegistrar[] = []): CommandTable {
  const t = new CommandTable();
  for (const register of BUILTIN_COMMAND_GROUPS) register(t);
  for (const register of extra) register(t);
  return t;
}

export * from './types.js';
