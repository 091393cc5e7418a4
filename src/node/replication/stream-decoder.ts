/**
 * The follower's decoder of a replication link: what a primary writes after `RL.REPLCONN` is frames (RESP arrays of
 * bulk strings, frames.ts) and, before them, the replies of AUTH or an error (`+OK`, `-ERR ...`). Feed it socket
 * chunks split anywhere; it hands each complete frame over as views of its elements and of its raw bytes, without
 * copying them (the generic ReplyDecoder copies every bulk string: eight copies per stream entry). Pure: no sockets.
 *
 * The views are valid only during the callback: a handler that keeps bytes (a backlog entry, a collection's
 * encoding) copies them, so a small entry never pins a whole socket chunk.
 */

export interface StreamDecoderLimits {
  /** Elements of one frame (a snapshot batch has 2 + 4 per key). */
  maxElements: number;
  /** One bulk string (a value, a collection's encoding, a table's JSON). */
  maxBulkBytes: number;
  /** A status or error line, or a length header. */
  maxLineBytes: number;
}

export const DEFAULT_STREAM_DECODER_LIMITS: Readonly<StreamDecoderLimits> = Object.freeze({
  maxElements: 16 * 1024 * 1024,
  maxBulkBytes: 512 * 1024 * 1024,
  maxLineBytes: 64 * 1024,
});

export interface StreamDecoderHandler {
  /** A frame: its elements and its whole encoding, as views valid only during the call. */
  frame(elements: Buffer[], raw: Buffer): void;
  /** A status (`+...`) or error (`-...`) line. */
  line(text: string, error: boolean): void;
}

/** Thrown by push() on bytes that are not a replication stream: the link must be closed and opened again. */
export class StreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamProtocolError';
  }
}

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);
/** parseOne's answer when the buffer ends inside the item. */
const INCOMPLETE = -1;

export class StreamDecoder {
  private readonly limits: StreamDecoderLimits;
  private buf: Buffer = EMPTY;
  /** Chunks received while waiting for `need` bytes in all, joined once enough arrived. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private need = 0;
  /** Set by parseOne when incomplete: the total buffered size the item needs at least (0 = unknown). */
  private needHint = 0;

  constructor(
    private readonly handler: StreamDecoderHandler,
    limits: Partial<StreamDecoderLimits> = {},
  ) {
    this.limits = { ...DEFAULT_STREAM_DECODER_LIMITS, ...limits };
    for (const k of ['maxElements', 'maxBulkBytes', 'maxLineBytes'] as const) {
      if (!Number.isInteger(this.limits[k]) || this.limits[k] <= 0) throw new TypeError(`StreamDecoderLimits.${k} must be a positive integer, got ${this.limits[k]}`);
    }
  }

  /** Bytes buffered that do not form a complete item yet. */
  get bufferedBytes(): number {
    return this.buf.length + this.pendingBytes;
  }

  /** Feeds one chunk. Throws StreamProtocolError on malformed input or a broken limit. */
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
    const b = this.buf;
    while (start < b.length) {
      this.needHint = 0;
      const end = this.parseOne(b, start);
      if (end === INCOMPLETE) {
        this.need = this.needHint > 0 ? this.needHint - start : 0;
        break;
      }
      start = end;
    }
    // Keep only the unparsed tail, copied when small so a whole chunk is not retained for a few bytes.
    if (start >= b.length) this.buf = EMPTY;
    else if (start > 0) this.buf = b.length - start <= 4096 ? Buffer.from(b.subarray(start)) : b.subarray(start);
  }

  /** Drops any partial item (after the connection closed). */
  reset(): void {
    this.buf = EMPTY;
    this.pending = [];
    this.pendingBytes = 0;
    this.need = 0;
  }

  /** Index of the CR ending the line at `pos`, or INCOMPLETE. */
  private lineEnd(b: Buffer, pos: number): number {
    const i = b.indexOf(CR, pos);
    if (i < 0 || i + 1 >= b.length) {
      if (b.length - pos > this.limits.maxLineBytes) throw new StreamProtocolError(`line longer than ${this.limits.maxLineBytes} bytes`);
      return INCOMPLETE;
    }
    if (b[i + 1] !== LF) throw new StreamProtocolError('CR not followed by LF');
    if (i - pos > this.limits.maxLineBytes) throw new StreamProtocolError(`line longer than ${this.limits.maxLineBytes} bytes`);
    return i;
  }

  /** A non-negative decimal between pos and end (exclusive), at most `max`. */
  private count(b: Buffer, pos: number, end: number, max: number, what: string): number {
    if (pos === end || end - pos > 16) throw new StreamProtocolError(`bad ${what}`);
    let n = 0;
    for (let i = pos; i < end; i++) {
      const c = b[i]! - 48;
      if (c < 0 || c > 9) throw new StreamProtocolError(`bad ${what}: ${JSON.stringify(b.toString('latin1', pos, end))}`);
      n = n * 10 + c;
    }
    if (n > max) throw new StreamProtocolError(`${what} ${n} is more than ${max}`);
    return n;
  }

  /** Parses the item at `start` and hands it to the handler; returns where the next item starts, or INCOMPLETE. */
  private parseOne(b: Buffer, start: number): number {
    const type = b[start];
    if (type === 43 || type === 45) {
      // '+' status or '-' error
      const end = this.lineEnd(b, start + 1);
      if (end === INCOMPLETE) return INCOMPLETE;
      this.handler.line(b.toString('utf8', start + 1, end), type === 45);
      return end + 2;
    }
    if (type !== 42) throw new StreamProtocolError(`expected a frame ('*'), got byte ${type}`);
    const hEnd = this.lineEnd(b, start + 1);
    if (hEnd === INCOMPLETE) return INCOMPLETE;
    const n = this.count(b, start + 1, hEnd, this.limits.maxElements, 'element count');
    if (n === 0) throw new StreamProtocolError('empty frame');
    const elements = new Array<Buffer>(n);
    let pos = hEnd + 2;
    for (let i = 0; i < n; i++) {
      if (pos >= b.length) return INCOMPLETE;
      if (b[pos] !== 36) throw new StreamProtocolError(`frame element ${i}: expected a bulk string ('$'), got byte ${b[pos]}`);
      const lEnd = this.lineEnd(b, pos + 1);
      if (lEnd === INCOMPLETE) return INCOMPLETE;
      const len = this.count(b, pos + 1, lEnd, this.limits.maxBulkBytes, 'bulk length');
      const from = lEnd + 2;
      const to = from + len;
      if (to + 2 > b.length) {
        // A large value: wait for its bytes (the rest of the frame is usually small) instead of re-parsing every chunk.
        this.needHint = to + 2;
        return INCOMPLETE;
      }
      if (b[to] !== CR || b[to + 1] !== LF) throw new StreamProtocolError('bulk string not terminated by CRLF');
      elements[i] = b.subarray(from, to);
      pos = to + 2;
    }
    this.handler.frame(elements, b.subarray(start, pos));
    return pos;
  }
}
