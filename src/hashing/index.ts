export { SLOT_COUNT, crc16, keySlot, keySlotOfBytes } from './slot.js';
export { xxhash64, type Hash64 } from './xxhash64.js';
export { HashRing, virtualNodeKey, partitionKey, type RingMember } from './ring.js';
export { boundedLoadPlacement, virtualNodesFor, type PlacementMember, type BoundedLoadOptions, type Placement } from './bounded.js';
