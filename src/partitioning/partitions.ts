import { SLOT_COUNT } from '../hashing/slot.js';

export const MAX_PARTITIONS = SLOT_COUNT;

/** partition(slot) = floor(slot * P / 16384): partitions are contiguous slot ranges. */
export function partitionOfSlot(slot: number, partitionCount: number): number {
  return Math.floor((slot * partitionCount) / SLOT_COUNT);
}

/** The inclusive slot range [first, last] of a partition; the inverse of partitionOfSlot. */
export function slotRange(partition: number, partitionCount: number): [first: number, last: number] {
  const first = Math.ceil((partition * SLOT_COUNT) / partitionCount);
  const last = Math.ceil(((partition + 1) * SLOT_COUNT) / partitionCount) - 1;
  return [first, last];
}
