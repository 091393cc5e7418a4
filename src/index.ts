// The package's public face. Grows as components land (client, embedded mode).
export { keySlot, SLOT_COUNT } from './hashing/index.js';
export { PartitionTable, planTable, diffTables, memberIdFor } from './partitioning/index.js';
export { RingleaderError } from './shared/index.js';
export { type ClientOptions, type ClientInput, type GetOrLoadOptions, type LoadResult, type KeyLocation, type MembershipChange, type TopologyChange, type SetOptions } from './client/index.js';
export { Ringleader, type EmbedOptions } from './embedded/index.js';
