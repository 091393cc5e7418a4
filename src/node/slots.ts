import { crc16, SLOT_COUNT } from '../hashing/slot.js';
import type { RequestDecoder } from '../protocol/resp/index.js';

const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/** The Redis Cluster slot of buf[start, end) with the `{tag}` rule, without copying the key. */
export function slotOfRange(buf: Buffer, start: number, end: number): number {
  const open = buf.indexOf(OPEN, start);
  if (open !== -1 && open < end) {
    const close = buf.indexOf(CLOSE, open + 1);
    if (close !== -1 && close < end && close > open + 1) return crc16(buf, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(buf, start, end) & (SLOT_COUNT - 1);
}

/** The slot of request argument i. */
export function slotOfArg(req: RequestDecoder, i: number): number {
  const [buf, start, end] = req.rangeOf(i);
  return slotOfRange(buf, start, end);
}
