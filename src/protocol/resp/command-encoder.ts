/**
 * Encodes commands as RESP arrays of bulk strings (`*N\r\n$len\r\narg\r\n...`), the only form clients send.
 * Pure. One allocation per command: the total size is computed first, then every part is written in place.
 */
export type CommandArg = string | Buffer | number;

/** Encodes one command. Strings are UTF-8; numbers are written in decimal (integers as such, others via String()). */
export function encodeCommand(args: readonly CommandArg[]): Buffer {
  const n = args.length;
  // Measure: header + for each arg "$<len>\r\n<bytes>\r\n".
  const lens = new Array<number>(n);
  const strs = new Array<string | Buffer>(n);
  let total = 1 + digits(n) + 2;
  for (let i = 0; i < n; i++) {
    const a = args[i]!;
    const v = typeof a === 'number' ? String(a) : a;
    const len = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
    strs[i] = v;
    lens[i] = len;
    total += 1 + digits(len) + 2 + len + 2;
  }
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  out[p++] = 42; // '*'
  p += out.write(String(n), p, 'latin1');
  out[p++] = 13;
  out[p++] = 10;
  for (let i = 0; i < n; i++) {
    const v = strs[i]!;
    const len = lens[i]!;
    out[p++] = 36; // '$'
    p += out.write(String(len), p, 'latin1');
    out[p++] = 13;
    out[p++] = 10;
    if (typeof v === 'string') p += out.write(v, p, len, 'utf8');
    else p += v.copy(out, p);
    out[p++] = 13;
    out[p++] = 10;
  }
  return out;
}

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}
