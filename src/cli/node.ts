// `ringleader node`: flags -> NodeOptions -> startNode(). No logic here.
import type { Command } from 'commander';
import { DEFAULT_NODE_OPTIONS, LEASE_MODES, startNode, type LeaseMode } from '../node/index.js';
import { EVICTION_POLICIES, recommendedHeapLimitMb, type EvictionPolicy } from '../storage/index.js';
import { CONTROL_LIMITS } from '../protocol/control.js';
import { createLogger } from '../shared/logger.js';
import { bytesOption, choiceOption, coordinatorsOption, DEFAULT_COORDINATOR_URL, intOption, logLevelOption, numberOption, patternOption, readToken } from './options.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The metrics port when --metrics-port is not given: the RESP port + 10000 (any free port when that is 0 or too high). */
export function defaultMetricsPort(port: number): number {
  return port === 0 || port + 10000 > 65535 ? 0 : port + 10000;
}

interface Flags {
  tokenFile?: string;
  coordinator?: string[];
  port: number;
  host: string;
  name?: string;
  zone?: string;
  capacity: number;
  maxmemory: number;
  maxmemoryPolicy: EvictionPolicy;
  requirepass?: string;
  metricsPort?: number;
  metrics: boolean;
  partitions: number;
  standalone: boolean;
  enableFlush: boolean;
  enableDebugCommand: boolean;
  drainTimeoutMs?: number;
  syncBytesPerSec?: number;
  maxParallelSyncs?: number;
  handoverTimeoutMs?: number;
  syncTimeoutMs?: number;
  leaseMode: LeaseMode;
  logLevel?: string;
}

export function register(program: Command): void {
  program
    .command('node')
    .description('a cache node: RESP server (Redis Cluster compatible) that joins a coordinator and serves its partitions')
    .option('--coordinator <url>', `coordinator URL; comma-separated or repeated for several (default ${DEFAULT_COORDINATOR_URL})`, coordinatorsOption)
    .option('--port <port>', 'RESP port (0 = any free port; the bound port is printed)', intOption('--port', 0, 65535), 7001)
    .option('--host <host>', 'interface to listen on and to advertise', '127.0.0.1')
    .option('--name <name>', 'member name, unique in the cluster (default node-<port>, or node-<pid> with --port 0)', patternOption('--name', NAME, 'letters, digits, ".", "_" or "-"', CONTROL_LIMITS.maxNameLength))
    .option('--zone <zone>', 'failure zone (backups go to another zone when possible)', patternOption('--zone', NAME, 'letters, digits, ".", "_" or "-"', CONTROL_LIMITS.maxZoneLength))
    .option('--capacity <n>', `relative weight for placement, in (0, ${CONTROL_LIMITS.maxCapacity}]`, numberOption('--capacity', 0, CONTROL_LIMITS.maxCapacity, true), 1)
    .option('--maxmemory <size>', 'memory budget for keys and values, e.g. 256mb (0 = unlimited)', bytesOption('--maxmemory'), 0)
    .option('--maxmemory-policy <policy>', `${EVICTION_POLICIES.join(' | ')}`, choiceOption('--maxmemory-policy', EVICTION_POLICIES), 'allkeys-lru')
    .option('--requirepass <password>', 'require AUTH with this password')
    .option('--metrics-port <port>', 'Prometheus /metrics port (default: RESP port + 10000; 0 = any free port)', intOption('--metrics-port', 0, 65535))
    .option('--no-metrics', 'do not serve /metrics')
    .option('--partitions <n>', 'partition count in --standalone mode', intOption('--partitions', 1, 16384), 256)
    .option('--standalone', 'own every slot without a coordinator (benchmarks, local use)', false)
    .option('--enable-flush', 'allow FLUSHALL / FLUSHDB', false)
    .option('--enable-debug-command', 'allow DEBUG (SLEEP, SET-ACTIVE-EXPIRE, PROTOCOL): tests and diagnostics only', false)
    .option('--drain-timeout-ms <ms>', 'on SIGTERM, keep serving up to this long while partitions are handed to other nodes (0 = leave at once; default 120000)', intOption('--drain-timeout-ms', 0, 24 * 3_600_000))
    .option('--sync-bytes-per-sec <n>', 'cap on snapshot bytes per second sent to new copies (0 = unlimited; the live stream is never throttled)', intOption('--sync-bytes-per-sec', 0, Number.MAX_SAFE_INTEGER))
    .option('--max-parallel-syncs <n>', 'snapshots this node sends at once (default 8)', intOption('--max-parallel-syncs', 1, 1024))
    .option('--sync-timeout-ms <ms>', 'sync mode: a backup that has not acknowledged a held write within this long is asked out of the in-sync set (default 500)', intOption('--sync-timeout-ms', 1, 600_000))
    .option('--handover-timeout-ms <ms>', 'a new primary waits this long for the old one\'s end-of-term marker (default 3000)', intOption('--handover-timeout-ms', 1, 600_000))
    .option('--lease-mode <mode>', 'strict: answer -TRYAGAIN for this node\'s keys (reads included) once the coordinator has not answered a heartbeat for its lease; off: keep serving (stale reads and lost writes possible after a pause or a cut)', choiceOption('--lease-mode', LEASE_MODES), DEFAULT_NODE_OPTIONS.leaseMode)
    .option('--token-file <file>', 'bearer token presented to the coordinators (default: $RINGLEADER_TOKEN)')
    .option('--log-level <level>', 'trace | debug | info | warn | error | fatal | silent', logLevelOption)
    .action(async (opts: Flags) => {
      const coordinatorToken = readToken(opts.tokenFile);
      const logger = createLogger({ name: 'node', level: opts.logLevel, pretty: false });
      const maxMemoryBytes = opts.maxmemory;
      const metricsPort = opts.metrics ? (opts.metricsPort ?? defaultMetricsPort(opts.port)) : -1;
      const node = await startNode({
        name: opts.name ?? `node-${opts.port === 0 ? process.pid : opts.port}`,
        coordinators: opts.coordinator ?? [DEFAULT_COORDINATOR_URL],
        standalone: opts.standalone,
        standalonePartitions: opts.partitions,
        zone: opts.zone ?? null,
        capacity: opts.capacity,
        coordinatorToken,
        maxMemoryBytes,
        evictionPolicy: opts.maxmemoryPolicy,
        metricsPort,
        server: { host: opts.host, port: opts.port, requirePass: opts.requirepass ?? '', enableFlush: opts.enableFlush, enableDebug: opts.enableDebugCommand },
        ...(opts.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: opts.drainTimeoutMs }),
        leaseMode: opts.leaseMode,
        replication: {
          ...(opts.syncBytesPerSec === undefined ? {} : { syncBytesPerSec: opts.syncBytesPerSec }),
          ...(opts.maxParallelSyncs === undefined ? {} : { maxParallelSyncs: opts.maxParallelSyncs }),
          ...(opts.handoverTimeoutMs === undefined ? {} : { handoverTimeoutMs: opts.handoverTimeoutMs }),
          ...(opts.syncTimeoutMs === undefined ? {} : { syncTimeoutMs: opts.syncTimeoutMs }),
        },
        logger,
      }).catch((err: Error) => {
        // Port in use, coordinator unreachable after retries, name taken...: say so and exit non-zero.
        const hint = (err as { code?: string }).code === 'EADDRINUSE' && metricsPort > 0 && err.message.endsWith(`:${metricsPort}`)
          ? ` (the metrics port, RESP port + 10000 by default: pass --metrics-port 0 for any free port, or --no-metrics)`
          : '';
        logger.fatal({ err: err.message }, `node failed to start: ${err.message}${hint}`);
        console.error(`ringleader node: ${err.message}${hint}`);
        process.exit(1);
      });
      if (maxMemoryBytes > 0) {
        const heap = recommendedHeapLimitMb(maxMemoryBytes);
        const v8heap = process.execArgv.find((a) => a.startsWith('--max-old-space-size'));
        if (v8heap === undefined) logger.warn({ recommended: `--max-old-space-size=${heap}` }, 'start node with NODE_OPTIONS=--max-old-space-size to bound the process heap for this maxmemory');
      }
      // One parseable line for scripts and tests (stdout): the bound ports.
      console.log(`ringleader node listening id=${node.id} address=${node.address} port=${node.port}${node.metricsPort === null ? '' : ` metrics=${node.metricsPort}`}`);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping: leaving the cluster');
        node.close().then(() => process.exit(0), (err: unknown) => {
          logger.error({ err }, 'close failed');
          process.exit(1);
        });
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
