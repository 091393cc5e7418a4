/**
 * The smart client: `Ringleader.connect({ coordinators })`, routing by the coordinator's partition table over pooled,
 * pipelined RESP connections, with redirects/retries, typed topology events and getOrLoad cold-start protection.
 */
export { Ringleader, type ClientEvents, type MembershipChange, type TopologyChange, type SetOptions, type Value } from './client.js';
export { DEFAULT_CLIENT_OPTIONS, resolveClientOptions, type ClientOptions, type ClientInput } from './options.js';
export { type GetOrLoadOptions, type LoadResult } from './loader.js';
export { type KeyLocation, locateKey, groupBySlot } from './router.js';
export { parseRedirect, type Redirect } from './redirect.js';
export { decideRetry, type AttemptFailure, type RetryDecision } from './retry.js';
export { SingleFlight } from './single-flight.js';
export { type LocalStore } from './local-store.js';
export { type TableSource, CoordinatorTableSource } from './table-source.js';
