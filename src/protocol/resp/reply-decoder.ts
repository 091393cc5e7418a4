/**
 * An incremental RESP2 + RESP3 reply decoder for the client's hot path: feed it socket chunks split anywhere, it
 * calls `onReply` once per complete top-level reply, in order. Pure: no sockets, no timers.
 *
 * Value mapping: simple string / verbatim / big number -> string; bulk string -> Buffer (the caller decides whether it
 * is text); integer -> number (bigint beyond 2^53); null bulk / null array / RESP3 null -> null; array / set / push ->
 * array; map -> Map; double -> number; boolean -> boolean; error / blob error -> RespError (a value, not a throw: a
 * pipelined error reply belongs to its one command). Attributes (`|`) are read and dropped.
 *
 * Why re-parse from the frame start when a frame is incomplete: it keeps the parser a plain recursive function (no
 * resumable state machine) and costs nothing in the common case where a reply arrives in one chunk; a `need` hint
 * (the smallest total size that can complete the frame) avoids re-parsing a large bulk string on every chunk.
 */

/** An error reply (`-ERR ...` or RESP3 `!`): `prefix` is the first word (`ERR`, `MOVED`, `WRONGTYPE`...). */
export class RespError {
  readonly prefix: string;
  constructor(readonly message: string) {
    const sp = message.indexOf(' ');
    this.prefix = sp < 0 ? message : message.slice(0, sp);
  }
}

export type RespReply = string | number | bigint | boolean | null | Buffer | RespError | RespReply[] | Map<RespReply, RespReply>;

export interface ReplyDecoderLimits {
  /** Largest bulk string accepted (bytes). Redis's proto-max-bulk-len default is 512 MB. */
  maxBulkBytes: number;
  /** Largest aggregate (array/set/push element count; map entry count). */
  maxAggregateLength: number;
  /** Deepest nesting of aggregates. */
  maxDepth: number;
  /** Longest simple line (simple string, error, integer, header) before CRLF. */
  maxLineBytes: number;
}

export const DEFAULT_REPLY_DECODER_LIMITS: Readonly<ReplyDecoderLimits> = Object.freeze({
  maxBulkBytes: 512 * 1024 * 1024,
  maxAggregateLength: 16 * 1024 * 1024,
  maxDepth: 64,
  maxLineBytes: 64 * 1024,
});

/** Thrown by push() on a malformed stream: the connection must be closed (the byte stream cannot be resynchronised). */
export class RespProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespProtocolError';
  }
}

const CR = 13;
const LF = 10;
/** Sentinel: the buffer ends before the frame does. */
const INCOMPLETE = Symbol('incomplete');

export class ReplyDecoder {
  private readonly limits: ReplyDecoderLimits;
  private buf: Buffer = Buffer.alloc(0);
  /** Chunks received while waiting for `need` bytes, concatenated once enough arrived. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Minimum total buffered bytes before the current frame can complete (0 = unknown, try parsing). */
  private need = 0;
  private pos = 0;
  private needHint = 0;

  constructor(
    private readonly onReply: (reply: RespReply) => void,
    limits: Partial<ReplyDecoderLimits> = {},
  ) {
    this.limits = { ...DEFAULT_REPLY_DECODER_LIMITS, ...limits };
  }

  /** Bytes buffered that do not form a complete reply yet. */
  get bufferedBytes(): number {
    return this.buf.length + this.pendingBytes;
  }

  /** Feeds one chunk. Throws RespProtocolError on malformed input or a broken limit. */
  push(chunk: Buffer): void {
    if (this.need > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.buf.length + this.pendingBytes < this.need) return;
      this.buf = Buffer.concat([this.buf, ...this.pending]);
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
    this.need = 0;
    let start = 0;
    while (start < this.buf.length) {
      this.pos = start;
      this.needHint = 0;
      const v = this.parse(0);
      if (v === INCOMPLETE) {
        this.need = this.needHint;
        break;
      }
      start = this.pos;
      this.onReply(v);
    }
    this.buf = start >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(start);
    if (this.need > 0) this.need -= start;
  }

  /** Drops any partial frame (after the connection closed). */
  reset(): void {
    this.buf = Buffer.alloc(0);
    this.pending = [];
    this.pendingBytes = 0;
    this.need = 0;
  }

  /** Reads a line from pos to CRLF; returns its end (index of CR) or -1 when incomplete. */
  private lineEnd(): number {
    const b = this.buf;
    const i = b.indexOf(CR, this.pos);
    if (i < 0 || i + 1 >= b.length) {
      if (b.length - this.pos > this.limits.maxLineBytes) throw new RespProtocolError(`line longer than ${this.limits.maxLineBytes} bytes`);
      return -1;
    }
    if (b[i + 1] !== LF) throw new RespProtocolError('CR not followed by LF');
    if (i - this.pos > this.limits.maxLineBytes) throw new RespProtocolError(`line longer than ${this.limits.maxLineBytes} bytes`);
    return i;
  }

  private readLine(): string | typeof INCOMPLETE {
    const end = this.lineEnd();
    if (end < 0) return INCOMPLETE;
    const s = this.buf.toString('latin1', this.pos, end);
    this.pos = end + 2;
    return s;
  }

  private readUtf8Line(): string | typeof INCOMPLETE {
    const end = this.lineEnd();
    if (end < 0) return INCOMPLETE;
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 2;
    return s;
  }

  /** Reads a signed integer line; `-1` etc. allowed. */
  private readInt(): number | typeof INCOMPLETE {
    const end = this.lineEnd();
    if (end < 0) return INCOMPLETE;
    const b = this.buf;
    let i = this.pos;
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    }
    if (i === end) throw new RespProtocolError('empty integer');
    let n = 0;
    for (; i < end; i++) {
      const c = b[i]! - 48;
      if (c < 0 || c > 9) throw new RespProtocolError(`invalid integer ${JSON.stringify(b.toString('latin1', this.pos, end))}`);
      n = n * 10 + c;
    }
    if (!Number.isSafeInteger(n)) throw new RespProtocolError('length or count out of range');
    this.pos = end + 2;
    return neg ? -n : n;
  }

  private readIntegerReply(): number | bigint | typeof INCOMPLETE {
    const s = this.readLine();
    if (s === INCOMPLETE) return s;
    if (!/^-?[0-9]+$/.test(s)) throw new RespProtocolError(`invalid integer reply ${JSON.stringify(s)}`);
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : BigInt(s);
  }

  private readBulk(): Buffer | null | typeof INCOMPLETE {
    const len = this.readInt();
    if (len === INCOMPLETE) return len;
    if (len === -1) return null;
    if (len < 0) throw new RespProtocolError(`invalid bulk length ${len}`);
    if (len > this.limits.maxBulkBytes) throw new RespProtocolError(`bulk string of ${len} bytes exceeds maxBulkBytes ${this.limits.maxBulkBytes}`);
    const end = this.pos + len;
    if (end + 2 > this.buf.length) {
      if (this.hintEnabled) this.needHint = end + 2;
      return INCOMPLETE;
    }
    if (this.buf[end] !== CR || this.buf[end + 1] !== LF) throw new RespProtocolError('bulk string not terminated by CRLF');
    // A copy, not a view: the reply outlives this chunk and must not pin a large socket buffer.
    const v = Buffer.from(this.buf.subarray(this.pos, end));
    this.pos = end + 2;
    return v;
  }

  /** True while parsing a top-level bulk: only then is its end a useful size hint for the whole frame. */
  private hintEnabled = false;

  private readAggregate(depth: number, pairs: boolean): RespReply[] | Map<RespReply, RespReply> | null | typeof INCOMPLETE {
    const n = this.readInt();
    if (n === INCOMPLETE) return n;
    if (n === -1) return null;
    if (n < 0) throw new RespProtocolError(`invalid aggregate length ${n}`);
    if (n > this.limits.maxAggregateLength) throw new RespProtocolError(`aggregate of ${n} elements exceeds maxAggregateLength ${this.limits.maxAggregateLength}`);
    if (depth + 1 > this.limits.maxDepth) throw new RespProtocolError(`nesting deeper than maxDepth ${this.limits.maxDepth}`);
    if (pairs) {
      const m = new Map<RespReply, RespReply>();
      for (let i = 0; i < n; i++) {
        const k = this.parse(depth + 1);
        if (k === INCOMPLETE) return k;
        const v = this.parse(depth + 1);
        if (v === INCOMPLETE) return v;
        m.set(Buffer.isBuffer(k) ? k.toString('utf8') : k, v);
      }
      return m;
    }
    const out: RespReply[] = new Array<RespReply>(n);
    for (let i = 0; i < n; i++) {
      const v = this.parse(depth + 1);
      if (v === INCOMPLETE) return v;
      out[i] = v;
    }
    return out;
  }

  private parse(depth: number): RespReply | typeof INCOMPLETE {
    if (this.pos >= this.buf.length) return INCOMPLETE;
    const frameStart = this.pos;
    const type = this.buf[this.pos++]!;
    switch (type) {
      case 43: // '+'
        return this.readUtf8Line();
      case 45: {
        // '-'
        const s = this.readUtf8Line();
        return s === INCOMPLETE ? s : new RespError(s);
      }
      case 58: // ':'
        return this.readIntegerReply();
      case 36: {
        // '$'
        // Only a top-level bulk gives a size hint (a nested one would complete its frame only with later elements).
        this.hintEnabled = depth === 0;
        const v = this.readBulk();
        this.hintEnabled = false;
        return v;
      }
      case 42: // '*'
      case 126: // '~' set
      case 62: // '>' push
        return this.readAggregate(depth, false);
      case 37: // '%' map
        return this.readAggregate(depth, true);
      case 95: {
        // '_' null
        const s = this.readLine();
        if (s === INCOMPLETE) return s;
        if (s !== '') throw new RespProtocolError('invalid RESP3 null');
        return null;
      }
      case 35: {
        // '#' boolean
        const s = this.readLine();
        if (s === INCOMPLETE) return s;
        if (s !== 't' && s !== 'f') throw new RespProtocolError(`invalid RESP3 boolean ${JSON.stringify(s)}`);
        return s === 't';
      }
      case 44: {
        // ',' double
        const s = this.readLine();
        if (s === INCOMPLETE) return s;
        const lower = s.toLowerCase();
        if (lower === 'inf' || lower === '+inf') return Infinity;
        if (lower === '-inf') return -Infinity;
        if (lower === 'nan') return NaN;
        const d = Number(s);
        if (s === '' || Number.isNaN(d)) throw new RespProtocolError(`invalid RESP3 double ${JSON.stringify(s)}`);
        return d;
      }
      case 40: {
        // '(' big number
        const s = this.readLine();
        if (s === INCOMPLETE) return s;
        if (!/^-?[0-9]+$/.test(s)) throw new RespProtocolError(`invalid RESP3 big number ${JSON.stringify(s)}`);
        return s;
      }
      case 61: {
        // '=' verbatim: "txt:" + text
        const v = this.readBulkNested();
        if (v === INCOMPLETE || v === null) return v;
        if (v.length < 4 || v[3] !== 58) throw new RespProtocolError('invalid RESP3 verbatim string');
        return v.toString('utf8', 4);
      }
      case 33: {
        // '!' blob error
        const v = this.readBulkNested();
        if (v === INCOMPLETE) return v;
        if (v === null) throw new RespProtocolError('null blob error');
        return new RespError(v.toString('utf8'));
      }
      case 124: {
        // '|' attribute: read and drop, then the real reply follows
        const a = this.readAggregate(depth, true);
        if (a === INCOMPLETE) return a;
        return this.parse(depth);
      }
      default:
        this.pos = frameStart;
        throw new RespProtocolError(`unknown RESP type byte 0x${type.toString(16).padStart(2, '0')}`);
    }
  }

  private readBulkNested(): Buffer | null | typeof INCOMPLETE {
    return this.readBulk();
  }
}
