/**
 * A whole cache node, composable in-process (tests, the demo, the embedded mode): the RESP server, the store, the
 * agent that follows the coordinator (or a synthetic one-member table in standalone mode), active expiry and
 * /metrics. `startNode()` resolves once the node listens (and, in cluster mode, has joined).
 */
import type { Server } from 'node:http';
import { Store, type EvictionPolicy } from '../storage/index.js';
import { CoordinatorClient, MemberSession, type TableWatch } from '../control/index.js';
import { memberIdFor, type PartitionTable } from '../partitioning/index.js';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { ClusterView, standaloneTable } from './cluster-view.js';
import { createCommandTable, type CommandRegistrar } from './commands/index.js';
import { NodeMetrics } from './metrics.js';
import { resolveNodeServerOptions, type NodeServerOptions } from './options.js';
import { NodeServer } from './server.js';

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
  const server = new NodeServer(serverOptions, view, createCommandTable(o.commandGroups), o.clock, log);
  const port = await server.listen();
  const address = `${serverOptions.host.includes(':') ? `[${serverOptions.host}]` : serverOptions.host}:${port}`;
  const waiters: Array<{ epoch: number; resolve: (t: PartitionTable) => void }> = [];

  const applyTable = (table: PartitionTable): void => {
    const change = view.apply(table);
    if (change === null) return;
    if (server.store === null || change.partitionCountChanged) {
      if (server.store !== null) log.warn({ from: server.store.options.partitionCount, to: table.partitionCount }, 'partition count changed; starting with an empty store');
      server.store = new Store({ partitionCount: table.partitionCount, maxMemoryBytes: o.maxMemoryBytes, evictionPolicy: o.evictionPolicy }, o.clock);
    } else {
      for (const p of change.released) server.store.dropPartition(p);
    }
    log.info({ epoch: table.epoch, primary: view.owned.reduce((a, b) => a + b, 0), released: change.released.length }, 'table applied');
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (table.epoch >= waiters[i]!.epoch) waiters.splice(i, 1)[0]!.resolve(table);
    }
  };

  let session: MemberSession | null = null;
  let watch: TableWatch | null = null;
  if (o.standalone) {
    applyTable(standaloneTable(o.name, address, o.standalonePartitions));
  } else {
    const client = new CoordinatorClient({ coordinators: [...o.coordinators], clock: o.clock, logger: log, token: o.coordinatorToken });
    session = new MemberSession(client, {
      member: { name: o.name, address, capacity: o.capacity, ...(o.zone === null ? {} : { zone: o.zone }) },
      appliedEpoch: () => view.epoch,
      table: () => view.table?.toJSON() ?? null,
    });
    session.on('joined', (info, rejoin) => {
      view.selfId = info.id;
      if (rejoin && server.store !== null) {
        // Declared dead and re-joined: every partition we held is fenced; follow the new tables from empty.
        const n = server.store.flushAll();
        log.warn({ dropped: n }, 're-joined after being declared dead; dropped local data');
      }
    });
    session.on('error', (err) => log.warn({ err: err.message }, 'coordinator session error'));
    session.on('state', (state) => log.info({ state }, 'member state'));
    try {
      await session.start();
    } catch (err) {
      await server.close();
      throw err;
    }
    watch = client.watch();
    watch.on('table', (t) => applyTable(t));
    watch.on('error', (err) => log.debug({ err: err.message }, 'watch error'));
  }

  const expiry: TimerHandle = o.clock.setInterval(() => {
    server.store?.activeExpireCycle(o.activeExpireBudgetMs);
  }, o.activeExpireIntervalMs);

  let metricsHttp: Server | null = null;
  let metricsPort: number | null = null;
  if (o.metricsPort >= 0) {
    const m = await new NodeMetrics(server).listen(serverOptions.host, o.metricsPort);
    metricsHttp = m.server;
    metricsPort = m.port;
  }

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      if (session !== null) {
        const s = session;
        await Promise.race([
          s.leave().catch((err: Error) => log.warn({ err: err.message }, 'leave failed')),
          new Promise<void>((resolve) => o.clock.setTimeout(resolve, o.leaveTimeoutMs)),
        ]);
        s.stop();
      }
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
    waitForTable(minEpoch = 0) {
      const t = view.table;
      if (t !== null && t.epoch >= minEpoch) return Promise.resolve(t);
      return new Promise((resolve) => waiters.push({ epoch: minEpoch, resolve }));
    },
    close,
  };
}
