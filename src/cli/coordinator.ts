// `ringleader coordinator`: flags -> options -> startCoordinator. No logic here.
import type { Command } from 'commander';
import { startCoordinator, resolveCoordinatorOptions, DEFAULT_COORDINATOR_OPTIONS, type StartCoordinatorOptions } from '../coordinator/index.js';
import { createLogger } from '../shared/logger.js';
import { asUsageError, choiceOption, intOption, logLevelOption, numberOption, readNodePassword, readToken, UsageError } from './options.js';

/** Option names in resolver errors -> the flags that set them. */
const FLAG_OF: Record<string, string> = {
  heartbeatMs: '--heartbeat-ms', leaveTimeoutMs: '--leave-timeout-ms', suspectAfterMs: '--suspect-after-ms', deadAfterMs: '--dead-after-ms', planDebounceMs: '--plan-debounce-ms', probeTimeoutMs: '--probe-timeout-ms', leaseMs: '--lease-ms',
  fenceTimeoutMs: '--fence-timeout-ms', handoverTimeoutMs: '--handover-timeout-ms', replication: '--replication', minInSync: '--min-in-sync', lostPartitions: '--lost-partitions',
  partitionCount: '--partitions', replicas: '--replicas', virtualNodes: '--vnodes', loadFactor: '--load-factor',
};

interface Flags {
  port: number;
  host: string;
  dataDir?: string;
  partitions: number;
  replicas: number;
  vnodes: number;
  loadFactor: number;
  heartbeatMs: number;
  suspectAfterMs?: number;
  deadAfterMs?: number;
  planDebounceMs: number;
  leaveTimeoutMs: number;
  probeTimeoutMs: number;
  leaseMs?: number;
  fenceTimeoutMs: number;
  handoverTimeoutMs: number;
  nodePasswordFile?: string;
  replication: 'sync' | 'async';
  minInSync: number;
  lostPartitions: 'auto' | 'unavailable' | 'recreate';
  logLevel?: string;
  tokenFile?: string;
  publicReads: boolean;
  clusterId?: string;
  store?: string;
  etcd?: string;
  etcdPrefix: string;
  etcdLeaseTtl: number;
  advertiseUrl?: string;
  membersFrom: string;
  k8sService?: string;
  k8sNamespace?: string;
}

/** The HA, discovery and auth flags -> startCoordinator options; a contradiction is a UsageError. */
function haOptions(flags: Flags): Partial<StartCoordinatorOptions> & { kind: string } {
  const kind = flags.store ?? (flags.etcd !== undefined ? 'etcd' : flags.dataDir !== undefined ? 'file' : 'memory');
  if (!['file', 'memory', 'etcd'].includes(kind)) throw new UsageError(`--store must be file, memory or etcd, got ${JSON.stringify(kind)}`);
  if (kind === 'etcd' && flags.etcd === undefined) throw new UsageError('--store etcd needs --etcd URL[,URL...]');
  if (kind === 'etcd' && flags.dataDir !== undefined) throw new UsageError('--data-dir and --store etcd exclude each other');
  if (kind === 'file' && flags.dataDir === undefined) throw new UsageError('--store file needs --data-dir');
  if (flags.membersFrom !== 'registration' && flags.membersFrom !== 'kubernetes') throw new UsageError(`--members-from must be registration or kubernetes, got ${JSON.stringify(flags.membersFrom)}`);
  if (flags.membersFrom === 'kubernetes' && flags.k8sService === undefined) throw new UsageError('--members-from kubernetes needs --k8s-service NAME');
  return {
    kind,
    token: readToken(flags.tokenFile),
    nodePassword: readNodePassword(flags.nodePasswordFile),
    publicReads: flags.publicReads,
    ...(flags.clusterId === undefined ? {} : { clusterId: flags.clusterId }),
    ...(kind === 'etcd' ? { etcd: { endpoints: flags.etcd!.split(',').map((u) => u.trim()).filter(Boolean), prefix: flags.etcdPrefix, leaseTtlSec: flags.etcdLeaseTtl } } : {}),
    ...(flags.advertiseUrl === undefined ? {} : { advertiseUrl: flags.advertiseUrl }),
    ...(flags.membersFrom === 'kubernetes' ? { kubernetes: { service: flags.k8sService!, ...(flags.k8sNamespace === undefined ? {} : { namespace: flags.k8sNamespace }) } } : {}),
  };
}

export function register(program: Command): void {
  const d = DEFAULT_COORDINATOR_OPTIONS;
  program
    .command('coordinator')
    .description('run the coordinator: membership, failure detection, partition tables, watch streams (HTTP /v1)')
    .option('--port <port>', 'HTTP port (0 = any free port)', intOption('--port', 0, 65535), 8081)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--data-dir <dir>', 'directory for members.json (state survives restarts); omit to keep state in memory')
    .option('--partitions <n>', 'number of partitions (1..16384)', intOption('--partitions', 1, 16384), d.placement.partitionCount)
    .option('--replicas <r>', 'copies per partition, primary included (1..8)', intOption('--replicas', 1, 8), d.placement.replicas)
    .option('--vnodes <v>', 'virtual nodes per member on the hash ring', intOption('--vnodes', 1, 10000), d.placement.virtualNodes)
    .option('--load-factor <f>', 'bounded-load cap factor, in (1, 100]', numberOption('--load-factor', 1, 100, true), d.placement.loadFactor)
    .option('--heartbeat-ms <ms>', 'heartbeat interval told to members', intOption('--heartbeat-ms', 10, 60_000), d.heartbeatMs)
    .option('--suspect-after-ms <ms>', `silence before a member is suspect (default ${d.suspectAfterMs / d.heartbeatMs} heartbeat intervals: ${d.suspectAfterMs} ms at ${d.heartbeatMs} ms)`, intOption('--suspect-after-ms', 1, 600_000))
    .option('--dead-after-ms <ms>', `silence before a suspect member is dead (default ${d.deadAfterMs / d.heartbeatMs} heartbeat intervals: ${d.deadAfterMs} ms at ${d.heartbeatMs} ms)`, intOption('--dead-after-ms', 1, 600_000))
    .option('--plan-debounce-ms <ms>', 'quiet time that coalesces membership changes into one epoch', intOption('--plan-debounce-ms', 0, 60_000), d.planDebounceMs)
    .option('--leave-timeout-ms <ms>', 'longest a leaving member waits for its copies to be handed over before they are dropped', intOption('--leave-timeout-ms', 1, 24 * 3_600_000), d.leaveTimeoutMs)
    .option('--probe-timeout-ms <ms>', 'fast failure path: when a node\'s watch stream closes, probe its port this long; a refused connection = dead at once (0 = off, heartbeats only)', intOption('--probe-timeout-ms', 0, 60_000), d.probeTimeoutMs)
    .option('--lease-ms <ms>', 'how long an answered heartbeat lets a node serve (reads included) without another; < --dead-after-ms (default: dead-after − max(200 ms, 20%))', intOption('--lease-ms', 1, 600_000))
    .option('--fence-timeout-ms <ms>', 'before a failover, wait this long for the candidate copies to answer RL.FENCE (the freshest answer is promoted; 0 = no fencing, target order)', intOption('--fence-timeout-ms', 0, 60_000), d.fenceTimeoutMs)
    .option('--handover-timeout-ms <ms>', 'abandon a hand-over whose new primary has not reported serving after this long and fail over instead (0 = never)', intOption('--handover-timeout-ms', 0, 24 * 3_600_000), d.handoverTimeoutMs)
    .option('--node-password-file <file>', 'the nodes\' --requirepass, for the coordinator\'s RESP connections to them (fencing); default: $RINGLEADER_NODE_PASSWORD, else none')
    .option('--replication <mode>', 'sync: a write is acknowledged after every in-sync backup applied it (no acknowledged write lost when a primary dies); async: at once (faster; a crash loses what backups had not received)', choiceOption('--replication', ['sync', 'async'] as const), d.replication)
    .option('--min-in-sync <n>', 'refuse writes (NOREPLICAS) to a partition with fewer in-sync copies, primary included', intOption('--min-in-sync', 1, 16), d.minInSync)
    .option('--lost-partitions <policy>', 'a partition that lost every copy: unavailable (CLUSTERDOWN until `ringleader recreate-lost`), recreate (empty at once), or auto (unavailable with --replicas >= 2, recreate with 1)', choiceOption('--lost-partitions', ['auto', 'unavailable', 'recreate'] as const), d.lostPartitions)
    .option('--token-file <file>', 'bearer token required on the control plane (default: $RINGLEADER_TOKEN; without one, loopback only)')
    .option('--public-reads', 'with a token: table, members, locate, watch and metrics need none', false)
    .option('--store <kind>', 'state store: file (with --data-dir), memory, or etcd (high availability: several coordinators, one leader)')
    .option('--etcd <urls>', 'etcd client URLs, comma-separated (implies --store etcd)')
    .option('--etcd-prefix <prefix>', 'etcd key prefix of this cluster', '/ringleader/default')
    .option('--etcd-lease-ttl <s>', 'leader lease TTL in seconds: a crashed leader is replaced after about this long', intOption('--etcd-lease-ttl', 1, 60), 2)
    .option('--advertise-url <url>', 'the URL nodes, clients and other coordinators reach this one at (etcd mode; default http://host:port)')
    .option('--members-from <source>', 'registration (nodes join by themselves) or kubernetes (also require a ready endpoint of --k8s-service)', 'registration')
    .option('--k8s-service <name>', 'the node Service whose EndpointSlices are watched (with --members-from kubernetes)')
    .option('--k8s-namespace <ns>', 'its namespace (default: this pod\'s namespace, else default)')
    .option('--cluster-id <id>', 'fixed cluster id (default: the stored one, else generated at first start)')
    .option('--log-level <level>', 'trace | debug | info | warn | error | fatal | silent', logLevelOption)
    .action(async (flags: Flags) => {
      const { kind, ...ha } = haOptions(flags);
      // Detection deadlines scale with the heartbeat interval unless given explicitly.
      const scale = flags.heartbeatMs / d.heartbeatMs;
      const options: StartCoordinatorOptions = {
        port: flags.port,
        host: flags.host,
        dataDir: flags.dataDir,
        heartbeatMs: flags.heartbeatMs,
        suspectAfterMs: flags.suspectAfterMs ?? Math.round(d.suspectAfterMs * scale),
        deadAfterMs: flags.deadAfterMs ?? Math.round(d.deadAfterMs * scale),
        planDebounceMs: flags.planDebounceMs,
        planMaxDelayMs: Math.max(d.planMaxDelayMs, flags.planDebounceMs),
        leaveTimeoutMs: flags.leaveTimeoutMs,
        probeTimeoutMs: flags.probeTimeoutMs,
        ...(flags.leaseMs === undefined ? {} : { leaseMs: flags.leaseMs }),
        fenceTimeoutMs: flags.fenceTimeoutMs,
        handoverTimeoutMs: flags.handoverTimeoutMs,
        replication: flags.replication,
        minInSync: flags.minInSync,
        lostPartitions: flags.lostPartitions,
        placement: { partitionCount: flags.partitions, replicas: flags.replicas, virtualNodes: flags.vnodes, loadFactor: flags.loadFactor },
      };
      // Flags that contradict each other (--suspect-after-ms below --heartbeat-ms...) are usage errors: one line, exit 2.
      let leaseMs: number;
      try {
        const { port: _p, host: _h, dataDir: _d, ...rest } = options;
        leaseMs = resolveCoordinatorOptions(rest).leaseMs;
      } catch (err) {
        throw asUsageError(err, FLAG_OF);
      }
      const logger = createLogger({ name: 'coordinator', level: flags.logLevel });
      let running;
      try {
        running = await startCoordinator({ ...options, ...(kind === 'etcd' ? { dataDir: undefined } : {}), ...ha, logger });
      } catch (err) {
        logger.fatal({ err }, `coordinator failed to start: ${(err as Error).message}`);
        console.error(`ringleader coordinator: ${(err as Error).message}`);
        process.exitCode = 1;
        return;
      }
      const auth = ha.token === null || ha.token === undefined ? 'none (loopback only)' : flags.publicReads ? 'token for changes' : 'token';
      logger.info({ listening: running.url, epoch: running.coordinator.epoch, store: kind, dataDir: flags.dataDir ?? null, auth, leaseMs }, `coordinator listening on ${running.url} (dashboard: ${running.url}/)`);
      const stop = (signal: string) => {
        logger.info({ signal }, 'coordinator stopping');
        // State is written before every publish, so nothing is lost by not waiting: bound the shutdown.
        setTimeout(() => {
          logger.warn({ signal }, 'coordinator did not close within 5 s; exiting');
          process.exit(0);
        }, 5000).unref();
        void running.close().then(() => process.exit(0));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
