import type { Logger } from 'pino';
import { systemClock, type Clock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { Coordinator } from './coordinator.js';
import { isLoopbackHost, validateToken } from './auth.js';
import { isRingleaderError } from '../shared/errors.js';
import { COORDINATOR_ERRORS } from '../protocol/errors/index.js';
import { EtcdLeadership, EtcdStateStore, etcdClient, etcdErrorText, isEtcdUnavailable, resolveEtcdOptions, type EtcdOptions } from './etcd.js';
import { buildHttp, type LeadershipView } from './http.js';
import { KubernetesMemberSource, resolveKubernetesOptions, type KubernetesOptions } from './kubernetes.js';
import { resolveCoordinatorOptions, type CoordinatorOptionsInput } from './options.js';
import { FileStateStore, InMemoryStateStore, type CoordinatorState, type StateStore } from './state-store.js';
import { WatchHub } from './watch-hub.js';
import type { Prober } from './prober.js';
import { RespFencer, type Fencer } from './fencer.js';

export interface StartCoordinatorOptions extends CoordinatorOptionsInput {
  /** TCP port; 0 picks a free one (read it from `url`). Default 8081. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (loopback only unless told otherwise). */
  host?: string;
  /** Directory for members.json. Without it (and without `store`), state lives in memory and a restart forgets it. */
  dataDir?: string;
  /** A state store to use instead of dataDir's FileStateStore (tests, etcd). */
  store?: StateStore;
  /**
   * Bearer token required on every mutating request (and on reads unless `publicReads`). Without one the control
   * plane is open, so the coordinator refuses to listen beyond loopback.
   */
  token?: string | null;
  /** With a token: GET/HEAD (table, members, locate, watch, metrics) need none. */
  publicReads?: boolean;
  /** A fixed cluster id (default: the stored one, else generated at first start). */
  clusterId?: string;
  /**
   * etcd mode: the state lives in etcd and the coordinators sharing `etcd.prefix` elect one leader; the others serve
   * reads and watch streams and answer changes with NOT_LEADER naming the leader. Excludes `dataDir` and `store`.
   */
  etcd?: Partial<EtcdOptions> & Pick<EtcdOptions, 'endpoints'>;
  /** The URL other coordinators, nodes and clients reach this one at (etcd mode; default `http://host:port`). */
  advertiseUrl?: string;
  /**
   * Kubernetes discovery: a joined member holds partitions only while a ready endpoint of this Service's
   * EndpointSlices matches it (by pod name = member name, or by address).
   */
  kubernetes?: Partial<KubernetesOptions> & Pick<KubernetesOptions, 'service'>;
  clock?: Clock;
  logger?: Logger;
  /** The fast failure path's port probe (default: a real TCP connect; tests inject one). */
  prober?: Prober;
  /**
   * The nodes' password (their --requirepass), used to AUTH on the RESP connections that fence copies before a
   * failover (RL.FENCE). '' or absent = the nodes have none.
   */
  nodePassword?: string;
  /** Fences copies before failovers (default: RL.FENCE over RESP with nodePassword; tests inject one). */
  fencer?: Fencer;
}

export interface RunningCoordinator {
  /** Base URL, e.g. http://127.0.0.1:8081. */
  url: string;
  port: number;
  coordinator: Coordinator;
  /** etcd mode: who leads (absent otherwise: a lone coordinator always leads). */
  leadership?: LeadershipView;
  /** Stops accepting requests, ends watch streams, stops timers. Pending unplanned changes are not flushed. */
  close(): Promise<void>;
}

/** Starts a coordinator (state store, logic, HTTP API, watch streams) in this process. */
export async function startCoordinator(options: StartCoordinatorOptions = {}): Promise<RunningCoordinator> {
  const { port = 8081, host = '127.0.0.1', dataDir, store, token = null, publicReads = false, clusterId, etcd, advertiseUrl: _advertise, kubernetes, clock = systemClock, logger = silentLogger(), prober, nodePassword = '', fencer: givenFencer, ...rest } = options;
  if (etcd !== undefined) {
    if (dataDir !== undefined || store !== undefined) throw new TypeError('etcd: use either etcd, dataDir or store');
    return startEtcdCoordinator({ ...options, etcd, port, host, token, publicReads, clock, logger });
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`port must be an integer in 0..65535, got ${port}`);
  if (token !== null) validateToken(token);
  if (clusterId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(clusterId)) throw new TypeError(`clusterId must be 1..64 letters, digits, '.', '_' or '-', got ${JSON.stringify(clusterId)}`);
  if (token === null && !isLoopbackHost(host)) {
    throw new TypeError(`host ${host}: without a token the control plane is unauthenticated, so the coordinator listens on loopback only; set a token (--token-file or RINGLEADER_TOKEN) to listen on ${host}`);
  }
  const resolved = resolveCoordinatorOptions(rest);
  const source = kubernetesSource(kubernetes, clock, logger);
  const stateStore = store ?? (dataDir === undefined ? new InMemoryStateStore() : new FileStateStore(dataDir));
  const fencer = givenFencer ?? new RespFencer(nodePassword, logger);
  let coordinator: Coordinator;
  try {
    coordinator = await Coordinator.open({ options: resolved, store: stateStore, clock, logger, fencer, ...(clusterId === undefined ? {} : { clusterId }), ...(prober ? { prober } : {}) });
  } catch (err) {
    fencer.close();
    throw err;
  }
  const hub = new WatchHub(coordinator, clock, logger);
  const storeKind = store !== undefined ? 'custom' : dataDir === undefined ? 'memory' : 'file';
  const app = buildHttp(coordinator, hub, logger, clock, { auth: { token, publicReads }, storeKind });
  if (token === null) logger.warn({ host }, 'no token configured: the control plane is unauthenticated and listens on loopback only');
  try {
    await app.listen({ port, host });
  } catch (err) {
    hub.close();
    await coordinator.close();
    fencer.close();
    throw err;
  }
  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  source?.attach(coordinator);
  let closing: Promise<void> | null = null;
  return {
    url,
    port: boundPort,
    coordinator,
    close() {
      closing ??= (async () => {
        source?.close();
        hub.close();
        await app.close();
        await coordinator.close();
        fencer.close();
      })();
      return closing;
    },
  };
}

/** etcd mode: an EtcdStateStore, a coordinator that starts as a follower, and the election that may make it lead. */
async function startEtcdCoordinator(options: StartCoordinatorOptions & { etcd: NonNullable<StartCoordinatorOptions['etcd']>; port: number; host: string; token: string | null; publicReads: boolean; clock: Clock; logger: Logger }): Promise<RunningCoordinator> {
  const { port, host, token, publicReads, clusterId, etcd, advertiseUrl, kubernetes, clock, logger } = options;
  const { dataDir: _d, store: _s, token: _t, publicReads: _p, clusterId: _c, etcd: _e, advertiseUrl: _a, kubernetes: _kube, clock: _k, logger: _l, port: _port, host: _host, prober, nodePassword = '', fencer: givenFencer, ...rest } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`port must be an integer in 0..65535, got ${port}`);
  if (token !== null) validateToken(token);
  if (token === null && !isLoopbackHost(host)) throw new TypeError(`host ${host}: without a token the control plane is unauthenticated, so the coordinator listens on loopback only; set a token (--token-file or RINGLEADER_TOKEN) to listen on ${host}`);
  const resolved = resolveCoordinatorOptions(rest);
  const eo = resolveEtcdOptions(etcd);
  const source = kubernetesSource(kubernetes, clock, logger);
  const client = etcdClient(eo);
  const store = new EtcdStateStore(client, eo.prefix);
  // etcd unreachable at start is not fatal: the coordinator starts not ready (/healthz says so, other requests get
  // NOT_READY), its election and follower loops retry with backoff, and it installs the state once etcd answers.
  let initial: { state: CoordinatorState | null; error: string | null };
  try {
    initial = { state: await store.load(), error: null };
  } catch (err) {
    if (!isRingleaderError(err) || err.code !== COORDINATOR_ERRORS.STATE_STORE_FAILED.code || !isEtcdUnavailable(err.cause)) {
      client.close();
      throw err;
    }
    const error = `etcd at ${eo.endpoints.join(',')} unavailable: ${etcdErrorText(err.cause)}`;
    logger.warn({ err: error }, 'etcd unreachable at start: not ready; retrying with backoff');
    initial = { state: null, error };
  }
  const fencer = givenFencer ?? new RespFencer(nodePassword, logger);
  let coordinator: Coordinator;
  try {
    coordinator = await Coordinator.open({ options: resolved, store, clock, logger, fencer, ...(clusterId === undefined ? {} : { clusterId }), ...(prober ? { prober } : {}) }, initial);
  } catch (err) {
    client.close();
    fencer.close();
    throw err;
  }
  await coordinator.follow();
  const hub = new WatchHub(coordinator, clock, logger);
  let leadership: EtcdLeadership | null = null;
  const view = {
    isLeader: () => leadership?.isLeader() ?? false,
    leader: () => leadership?.leader() ?? null,
    status: () => leadership?.status() ?? { ready: initial.error === null, error: initial.error },
  };
  const app = buildHttp(coordinator, hub, logger, clock, { auth: { token, publicReads }, leadership: view, storeKind: 'etcd' });
  try {
    await app.listen({ port, host });
  } catch (err) {
    hub.close();
    await coordinator.close();
    client.close();
    fencer.close();
    throw err;
  }
  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  const self = advertiseUrl ?? (host === '0.0.0.0' || host === '::' ? null : url);
  if (self === null) {
    await app.close();
    hub.close();
    await coordinator.close();
    client.close();
    fencer.close();
    throw new TypeError(`advertiseUrl: listening on ${host}, the coordinator needs the URL others reach it at (--advertise-url)`);
  }
  leadership = new EtcdLeadership(client, store, coordinator, eo, self, clock, logger, initial.error);
  leadership.start();
  source?.attach(coordinator);
  if (token === null) logger.warn({ host }, 'no token configured: the control plane is unauthenticated and listens on loopback only');
  let closing: Promise<void> | null = null;
  return {
    url,
    port: boundPort,
    coordinator,
    leadership,
    close() {
      closing ??= (async () => {
        source?.close();
        hub.close();
        await app.close();
        await leadership!.close();
        await coordinator.close();
        client.close();
        fencer.close();
      })();
      return closing;
    },
  };
}

/**
 * Kubernetes discovery: the EndpointSlice source gates table membership and triggers planning on changes. Built
 * before anything listens (a bad option or kubeconfig fails the start cleanly); `attach` starts it.
 */
function kubernetesSource(input: StartCoordinatorOptions['kubernetes'], clock: Clock, logger: Logger): { close(): void; attach(c: Coordinator): void } | null {
  if (input === undefined) return null;
  let coordinator: Coordinator | null = null;
  const source = new KubernetesMemberSource(resolveKubernetesOptions(input), clock, logger, () => coordinator?.memberSourceChanged());
  return {
    close: () => source.close(),
    attach(c) {
      coordinator = c;
      c.setMemberGate(source);
      source.start();
    },
  };
}
