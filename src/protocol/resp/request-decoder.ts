/**
 * An incremental RESP request decoder for the server's hot path: feed it socket chunks split anywhere, then call
 * `next()` until it returns 0; each positive return is one complete command whose arguments are read through
 * `str(i)` / `arg(i)` / `argLength(i)` until the next `feed()` or `next()`. Pure: no sockets, no timers.
 *
 * Requests are multibulk (`*N\r\n$len\r\narg\r\n...`, what every client library sends) or inline (`PING\r\n`, what
 * telnet and redis-benchmark's first PING send). Limits and error texts follow Redis (networking.c): a protocol error
 * throws a RespProtocolError; the server replies `-ERR <message>` and closes the connection, as Redis does.
 *
 * Zero-copy: when a command arrives inside one chunk, its arguments are offsets into that chunk. A command split
 * across chunks is assembled in an owned buffer that grows geometrically (amortized linear, whatever the split), and
 * parsing resumes from the last complete argument rather than from the frame start, so a million-argument MSET
 * arriving in 64 KB pieces costs O(size), not O(size²).
 */

/** A malformed or over-limit request. `message` is Redis's text (`Protocol error: invalid multibulk length`...). */
export class RespProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespProtocolError';
  }
}

export interface RequestDecoderLimits {
  /** Largest bulk argument (bytes); Redis's proto-max-bulk-len (512 MB). */
  maxBulkBytes: number;
  /** Most arguments in one multibulk command; Redis accepts up to INT_MAX, we default to 1M (1024×1024, Redis ≤ 3). */
  maxMultibulkCount: number;
  /** Longest inline command line, and longest `*N` / `$N` header line (Redis's PROTO_INLINE_MAX_SIZE, 64 KB). */
  maxInlineBytes: number;
  /** Most bytes buffered for one incomplete command (Redis's client-query-buffer-limit, 1 GB). */
  maxQueryBufferBytes: number;
}

export const DEFAULT_REQUEST_DECODER_LIMITS: Readonly<RequestDecoderLimits> = Object.freeze({
  maxBulkBytes: 512 * 1024 * 1024,
  maxMultibulkCount: 1024 * 1024,
  maxInlineBytes: 64 * 1024,
  maxQueryBufferBytes: 1024 * 1024 * 1024,
});

/** Redis's limits for connections that have not authenticated yet (when a password is set): 10 args of ≤ 16 KB. */
export const UNAUTHENTICATED_LIMITS = Object.freeze({ maxMultibulkCount: 10, maxBulkBytes: 16 * 1024 });

/** Merges and validates; throws a TypeError naming the bad limit. */
export function resolveRequestDecoderLimits(input: Partial<RequestDecoderLimits> = {}): RequestDecoderLimits {
  const o = { ...DEFAULT_REQUEST_DECODER_LIMITS, ...input };
  for (const k of Object.keys(DEFAULT_REQUEST_DECODER_LIMITS) as Array<keyof RequestDecoderLimits>) {
    const v = o[k];
    if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`RequestDecoderLimits.${k} must be a positive integer, got ${String(v)}`);
  }
  return o;
}

import { asLatin1 } from './latin1.js';

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const MIN_OWNED = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/** Parses a non-negative-or-negative decimal in buf[start, end); NaN when not a canonical integer. */
function parseIntRange(buf: Buffer, start: number, end: number): number {
  if (start >= end || end - start > 18) return NaN;
  let i = start;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
    if (i === end) return NaN;
  }
  let n = 0;
  for (; i < end; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return neg ? -n : n;
}

export class RequestDecoder {
  private limits: RequestDecoderLimits;
  /** Bytes to parse live in buf[pos, end). `owned`: buf is our growable buffer (else a caller's chunk). */
  private buf: Buffer = EMPTY;
  private pos = 0;
  private end = 0;
  private owned = false;
  /** Resumable multibulk state: argc of the frame being read (-1 = none), args read so far, where the next arg starts. */
  private frameArgc = -1;
  private argsRead = 0;
  private scan = 0;
  /** Bytes the current frame needs in buf before parsing is worth retrying (0 = try now). */
  private need = 0;
  /** Waiting for a line terminator: nothing to do until a chunk with an LF arrives. */
  private waitLine = false;
  private starts = new Int32Array(16);
  private ends = new Int32Array(16);
  /** Inline commands: their (unescaped) arguments. Null for multibulk. */
  private inline: Buffer[] | null = null;
  /** Argument count of the current command. */
  argc = 0;
  /**
   * Set while the client has not authenticated (with tighter limits): over-limit errors then say
   * "unauthenticated multibulk length" / "unauthenticated bulk length", as Redis does.
   */
  unauthenticated = false;

  constructor(limits: Partial<RequestDecoderLimits> = {}) {
    this.limits = resolveRequestDecoderLimits(limits);
  }

  /** Replaces the limits (e.g. after AUTH lifts the unauthenticated ones); applies from the next command header. */
  setLimits(limits: Partial<RequestDecoderLimits>): void {
    this.limits = resolveRequestDecoderLimits({ ...this.limits, ...limits });
  }

  /** Bytes buffered and not yet consumed (for the query-buffer metric). */
  get buffered(): number {
    return this.end - this.pos;
  }

  /** Adds a chunk. Arguments of the previous command are invalid afterwards. Throws when the query buffer overflows. */
  feed(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.waitLine && chunk.indexOf(LF) !== -1) this.waitLine = false;
    const live = this.end - this.pos;
    if (live === 0) {
      this.buf = chunk;
      this.pos = 0;
      this.end = n;
      this.owned = false;
      this.scan = 0;
      return;
    }
    if (live + n > this.limits.maxQueryBufferBytes) throw new RespProtocolError('Protocol error: query buffer limit exceeded');
    if (this.owned && this.end + n <= this.buf.length) {
      chunk.copy(this.buf, this.end);
      this.end += n;
      return;
    }
    // Move the live bytes to the front of a (possibly bigger) owned buffer; offsets shift by -pos.
    const cap = Math.max(MIN_OWNED, (live + n) * 2, this.need - this.pos);
    const fresh = this.owned && this.buf.length >= live + n && this.pos > 0 ? this.buf : Buffer.allocUnsafe(Math.min(cap, this.limits.maxQueryBufferBytes + MIN_OWNED));
    this.buf.copy(fresh, 0, this.pos, this.end);
    chunk.copy(fresh, live);
    const shift = this.pos;
    for (let i = 0; i < this.argsRead; i++) {
      this.starts[i]! -= shift;
      this.ends[i]! -= shift;
    }
    if (this.frameArgc >= 0) this.scan -= shift;
    if (this.need > 0) this.need -= shift;
    this.buf = fresh;
    this.owned = true;
    this.pos = 0;
    this.end = live + n;
  }

  /**
   * Parses the next complete command: returns its argument count (≥ 1), or 0 when more bytes are needed. Empty
   * inline lines and `*0` / `*-1` headers are skipped, as Redis does. Throws RespProtocolError on malformed input;
   * the decoder is then unusable (the server closes the connection).
   */
  next(): number {
    for (;;) {
      if (this.frameArgc >= 0) return this.continueMultibulk();
      if (this.pos >= this.end) {
        this.reset();
        return 0;
      }
      if (this.waitLine) {
        if (this.end - this.pos > this.limits.maxInlineBytes) {
          throw new RespProtocolError(this.buf[this.pos] === STAR ? 'Protocol error: too big mbulk count string' : 'Protocol error: too big inline request');
        }
        return 0;
      }
      if (this.buf[this.pos] === STAR) {
        const r = this.startMultibulk();
        if (r === 0) return 0;
        if (r < 0) continue; // empty multibulk skipped
        return this.continueMultibulk();
      }
      const r = this.parseInline();
      if (r !== -1) return r;
    }
  }

  /** Argument i as a latin1 binary string (one char per byte): what the store takes as a key. */
  str(i: number): string {
    if (this.inline !== null) return asLatin1(this.inline[i]!).latin1Slice(0, this.inline[i]!.length);
    return asLatin1(this.buf).latin1Slice(this.starts[i]!, this.ends[i]!);
  }

  /** Argument i as bytes: a view valid until the next feed()/next(). Copy it to keep it. */
  arg(i: number): Buffer {
    if (this.inline !== null) return this.inline[i]!;
    return this.buf.subarray(this.starts[i]!, this.ends[i]!);
  }

  argLength(i: number): number {
    if (this.inline !== null) return this.inline[i]!.length;
    return this.ends[i]! - this.starts[i]!;
  }

  /** Argument i parsed as a canonical integer (as Redis's string2ll: no spaces, no '+'), or NaN. */
  int(i: number): number {
    if (this.inline !== null) return parseIntRange(this.inline[i]!, 0, this.inline[i]!.length);
    return parseIntRange(this.buf, this.starts[i]!, this.ends[i]!);
  }

  /** The backing buffer of argument i, whose bytes are [argStart(i), argEnd(i)): hashing without a copy or a tuple. */
  argBuffer(i: number): Buffer {
    return this.inline !== null ? this.inline[i]! : this.buf;
  }

  argStart(i: number): number {
    return this.inline !== null ? 0 : this.starts[i]!;
  }

  argEnd(i: number): number {
    return this.inline !== null ? this.inline[i]!.length : this.ends[i]!;
  }

  /** The backing buffer and range of argument i, for hashing without a copy (e.g. the key slot). */
  rangeOf(i: number): [buf: Buffer, start: number, end: number] {
    if (this.inline !== null) return [this.inline[i]!, 0, this.inline[i]!.length];
    return [this.buf, this.starts[i]!, this.ends[i]!];
  }

  private reset(): void {
    this.buf = EMPTY;
    this.pos = 0;
    this.end = 0;
    this.owned = false;
    this.need = 0;
  }

  /** Finds the CRLF-terminated line starting at `from`; returns the index of CR, or -1 (incomplete). */
  private lineEnd(from: number, tooLong: string): number {
    const lf = this.buf.indexOf(LF, from);
    if (lf === -1 || lf >= this.end) {
      if (this.end - from > this.limits.maxInlineBytes) throw new RespProtocolError(tooLong);
      this.waitLine = true;
      return -1;
    }
    if (lf - from > this.limits.maxInlineBytes) throw new RespProtocolError(tooLong);
    return lf;
  }

  /** Reads `*N\r\n`. Returns 1 when a frame started, 0 when incomplete, -1 when an empty frame was skipped. */
  private startMultibulk(): number {
    const lf = this.lineEnd(this.pos + 1, 'Protocol error: too big mbulk count string');
    if (lf === -1) return 0;
    const n = this.buf[lf - 1] === CR ? parseIntRange(this.buf, this.pos + 1, lf - 1) : NaN;
    if (Number.isNaN(n)) throw new RespProtocolError('Protocol error: invalid multibulk length');
    if (n > this.limits.maxMultibulkCount) throw new RespProtocolError(this.unauthenticated ? 'Protocol error: unauthenticated multibulk length' : 'Protocol error: invalid multibulk length');
    if (n <= 0) {
      this.pos = lf + 1;
      return -1;
    }
    if (this.starts.length < n) {
      const size = Math.min(n, Math.max(this.starts.length * 2, 16));
      if (size > this.starts.length) this.grow(size);
    }
    this.frameArgc = n;
    this.argsRead = 0;
    this.scan = lf + 1;
    this.inline = null;
    return 1;
  }

  private grow(size: number): void {
    const s = new Int32Array(size);
    const e = new Int32Array(size);
    s.set(this.starts.subarray(0, this.argsRead));
    e.set(this.ends.subarray(0, this.argsRead));
    this.starts = s;
    this.ends = e;
  }

  private continueMultibulk(): number {
    const buf = this.buf;
    const argc = this.frameArgc;
    if (this.need > this.end) return 0;
    if (this.waitLine) {
      if (this.end - this.scan > this.limits.maxInlineBytes) throw new RespProtocolError('Protocol error: too big bulk count string');
      return 0;
    }
    this.need = 0;
    while (this.argsRead < argc) {
      const at = this.scan;
      if (at >= this.end) return 0;
      if (buf[at] !== DOLLAR) throw new RespProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(buf[at]!)}'`);
      const lf = this.lineEnd(at + 1, 'Protocol error: too big bulk count string');
      if (lf === -1) return 0;
      const len = buf[lf - 1] === CR ? parseIntRange(buf, at + 1, lf - 1) : NaN;
      if (Number.isNaN(len) || len < 0) throw new RespProtocolError('Protocol error: invalid bulk length');
      if (len > this.limits.maxBulkBytes) throw new RespProtocolError(this.unauthenticated ? 'Protocol error: unauthenticated bulk length' : 'Protocol error: invalid bulk length');
      const dataStart = lf + 1;
      const dataEnd = dataStart + len;
      if (dataEnd + 2 > this.end) {
        if (dataEnd + 2 - this.pos > this.limits.maxQueryBufferBytes) throw new RespProtocolError('Protocol error: query buffer limit exceeded');
        this.need = dataEnd + 2;
        return 0;
      }
      if (buf[dataEnd] !== CR || buf[dataEnd + 1] !== LF) throw new RespProtocolError('Protocol error: expected CRLF after bulk argument');
      if (this.argsRead >= this.starts.length) this.grow(Math.min(argc, this.starts.length * 2));
      this.starts[this.argsRead] = dataStart;
      this.ends[this.argsRead] = dataEnd;
      this.argsRead++;
      this.scan = dataEnd + 2;
    }
    this.pos = this.scan;
    this.frameArgc = -1;
    this.argc = argc;
    this.inline = null;
    return argc;
  }

  /** Reads one inline line. Returns argc, 0 when incomplete, -1 when the line was empty (skipped). */
  private parseInline(): number {
    const lf = this.lineEnd(this.pos, 'Protocol error: too big inline request');
    if (lf === -1) return 0;
    const lineEnd = lf > this.pos && this.buf[lf - 1] === CR ? lf - 1 : lf;
    const args = splitInline(this.buf, this.pos, lineEnd);
    this.pos = lf + 1;
    if (args.length === 0) return -1;
    if (args.length > this.limits.maxMultibulkCount) throw new RespProtocolError('Protocol error: invalid multibulk length');
    this.inline = args;
    this.argc = args.length;
    return args.length;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Splits an inline command line like Redis's sdssplitargs: whitespace separates arguments; "double quotes" allow
 * \n \r \t \b \a \\ \" and \xHH escapes; 'single quotes' allow \'; a closing quote must be followed by a space.
 */
export function splitInline(buf: Buffer, start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let i = start;
  for (;;) {
    while (i < end && isSpace(buf[i]!)) i++;
    if (i >= end) return out;
    const bytes: number[] = [];
    let inDq = false;
    let inSq = false;
    for (;;) {
      if (i >= end) {
        if (inDq || inSq) throw new RespProtocolError('Protocol error: unbalanced quotes in request');
        break;
      }
      const c = buf[i]!;
      if (inDq) {
        if (c === 92 && i + 3 < end && buf[i + 1] === 120 && hexValue(buf[i + 2]!) >= 0 && hexValue(buf[i + 3]!) >= 0) {
          bytes.push(hexValue(buf[i + 2]!) * 16 + hexValue(buf[i + 3]!));
          i += 4;
          continue;
        }
        if (c === 92 && i + 1 < end) {
          const e = buf[i + 1]!;
          bytes.push(e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e);
          i += 2;
          continue;
        }
        if (c === 34) {
          if (i + 1 < end && !isSpace(buf[i + 1]!)) throw new RespProtocolError('Protocol error: unbalanced quotes in request');
          i++;
          break;
        }
        bytes.push(c);
        i++;
      } else if (inSq) {
        if (c === 92 && i + 1 < end && buf[i + 1] === 39) {
          bytes.push(39);
          i += 2;
          continue;
        }
        if (c === 39) {
          if (i + 1 < end && !isSpace(buf[i + 1]!)) throw new RespProtocolError('Protocol error: unbalanced quotes in request');
          i++;
          break;
        }
        bytes.push(c);
        i++;
      } else {
        if (isSpace(c)) break;
        if (c === 34) inDq = true;
        else if (c === 39) inSq = true;
        else bytes.push(c);
        i++;
      }
    }
    out.push(Buffer.from(bytes));
  }
}
