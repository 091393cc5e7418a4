export { SLOT_COUNT, crc16, keySlot, keySlotOfBytes } from './slot.js';
