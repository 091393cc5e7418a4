/** The coordinator: membership, failure detection, epochs, state persistence, watch streams and the HTTP API. */
export { startCoordinator, type StartCoordinatorOptions, type RunningCoordinator } from './server.js';
export { Coordinator, type EpochRecord, type CoordinatorEvents, type CoordinatorDeps } from './coordinator.js';
export { DEFAULT_COORDINATOR_OPTIONS, derivedLeaseMs, resolveCoordinatorOptions, type CoordinatorOptions, type CoordinatorOptionsInput } from './options.js';
export { FileStateStore, InMemoryStateStore, type StateStore, type CoordinatorState, type PersistedMember } from './state-store.js';
export { nextState, type LifecycleInput } from './lifecycle.js';
export { assignmentFor, locate } from './views.js';
export { CoordinatorMetrics } from './metrics.js';
export { tcpProber, splitAddress, type Prober, type ProbeResult } from './prober.js';
export { RespFencer, type Fencer, type FenceRequest } from './fencer.js';
export { installAuth, isLoopbackHost, tokenMatches, validateToken, MAX_TOKEN_BYTES, type AuthOptions } from './auth.js';
export type { HttpExtras, LeadershipView } from './http.js';
export { KubernetesMemberSource, resolveKubernetesOptions, type KubernetesOptions, type DiscoveredEndpoint, type MemberGate } from './kubernetes.js';
export { EtcdStateStore, EtcdLeadership, resolveEtcdOptions, DEFAULT_ETCD_OPTIONS, type EtcdOptions } from './etcd.js';
