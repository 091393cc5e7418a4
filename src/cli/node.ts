// `ringleader node`: flags -> NodeOptions -> startNode(). No logic here.
import type { Command } from 'commander';
import { startNode } from '../node/index.js';
import { EVICTION_POLICIES, parseBytes, recommendedHeapLimitMb, type EvictionPolicy } from '../storage/index.js';
import { createLogger } from '../shared/logger.js';
import { readToken } from './options.js';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got ${v}`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('node')
    .description('a cache node: RESP server (Redis Cluster compatible) that joins a coordinator and serves its partitions')
    .option('--coordinator <urls>', 'coordinator URL(s), comma-separated', 'http://127.0.0.1:8081')
    .option('--port <port>', 'RESP port (0 = any free port; the bound port is printed)', int('port'), 7001)
    .option('--host <host>', 'interface to listen on and to advertise', '127.0.0.1')
    .option('--name <name>', 'member name, unique in the cluster (default node-<port>)')
    .option('--zone <zone>', 'failure zone (backups go to another zone when possible)')
    .option('--capacity <n>', 'relative weight for placement', (v) => Number(v), 1)
    .option('--maxmemory <size>', 'memory budget for keys and values, e.g. 256mb (0 = unlimited)', '0')
    .option('--maxmemory-policy <policy>', `${EVICTION_POLICIES.join(' | ')}`, 'allkeys-lru')
    .option('--requirepass <password>', 'require AUTH with this password')
    .option('--metrics-port <port>', 'serve Prometheus /metrics on this port (0 = any free port)', int('metrics-port'))
    .option('--partitions <n>', 'partition count in --standalone mode', int('partitions'), 256)
    .option('--standalone', 'own every slot without a coordinator (benchmarks, local use)', false)
    .option('--enable-flush', 'allow FLUSHALL / FLUSHDB', false)
    .option('--drain-timeout-ms <ms>', 'on SIGTERM, keep serving up to this long while partitions are handed to other nodes (0 = leave at once)', int('drain-timeout-ms'))
    .option('--sync-bytes-per-sec <n>', 'cap on snapshot bytes per second sent to new copies (0 = unlimited; the live stream is never throttled)', int('sync-bytes-per-sec'))
    .option('--max-parallel-syncs <n>', 'snapshots this node sends at once', int('max-parallel-syncs'))
    .option('--handover-timeout-ms <ms>', 'a new primary waits this long for the old one\'s end-of-term marker', int('handover-timeout-ms'))
    .option('--token-file <file>', 'bearer token presented to the coordinators (default: $RINGLEADER_TOKEN)')
    .option('--log-level <level>', 'trace | debug | info | warn | error | silent')
    .action(async (opts: {
      tokenFile?: string;
      coordinator: string; port: number; host: string; name?: string; zone?: string; capacity: number; maxmemory: string; maxmemoryPolicy: string;
      requirepass?: string; metricsPort?: number; partitions: number; standalone: boolean; enableFlush: boolean; logLevel?: string;
      drainTimeoutMs?: number; syncBytesPerSec?: number; maxParallelSyncs?: number; handoverTimeoutMs?: number;
    }) => {
      const logger = createLogger({ name: 'node', level: opts.logLevel, pretty: false });
      if (!EVICTION_POLICIES.includes(opts.maxmemoryPolicy as EvictionPolicy)) throw new Error(`--maxmemory-policy must be one of ${EVICTION_POLICIES.join(', ')}`);
      const maxMemoryBytes = parseBytes(opts.maxmemory);
      let coordinatorToken: string | null;
      try {
        coordinatorToken = readToken(opts.tokenFile);
      } catch (err) {
        console.error(`ringleader node: ${(err as Error).message}`);
        process.exit(1);
      }
      const node = await startNode({
        name: opts.name ?? `node-${opts.port === 0 ? process.pid : opts.port}`,
        coordinators: opts.coordinator.split(',').map((s) => s.trim()).filter(Boolean),
        standalone: opts.standalone,
        standalonePartitions: opts.partitions,
        zone: opts.zone ?? null,
        capacity: opts.capacity,
        coordinatorToken,
        maxMemoryBytes,
        evictionPolicy: opts.maxmemoryPolicy as EvictionPolicy,
        metricsPort: opts.metricsPort ?? -1,
        server: { host: opts.host, port: opts.port, requirePass: opts.requirepass ?? '', enableFlush: opts.enableFlush },
        ...(opts.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: opts.drainTimeoutMs }),
        replication: {
          ...(opts.syncBytesPerSec === undefined ? {} : { syncBytesPerSec: opts.syncBytesPerSec }),
          ...(opts.maxParallelSyncs === undefined ? {} : { maxParallelSyncs: opts.maxParallelSyncs }),
          ...(opts.handoverTimeoutMs === undefined ? {} : { handoverTimeoutMs: opts.handoverTimeoutMs }),
        },
        logger,
      }).catch((err: Error) => {
        // Port in use, coordinator unreachable after retries, name taken...: say so and exit non-zero.
        logger.fatal({ err: err.message }, `node failed to start: ${err.message}`);
        console.error(`ringleader node: ${err.message}`);
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
