import { crc16, SLOT_COUNT } from '../hashing/slot.js';
import type { RequestDecoder } from '../protocol/resp/index.js';

const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/**
 * The Redis Cluster slot of buf[start, end) with the `{tag}` rule, without copying the key. The braces are looked for
 * within the key only (a Buffer.indexOf would search the rest of the pipelined batch behind it).
 */
export function slotOfRange(buf: Buffer, start: number, end: number): number {
  let open = start;
  while (open < end && buf[open] !== OPEN) open++;
  if (open < end) {
    let close = open + 1;
    while (close < end && buf[close] !== CLOSE) close++;
    if (close < end && close > open + 1) return crc16(buf, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(buf, start, end) & (SLOT_COUNT - 1);
}

/** The slot of request argument i. */
export function slotOfArg(req: RequestDecoder, i: number): number {
  return slotOfRange(req.argBuffer(i), req.argStart(i), req.argEnd(i));
}
