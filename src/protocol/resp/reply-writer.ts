/**
 * Encodes server replies in RESP2 or RESP3 into a batch: a command handler writes its reply, the server takes the
 * whole batch after a socket read and sends it with one write. Pure: no sockets.
 *
 * Why a slab: replies are written at increasing offsets of a 64 KB scratch buffer and `take()` hands out a view of
 * the batch (no copy); a fresh slab is allocated when the current one fills up, like Node's Buffer pool, so bytes a
 * socket still holds are never overwritten. Values ≥ BIG_VALUE_BYTES are passed by reference, not copied.
 *
 * RESP2 fallbacks (what Redis sends when the client did not say HELLO 3): null → `$-1`, map → flat array of 2N,
 * set → array, double → bulk string, boolean → integer 1/0, verbatim → bulk string.
 */
import { asLatin1, type Latin1Buffer } from './latin1.js';

const SLAB_BYTES = 64 * 1024;
/** Bulk values at least this large are sent as their own chunk (Buffers by reference) instead of going through the slab. */
const BIG_VALUE_BYTES = 16 * 1024;

const CRLF = Buffer.from('\r\n', 'latin1');

export class ReplyWriter {
  /** RESP3 when true (after HELLO 3); change it between commands only. */
  resp3 = false;
  /** Error replies written so far, and the last one (the server counts them per prefix, as INFO errorstats). */
  errors = 0;
  lastError = '';
  private slab: Latin1Buffer = asLatin1(Buffer.allocUnsafe(SLAB_BYTES));
  /** The batch is slab[start, len) plus, before it, the chunks in `parts`. */
  private start = 0;
  private len = 0;
  private parts: Buffer[] = [];
  private partsBytes = 0;

  /** Bytes in the current batch (also a mark: `splitReplies` cuts the taken batch there). */
  get pending(): number {
    return this.partsBytes + this.len - this.start;
  }

  /**
   * Takes the batch: zero, one or several chunks to write in order (one write when a single chunk). The returned
   * views stay valid: the writer never writes to those bytes again.
   */
  take(): Buffer[] {
    const out = this.parts;
    if (this.len > this.start) out.push(this.slab.subarray(this.start, this.len));
    this.start = this.len;
    if (out.length !== 0) {
      this.parts = [];
      this.partsBytes = 0;
    }
    return out;
  }

  /** Drops the batch (e.g. the connection closed before writing). */
  discard(): void {
    this.start = this.len;
    this.parts = [];
    this.partsBytes = 0;
  }

  private ensure(bytes: number): void {
    if (this.len + bytes <= this.slab.length) return;
    // Move the unfinished batch to a new slab big enough for it plus this write.
    const batch = this.len - this.start;
    const fresh = asLatin1(Buffer.allocUnsafe(Math.max(SLAB_BYTES, (batch + bytes) * 2)));
    this.slab.copy(fresh, 0, this.start, this.len);
    this.slab = fresh;
    this.start = 0;
    this.len = batch;
  }

  /** Pre-encoded bytes (constants such as `+OK\r\n`). */
  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    this.len += bytes.copy(this.slab, this.len);
  }

  private line(prefix: number, text: string): void {
    this.ensure(text.length + 3);
    const s = this.slab;
    s[this.len++] = prefix;
    this.len += s.latin1Write(text, this.len);
    s[this.len++] = 13;
    s[this.len++] = 10;
  }

  private header(prefix: number, n: number): void {
    this.ensure(24);
    const s = this.slab;
    s[this.len++] = prefix;
    this.writeInt(n);
    s[this.len++] = 13;
    s[this.len++] = 10;
  }

  private writeInt(n: number): void {
    const s = this.slab;
    if (n >= 0 && n < 10) {
      s[this.len++] = 48 + n;
      return;
    }
    if (n >= 10 && n < 100) {
      s[this.len++] = 48 + ((n / 10) | 0);
      s[this.len++] = 48 + (n % 10);
      return;
    }
    this.len += s.latin1Write(String(n), this.len);
  }

  /** `+text` (no CR/LF inside: they are replaced by spaces, as Redis does for status replies). */
  simple(text: string): void {
    this.line(43, sanitize(text));
  }

  /** `-message`; `message` includes the prefix (`ERR ...`, `MOVED 3999 127.0.0.1:7002`). */
  error(message: string): void {
    this.errors++;
    this.lastError = message;
    this.line(45, sanitize(message));
  }

  /** `:n`. A number past 2^53 (a far expiry time) is printed as the nearest int64, never in exponent form. */
  integer(n: number | bigint): void {
    if (typeof n === 'bigint') {
      this.line(58, n.toString());
      return;
    }
    if (!Number.isSafeInteger(n)) {
      this.line(58, unsafeIntegerText(n));
      return;
    }
    this.ensure(24);
    const s = this.slab;
    s[this.len++] = 58;
    this.writeInt(n);
    s[this.len++] = 13;
    s[this.len++] = 10;
  }

  /** A bulk string from bytes or a latin1 binary string (one char per byte, as the store keeps values). */
  bulk(v: Buffer | string): void {
    const n = v.length;
    if (n >= BIG_VALUE_BYTES) {
      // Big values get a chunk of their own (a string is converted once): the slab never grows to a value's size.
      this.header(36, n);
      this.flushToParts();
      this.parts.push(typeof v === 'string' ? Buffer.from(v, 'latin1') : v, CRLF);
      this.partsBytes += n + 2;
      return;
    }
    this.ensure(n + 16);
    const s = this.slab;
    s[this.len++] = 36;
    this.writeInt(n);
    s[this.len++] = 13;
    s[this.len++] = 10;
    if (typeof v === 'string') this.len += s.latin1Write(v, this.len);
    else this.len += v.copy(s, this.len);
    s[this.len++] = 13;
    s[this.len++] = 10;
  }

  /** A bulk string from text in UTF-8 (INFO, CLUSTER NODES...). */
  text(v: string): void {
    this.bulk(Buffer.from(v, 'utf8'));
  }

  /** A RESP3 verbatim string (`=N\r\ntxt:...`); a bulk string in RESP2. */
  verbatim(v: string): void {
    if (!this.resp3) return this.text(v);
    const b = Buffer.from(v, 'utf8');
    this.header(61, b.length + 4);
    this.ensure(b.length + 6);
    this.len += this.slab.latin1Write('txt:', this.len);
    this.len += b.copy(this.slab, this.len);
    this.slab[this.len++] = 13;
    this.slab[this.len++] = 10;
  }

  private flushToParts(): void {
    if (this.len > this.start) {
      const v = this.slab.subarray(this.start, this.len);
      this.parts.push(v);
      this.partsBytes += v.length;
      this.start = this.len;
    }
  }

  /** The null of a missing value: `$-1` (RESP2) or `_` (RESP3). */
  nil(): void {
    this.raw(this.resp3 ? NULL3 : NULL_BULK);
  }

  /** The null of a missing aggregate: `*-1` (RESP2) or `_` (RESP3). */
  nilArray(): void {
    this.raw(this.resp3 ? NULL3 : NULL_ARRAY);
  }

  array(n: number): void {
    this.header(42, n);
  }

  /** A map of n pairs (`%n`); RESP2: an array of 2n. Write key, value, key, value... after it. */
  map(n: number): void {
    if (this.resp3) this.header(37, n);
    else this.header(42, n * 2);
  }

  set(n: number): void {
    this.header(this.resp3 ? 126 : 42, n);
  }

  /** A double (`,1.5`); RESP2: a bulk string. `text` overrides the formatting (e.g. INCRBYFLOAT's exact text). */
  double(x: number): void {
    const t = Number.isFinite(x) ? String(x) : x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
    if (this.resp3) this.line(44, t);
    else this.bulk(t);
  }

  /** A big number (`(digits`); RESP2: a bulk string. */
  bignum(digits: string): void {
    if (this.resp3) this.line(40, digits);
    else this.bulk(digits);
  }

  /** RESP3 attributes (`|n`, n key/value pairs, then the reply they describe). Write nothing in RESP2. */
  attribute(n: number): void {
    this.header(124, n);
  }

  /** A RESP3 push (`>n`, out-of-band data). RESP2 has none: callers reply an error instead. */
  push(n: number): void {
    this.header(62, n);
  }

  boolean(b: boolean): void {
    if (this.resp3) this.raw(b ? TRUE3 : FALSE3);
    else this.raw(b ? ONE : ZERO);
  }
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function unsafeIntegerText(n: number): string {
  if (Number.isNaN(n)) return '0';
  if (n >= 2 ** 63) return INT64_MAX.toString();
  if (n <= -(2 ** 63)) return INT64_MIN.toString();
  return BigInt(Math.trunc(n)).toString();
}

function sanitize(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]+/g, ' ') : text;
}

const NULL_BULK = Buffer.from('$-1\r\n', 'latin1');
const NULL_ARRAY = Buffer.from('*-1\r\n', 'latin1');
const NULL3 = Buffer.from('_\r\n', 'latin1');
const TRUE3 = Buffer.from('#t\r\n', 'latin1');
const FALSE3 = Buffer.from('#f\r\n', 'latin1');
const ONE = Buffer.from(':1\r\n', 'latin1');
const ZERO = Buffer.from(':0\r\n', 'latin1');

/** Common constant replies, pre-encoded. */
export const REPLY_OK = Buffer.from('+OK\r\n', 'latin1');
export const REPLY_PONG = Buffer.from('+PONG\r\n', 'latin1');
export const REPLY_ZERO = ZERO;
export const REPLY_ONE = ONE;
export const REPLY_EMPTY_ARRAY = Buffer.from('*0\r\n', 'latin1');

/** Splits chunks taken from a ReplyWriter at byte `at`: the replies before a mark and those after it. Pure. */
export function splitReplies(chunks: readonly Buffer[], at: number): [Buffer[], Buffer[]] {
  const head: Buffer[] = [];
  const tail: Buffer[] = [];
  let pos = 0;
  for (const c of chunks) {
    if (pos + c.length <= at) head.push(c);
    else if (pos >= at) tail.push(c);
    else {
      head.push(c.subarray(0, at - pos));
      tail.push(c.subarray(at - pos));
    }
    pos += c.length;
  }
  return [head, tail];
}
