/**
 * Redis Cluster key slots: CRC16-XMODEM (poly 0x1021, init 0) of the hash-tagged key, mod 16384.
 * Identical to Redis so every Redis Cluster client routes a key to the same slot we do.
 */
export const SLOT_COUNT = 16384;

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** CRC16-XMODEM of bytes[start, end). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xff00) ^ CRC16_TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/** The slot of a binary key, honouring the `{tag}` rule: the first `{` with a non-empty `...}` after it. */
export function keySlotOfBytes(key: Uint8Array): number {
  // Plain loops instead of TypedArray#indexOf: for short keys the builtin call costs more than the scan
  // (lookup bench, docs/BENCHMARKS.md placement).
  const n = key.length;
  let open = 0;
  while (open < n && key[open] !== OPEN) open++;
  if (open < n) {
    let close = open + 1;
    while (close < n && key[close] !== CLOSE) close++;
    if (close < n && close > open + 1) return crc16(key, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(key, 0, n) & (SLOT_COUNT - 1);
}

/**
 * The slot of a key given as a string (UTF-8) or bytes. ASCII strings are hashed straight from their char
 * codes, avoiding a Buffer allocation on the client's hot path.
 */
export function keySlot(key: string | Uint8Array): number {
  if (typeof key !== 'string') return keySlotOfBytes(key);
  const n = key.length;
  let open = -1;
  let close = -1;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return keySlotOfBytes(Buffer.from(key, 'utf8'));
    if (open === -1) {
      if (c === OPEN) open = i;
    } else if (close === -1 && c === CLOSE) close = i;
  }
  let start = 0;
  let end = n;
  if (open !== -1 && close > open + 1) {
    start = open + 1;
    end = close;
  }
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xff00) ^ CRC16_TABLE[((crc >> 8) ^ key.charCodeAt(i)) & 0xff]!;
  return crc & (SLOT_COUNT - 1);
}
