/**
 * A whole cache node, composable in-process (tests, the demo, the embedded mode): the RESP server, the store, the
 * agent that follows the coordinator (or a synthetic one-member table in standalone mode), active expiry and
 * /metrics. `startNode()` resolves once the node listens (and, in cluster mode, has joined).
 */
import type { Server } from 'node:http';
import { Store, type EvictionPolicy } from '../storage/index.js';
import { CoordinatorClient, MemberSession, type TableWatch } from '../control/index.js';
import { memberIdFor, PartitionTable } from '../partitioning/index.js';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { ClusterView, standaloneTable } from './cluster-view.js';
import { createCommandTable, type CommandRegistrar } from './commands/index.js';
import { NodeMetrics } from './metrics.js';
import { resolveNodeServerOptions, type NodeServerOptions } from './options.js';
import { NodeServer } from './server.js';
import type { NodeStats } from '../protocol/control.js';
import { Replicator, registerReplicationMetrics, resolveReplicationOptions, type ReplicationOptions } from './replication/index.js';

export const LEASE_MODES = Object.freeze(['strict', 'off'] as const);
export type LeaseMode = (typeof LEASE_MODES)[number];

export interface NodeOptions {
  /** Member name (unique in the cluster); the node id is derived from it (40 hex, also the Redis Cluster node id). */
  name: string;
  /** Coordinator base URLs; ignored when standalone. */
  coordinators: readonly string[];
  /** Own every slot with a synthetic one-member table; no coordinator. */
  standalone: boolean;
  /** Partitions of the standalone table (cluster mode takes the coordinator's). */
  standalonePartitions: number;
  zone: string | null;
  capacity: number;
  /** Memory budget of the store in bytes (0 = unlimited) and what to do when it is full. */
  maxMemoryBytes: number;
  evictionPolicy: EvictionPolicy;
  /** /metrics port: -1 = no metrics endpoint, 0 = any free port. */
  metricsPort: number;
  /** Active expiry: every `activeExpireIntervalMs`, at most `activeExpireBudgetMs` of work (never a long pause). */
  activeExpireIntervalMs: number;
  activeExpireBudgetMs: number;
  /** On close(): how long to wait for the coordinator to confirm a graceful leave. */
  leaveTimeoutMs: number;
  /** Bearer token presented to the coordinators (their --token-file / RINGLEADER_TOKEN); null = none. */
  coordinatorToken: string | null;
  /**
   * On close(), after the leave is accepted: how long to keep serving while the coordinator hands this node's copies
   * to others (learners elsewhere, then hand-overs). 0 = do not wait (copies this node held alone are lost).
   */
  drainTimeoutMs: number;
  /**
   * Cluster mode: `strict` (default) answers -TRYAGAIN for its partitions' keys, reads included, once no heartbeat
   * was answered for the coordinator's leaseMs (it may have been declared dead and replaced: see docs/OPERATIONS.md
   * "failure modes"); `off` keeps serving whatever the coordinator's silence (available through a coordinator outage
   * longer than the lease, at the price of stale reads and lost writes from a paused or cut-off old primary).
   * Standalone nodes have no lease.
   */
  leaseMode: LeaseMode;
  /** The partition replication stream (backlog, sync throttling, hand-over timeout...). */
  replication: Partial<ReplicationOptions>;
  /** The RESP server's options (host, port, limits, password...). */
  server: Partial<NodeServerOptions>;
  /** Extra command groups (e.g. RL.* internal commands). */
  commandGroups: readonly CommandRegistrar[];
  clock: Clock;
  logger: Logger;
}

export const DEFAULT_NODE_OPTIONS: Readonly<Omit<NodeOptions, 'name' | 'clock' | 'logger'>> = Object.freeze({
  coordinators: Object.freeze([]) as readonly string[],
  standalone: false,
  standalonePartitions: 256,
  zone: null,
  capacity: 1,
  maxMemoryBytes: 0,
  evictionPolicy: 'allkeys-lru',
  metricsPort: -1,
  activeExpireIntervalMs: 100,
  activeExpireBudgetMs: 2,
  leaveTimeoutMs: 5000,
  coordinatorToken: null,
  drainTimeoutMs: 120_000,
  leaseMode: 'strict',
  replication: Object.freeze({}),
  server: Object.freeze({}),
  commandGroups: Object.freeze([]) as readonly CommandRegistrar[],
});

export function resolveNodeOptions(input: Partial<NodeOptions> & Pick<NodeOptions, 'name'>): NodeOptions {
  const o: NodeOptions = { ...DEFAULT_NODE_OPTIONS, clock: systemClock, logger: silentLogger(), ...input };
  if (typeof o.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(o.name)) throw new TypeError(`NodeOptions.name must be letters, digits, '.', '_' or '-', got ${JSON.stringify(o.name)}`);
  if (!o.standalone && o.coordinators.length === 0) throw new TypeError('NodeOptions.coordinators must list at least one coordinator URL (or set standalone)');
  if (!Number.isInteger(o.standalonePartitions) || o.standalonePartitions < 1 || o.standalonePartitions > 16384) throw new TypeError(`NodeOptions.standalonePartitions must be an integer in [1, 16384], got ${o.standalonePartitions}`);
  if (!(o.capacity > 0)) throw new TypeError(`NodeOptions.capacity must be > 0, got ${o.capacity}`);
  if (!Number.isInteger(o.metricsPort) || o.metricsPort < -1 || o.metricsPort > 65535) throw new TypeError(`NodeOptions.metricsPort must be -1 (off) or a port, got ${o.metricsPort}`);
  if (!(o.activeExpireIntervalMs > 0)) throw new TypeError(`NodeOptions.activeExpireIntervalMs must be > 0, got ${o.activeExpireIntervalMs}`);
  if (!LEASE_MODES.includes(o.leaseMode)) throw new TypeError(`NodeOptions.leaseMode must be one of ${LEASE_MODES.join(', ')}, got ${String(o.leaseMode)}`);
  if (!(o.drainTimeoutMs >= 0)) throw new TypeError(`NodeOptions.drainTimeoutMs must be >= 0, got ${o.drainTimeoutMs}`);
  resolveReplicationOptions(o.replication);
  if (!(o.activeExpireBudgetMs > 0)) throw new TypeError(`NodeOptions.activeExpireBudgetMs must be > 0, got ${o.activeExpireBudgetMs}`);
  return o;
}

export interface RunningNode {
  readonly id: string;
  readonly name: string;
  /** host:port of the RESP endpoint (what MOVED replies and the coordinator show). */
  readonly address: string;
  readonly port: number;
  /** Bound /metrics port, or null when disabled. */
  readonly metricsPort: number | null;
  readonly server: NodeServer;
  readonly view: ClusterView;
  /** The replication stream (cluster mode), or null in standalone mode. */
  readonly replicator: Replicator | null;
  /** Resolves with the first applied table whose epoch is >= minEpoch. */
  waitForTable(minEpoch?: number): Promise<PartitionTable>;
  /** Graceful stop: leave the cluster (cluster mode, bounded by leaveTimeoutMs), close clients and listeners. */
  close(): Promise<void>;
}

export async function startNode(input: Partial<NodeOptions> & Pick<NodeOptions, 'name'>): Promise<RunningNode> {
  const o = resolveNodeOptions(input);
  const log = o.logger;
  const serverOptions = resolveNodeServerOptions({ crossSlotCheck: !o.standalone, ...o.server });
  const view = new ClusterView(memberIdFor(o.name));
  const server = new NodeServer(serverOptions, view, createCommandTable(o.commandGroups), o.clock, log, { maxMemoryBytes: o.maxMemoryBytes, evictionPolicy: o.evictionPolicy });
  const port = await server.listen();
  const address = `${serverOptions.host.includes(':') ? `[${serverOptions.host}]` : serverOptions.host}:${port}`;
  const waiters: Array<{ epoch: number; resolve: (t: PartitionTable) => void }> = [];
  /** Waits for a table that satisfies a condition (the drain on close). */
  const conditions: Array<{ test: (t: PartitionTable) => boolean; resolve: () => void }> = [];
  let session: MemberSession | null = null;
  let watch: TableWatch | null = null;
  const client = o.standalone ? null : new CoordinatorClient({ coordinators: [...o.coordinators], clock: o.clock, logger: log, token: o.coordinatorToken });
  const replicator = client === null ? null : new Replicator({
    view,
    clock: o.clock,
    logger: log,
    password: serverOptions.requirePass,
    options: resolveReplicationOptions(o.replication),
    onPeerTable: (json) => {
      let t: PartitionTable;
      try {
        t = PartitionTable.fromJSON(json);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'a peer sent a table that does not validate; ignored');
        return;
      }
      if (t.epoch <= view.epoch) return;
      log.info({ epoch: t.epoch, applied: view.epoch }, 'table from a peer (a hand-over between us and it)');
      applyTableRef(t);
    },
    sendReports: async (copies, outOfSync) => {
      const incarnation = session?.incarnation;
      if (incarnation === null || incarnation === undefined) return;
      await client.reportCopies(view.selfId, outOfSync.length > 0 ? { incarnation, epoch: view.epoch, copies, outOfSync } : { incarnation, epoch: view.epoch, copies });
    },
  });
  server.replication = replicator;

  // Late-bound: the replicator (created above) hands tables from peers to the same path as the coordinator's.
  const applyTableRef = (table: PartitionTable): void => applyTable(table);
  const applyTable = (table: PartitionTable): void => {
    const change = view.apply(table);
    if (change === null) return;
    if (server.store === null || change.partitionCountChanged) {
      if (server.store !== null) log.warn({ from: server.store.options.partitionCount, to: table.partitionCount }, 'partition count changed; starting with an empty store');
      // CONFIG SET may have changed the memory settings since start: server.memory holds the current ones.
      server.store = new Store({ partitionCount: table.partitionCount, ...server.memory }, o.clock);
    }
    if (replicator !== null) {
      replicator.attachStore(server.store);
      replicator.applyTable(table);
      const mine = table.partitionsOf(view.selfId);
      log.info({ epoch: table.epoch, serving: view.owned.reduce((a, b) => a + b, 0), primary: mine.primary.length, backup: mine.backup.length, learner: mine.learner.length, handingOff: mine.handingOff.length, modes: replicator.modeCounts() }, 'table applied');
    } else {
      log.info({ epoch: table.epoch, primary: view.owned.reduce((a, b) => a + b, 0) }, 'table applied');
    }
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (table.epoch >= waiters[i]!.epoch) waiters.splice(i, 1)[0]!.resolve(table);
    }
    for (let i = conditions.length - 1; i >= 0; i--) {
      if (conditions[i]!.test(table)) conditions.splice(i, 1)[0]!.resolve();
    }
  };

  // /metrics binds before the node joins: a port clash must fail the start, not leave a joined member behind.
  let metricsHttp: Server | null = null;
  let metricsPort: number | null = null;
  if (o.metricsPort >= 0) {
    const metrics = new NodeMetrics(server);
    if (replicator !== null) registerReplicationMetrics(metrics.registry, replicator, () => server.stats.tryAgain);
    try {
      const m = await metrics.listen(serverOptions.host, o.metricsPort);
      metricsHttp = m.server;
      metricsPort = m.port;
    } catch (err) {
      replicator?.close();
      await server.close();
      throw err;
    }
  }

  if (o.standalone || client === null) {
    applyTable(standaloneTable(o.name, address, o.standalonePartitions));
  } else {
    session = new MemberSession(client, {
      member: { name: o.name, address, capacity: o.capacity, ...(o.zone === null ? {} : { zone: o.zone }) },
      appliedEpoch: () => view.epoch,
      table: () => view.table?.toJSON() ?? null,
      stats: heartbeatStats(server, o.clock),
    });
    session.on('joined', (info, rejoin) => {
      view.selfId = info.id;
      // Tables up to the join's epoch describe our previous incarnation (a restart faster than the dead deadline):
      // the coordinator removes those roles in the next epoch; until then this empty process must not serve them.
      replicator?.joinedAt(info.epoch);
      if (rejoin && server.store !== null) {
        // Declared dead and re-joined: every partition we held is fenced; follow the new tables from empty.
        const n = server.store.dbsize();
        replicator?.reset();
        server.store.flushAll();
        log.warn({ dropped: n }, 're-joined after being declared dead; dropped local data');
      }
    });
    if (o.leaseMode === 'strict') {
      view.lease = session.lease;
      let warned = false;
      session.on('heartbeat', (res) => {
        if (res.leaseMs !== undefined || warned) return;
        warned = true;
        log.error('the coordinator grants no lease (a version older than leases): this node refuses its keys with -TRYAGAIN; upgrade the coordinators first, or run nodes with --lease-mode off meanwhile');
      });
    }
    session.on('error', (err) => log.warn({ err: err.message }, 'coordinator session error'));
    session.on('state', (state) => log.info({ state }, 'member state'));
    try {
      await session.start();
    } catch (err) {
      replicator?.close();
      await server.close();
      metricsHttp?.close();
      throw err;
    }
    // Named by our member id: when this stream closes (the process died), the coordinator probes our port at once.
    watch = client.watch({ member: view.selfId });
    watch.on('table', (t) => applyTable(t));
    watch.on('error', (err) => log.debug({ err: err.message }, 'watch error'));
  }

  const expiry: TimerHandle = o.clock.setInterval(() => {
    if (server.activeExpire) server.store?.activeExpireCycle(o.activeExpireBudgetMs);
  }, o.activeExpireIntervalMs);


  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      if (session !== null) {
        const s = session;
        const left = await Promise.race([
          s.leave().then(() => true, (err: Error) => {
            log.warn({ err: err.message }, 'leave failed');
            return false;
          }),
          new Promise<boolean>((resolve) => o.clock.setTimeout(() => resolve(false), o.leaveTimeoutMs)),
        ]);
        if (left && o.drainTimeoutMs > 0) {
          // Keep serving and streaming while the coordinator moves our copies: learners elsewhere catch up from us,
          // then our primaries are handed over. Done when the table lists no copy of ours.
          const holdsNothing = (t: PartitionTable): boolean => {
            const h = t.partitionsOf(view.selfId);
            return h.primary.length + h.backup.length + h.learner.length + h.handingOff.length === 0;
          };
          const t0 = o.clock.monotonic();
          log.info({ drainTimeoutMs: o.drainTimeoutMs }, 'leaving: handing partitions over');
          const drained = view.table !== null && holdsNothing(view.table) ? true : await Promise.race([
            new Promise<boolean>((resolve) => conditions.push({ test: holdsNothing, resolve: () => resolve(true) })),
            new Promise<boolean>((resolve) => o.clock.setTimeout(() => resolve(false), o.drainTimeoutMs)),
          ]);
          if (drained) log.info({ ms: Math.round(o.clock.monotonic() - t0) }, 'leaving: every partition handed over');
          else log.warn({ drainTimeoutMs: o.drainTimeoutMs }, 'leaving: drain timed out; copies held only here are lost');
        }
        s.stop();
      }
      replicator?.close();
      watch?.close();
      expiry.cancel();
      await server.close();
      if (metricsHttp !== null) {
        const h = metricsHttp;
        h.closeAllConnections();
        await new Promise<void>((resolve) => h.close(() => resolve()));
      }
    })();
    return closed;
  };

  return {
    get id() {
      return view.selfId;
    },
    name: o.name,
    address,
    port,
    metricsPort,
    server,
    view,
    replicator,
    waitForTable(minEpoch = 0) {
      const t = view.table;
      if (t !== null && t.epoch >= minEpoch) return Promise.resolve(t);
      return new Promise((resolve) => waiters.push({ epoch: minEpoch, resolve }));
    },
    close,
  };
}

/** The statistics a node reports with each heartbeat; ops/s is measured between two consecutive heartbeats. */
function heartbeatStats(server: NodeServer, clock: Clock): () => NodeStats {
  let lastAt = clock.monotonic();
  let lastCommands = server.stats.commandsProcessed;
  return () => {
    const now = clock.monotonic();
    const commands = server.stats.commandsProcessed;
    const opsPerSec = now > lastAt ? Math.round(((commands - lastCommands) * 1000) / (now - lastAt)) : 0;
    lastAt = now;
    lastCommands = commands;
    const st = server.store?.stats();
    return { usedBytes: st?.usedBytes ?? 0, maxMemoryBytes: st?.maxMemoryBytes ?? 0, keys: st?.keys ?? 0, opsPerSec: Math.min(opsPerSec, 1e9), connectedClients: server.connectionCount };
  };
}
