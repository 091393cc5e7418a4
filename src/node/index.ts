/**
 * The cache node: a RESP server compatible with Redis Cluster clients, its command table, the cluster view that
 * guards key ownership (MOVED / CROSSSLOT / CLUSTERDOWN), and `startNode()` which composes them with the store and
 * the coordinator agent.
 */
export { startNode, resolveNodeOptions, DEFAULT_NODE_OPTIONS, LEASE_MODES, type LeaseMode, type NodeOptions, type RunningNode } from './node.js';
export { NodeServer } from './server.js';
export { resolveNodeServerOptions, DEFAULT_NODE_SERVER_OPTIONS, type NodeServerOptions } from './options.js';
export { ClusterView, NO_LEASE, standaloneTable, splitAddress, type LeaseCheck, type SlotRange, type TableChange } from './cluster-view.js';
export { createCommandTable, CommandTable, cmd, type CommandRegistrar, type CommandSpec, type CommandHandler, type CommandContext } from './commands/index.js';
export { Connection } from './connection.js';
export { commandDocs, commandInfo, type MetaNode } from './commands/command-docs.js';
export { NodeMetrics } from './metrics.js';
