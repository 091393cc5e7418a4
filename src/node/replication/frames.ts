/**
 * The replication stream's frames: what a primary writes to a follower's connection after `RL.REPLCONN`. Each frame
 * is a RESP array of bulk strings (so the follower reads them with the ordinary reply decoder), the first element
 * the frame kind. Pure: encoding and range-checked decoding, no sockets.
 *
 *   OP p term offset S key value expiresAt   a mutation: whole string value, absolute expiry ms (0 = none)
 *   OP p term offset T key type enc expiresAt  a mutation of a collection: its type (hash, set, zset) and whole
 *                                            content in the store's collection encoding (src/storage/collections.ts)
 *   OP p term offset P key type patch expiresAt  a change to the key's collection (elements set or removed, in
 *                                            order; collections.ts encodePatch); a copy without the key ignores it
 *   OP p term offset D key                   a delete (command, expiry or eviction on the primary)
 *   OP p term offset E key expiresAt         a TTL change (0 = persist)
 *   OP p term offset F                       the partition was emptied (FLUSHALL on the primary)
 *   SNAPBEGIN p term offset                  full sync starts: drop the local copy; stream entries continue from offset+1
 *   SNAP p k1 v1 e1 k2 v2 e2 ...             a batch of whole keys of the snapshot (string values only)
 *   SNAPT p k1 t1 v1 e1 ...                  the same with each value's type (string, hash, set, zset): sent when
 *                                            a batch holds a collection
 *   SNAPB p batch                            a batch of whole keys as one binary snapshot batch (any types; layout in
 *                                            src/storage/snapshot-batch.ts): sent to followers that announced
 *                                            `snapb` in RL.REPLCONN, in place of SNAP/SNAPT
 *   SNAPEND p                                the snapshot is complete
 *   RESUME p term offset                     partial resync: entries continue from offset+1
 *   TERMEND p term offset                    the primary of `term` stopped at `offset` (hand-over marker)
 *   NOTPRIMARY p term                        the sender does not serve p (yet): follow again later
 *   TABLE json                               the partition table that made the sender stop serving some partitions
 *                                            (so a follower learns it even when the coordinator is unreachable)
 */
import { encodeCommand } from '../../protocol/resp/command-encoder.js';
import { TypedValue, type AnyValue, type ReplicatedOp } from '../../storage/index.js';

/** A stream entry's mutation: a store op, or `flush` (the whole partition emptied). */
export type StreamOp = ReplicatedOp | { readonly kind: 'flush' };

export interface OpFrame {
  readonly kind: 'OP';
  readonly partition: number;
  readonly term: number;
  readonly offset: number;
  readonly op: StreamOp;
}
export interface SnapBeginFrame { readonly kind: 'SNAPBEGIN'; readonly partition: number; readonly term: number; readonly offset: number }
/** A snapshot batch (SNAP or SNAPT on the wire): a string value is a Buffer, a collection a TypedValue. */
export interface SnapFrame { readonly kind: 'SNAP'; readonly partition: number; readonly entries: Array<{ key: string; value: Buffer | TypedValue; expiresAt: number }> }
/** A binary snapshot batch (SNAPB), applied with Store.applySnapshotBatch, which checks it whole. */
export interface SnapBatchFrame { readonly kind: 'SNAPB'; readonly partition: number; readonly batch: Buffer }
export interface SnapEndFrame { readonly kind: 'SNAPEND'; readonly partition: number }
export interface ResumeFrame { readonly kind: 'RESUME'; readonly partition: number; readonly term: number; readonly offset: number }
export interface TermEndFrame { readonly kind: 'TERMEND'; readonly partition: number; readonly term: number; readonly offset: number }
export interface NotPrimaryFrame { readonly kind: 'NOTPRIMARY'; readonly partition: number; readonly term: number }

export interface TableFrame { readonly kind: 'TABLE'; readonly json: unknown }

export type Frame = OpFrame | SnapBeginFrame | SnapFrame | SnapBatchFrame | SnapEndFrame | ResumeFrame | TermEndFrame | NotPrimaryFrame | TableFrame;

/** Largest table frame accepted (a 16384-partition, 1000-member table is about 2 MB of JSON). */
export const MAX_TABLE_FRAME_BYTES = 64 * 1024 * 1024;

/** Raised on a frame that does not parse: the link is closed and re-established (the stream cannot be trusted). */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

const MAX_OFFSET = Number.MAX_SAFE_INTEGER;
/** Largest expiry accepted (ms since the epoch): Redis's limit is around 2^63 ms; ours is what a double holds exactly. */
const MAX_EXPIRES_AT = Number.MAX_SAFE_INTEGER;

function keyBuf(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}

function valueBuf(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}

export function encodeOp(partition: number, term: number, offset: number, op: StreamOp): Buffer {
  switch (op.kind) {
    case 'flush':
      return encodeCommand(['OP', partition, term, offset, 'F']);
    case 'set':
      if (op.value instanceof TypedValue) {
        return encodeCommand(['OP', partition, term, offset, op.value.patch ? 'P' : 'T', keyBuf(op.key), op.value.type, op.value.bytes, op.expiresAt]);
      }
      return encodeEntry(partition, term, offset, 'S', op.key, op.value, String(op.expiresAt));
    case 'del':
      return encodeEntry(partition, term, offset, 'D', op.key, null, null);
    case 'expire':
      return encodeEntry(partition, term, offset, 'E', op.key, null, String(op.expiresAt));
    default:
      throw new TypeError(`unknown replicated op ${(op as { kind: unknown }).kind as string}`);
  }
}

/** `$<len>\r\n` + `<len>` bytes + `\r\n` of a latin1 string or a Buffer. */
function bulkSize(v: string | Buffer): number {
  const n = v.length;
  return 1 + decimalDigits(n) + 2 + n + 2;
}

function decimalDigits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

function putBulk(out: Buffer, p: number, v: string | Buffer): number {
  out[p++] = 36; // '$'
  p += out.write(String(v.length), p, 'latin1');
  out[p++] = 13;
  out[p++] = 10;
  p += typeof v === 'string' ? out.write(v, p, 'latin1') : v.copy(out, p);
  out[p++] = 13;
  out[p++] = 10;
  return p;
}

/**
 * The hot path of the stream (a string SET, a DEL, an EXPIRE): the same bytes encodeCommand would write, with the
 * key and a string value written as latin1 straight into one buffer (no intermediate copies).
 */
function encodeEntry(partition: number, term: number, offset: number, kind: 'S' | 'D' | 'E', key: string, value: string | Buffer | null, expiresAt: string | null): Buffer {
  const ps = String(partition);
  const ts = String(term);
  const os = String(offset);
  const n = 6 + (value === null ? 0 : 1) + (expiresAt === null ? 0 : 1);
  const total = 4 + 8 + bulkSize(ps) + bulkSize(ts) + bulkSize(os) + 7 + bulkSize(key) + (value === null ? 0 : bulkSize(value)) + (expiresAt === null ? 0 : bulkSize(expiresAt));
  const out = Buffer.allocUnsafe(total);
  out[0] = 42; // '*'
  out[1] = 48 + n;
  out[2] = 13;
  out[3] = 10;
  let p = 4 + out.write('$2\r\nOP\r\n', 4, 'latin1');
  p = putBulk(out, p, ps);
  p = putBulk(out, p, ts);
  p = putBulk(out, p, os);
  p += out.write(`$1\r\n${kind}\r\n`, p, 'latin1');
  p = putBulk(out, p, key);
  if (value !== null) p = putBulk(out, p, value);
  if (expiresAt !== null) p = putBulk(out, p, expiresAt);
  if (p !== total) throw new Error(`encodeEntry: wrote ${p} of ${total} bytes`); // a size mistake would corrupt the stream
  return out;
}

/**
 * True when the frame's elements are a stream entry whose decoded form keeps none of its bytes (S, D, E, F: the
 * store copies keys and string values), so a decoder may hand over views of a socket chunk without copying.
 */
export function isPlainOp(elements: readonly Buffer[]): boolean {
  if (elements.length < 5) return false;
  const k = elements[0]!;
  const op = elements[4]!;
  if (k.length !== 2 || k[0] !== 79 || k[1] !== 80 || op.length !== 1) return false; // 'OP'
  const c = op[0];
  return c === 83 || c === 68 || c === 69 || c === 70; // S D E F
}

export function encodeSnapBegin(partition: number, term: number, offset: number): Buffer {
  return encodeCommand(['SNAPBEGIN', partition, term, offset]);
}

export function encodeSnap(partition: number, entries: ReadonlyArray<{ key: string; value: AnyValue; expiresAt: number }>): Buffer {
  if (entries.some((e) => e.value instanceof TypedValue)) {
    const typed: Array<string | Buffer | number> = ['SNAPT', partition];
    for (const e of entries) {
      const v = e.value;
      if (v instanceof TypedValue) typed.push(keyBuf(e.key), v.type, v.bytes, e.expiresAt);
      else typed.push(keyBuf(e.key), 'string', valueBuf(v), e.expiresAt);
    }
    return encodeCommand(typed);
  }
  const args: Array<string | Buffer | number> = ['SNAP', partition];
  for (const e of entries) args.push(keyBuf(e.key), valueBuf(e.value as string | Buffer), e.expiresAt);
  return encodeCommand(args);
}

/** A SNAPB frame around a binary snapshot batch (SnapshotReader.nextBatch). */
export function encodeSnapBatch(partition: number, batch: Buffer): Buffer {
  return encodeCommand(['SNAPB', partition, batch]);
}

export function encodeSnapEnd(partition: number): Buffer {
  return encodeCommand(['SNAPEND', partition]);
}

export function encodeResume(partition: number, term: number, offset: number): Buffer {
  return encodeCommand(['RESUME', partition, term, offset]);
}

export function encodeTermEnd(partition: number, term: number, offset: number): Buffer {
  return encodeCommand(['TERMEND', partition, term, offset]);
}

export function encodeTable(json: unknown): Buffer {
  return encodeCommand(['TABLE', JSON.stringify(json)]);
}

export function encodeNotPrimary(partition: number, term: number): Buffer {
  return encodeCommand(['NOTPRIMARY', partition, term]);
}

function int(b: unknown, what: string, max: number): number {
  if (!Buffer.isBuffer(b) || b.length === 0 || b.length > 16) throw new FrameError(`bad ${what}`);
  // Digits only, no leading zero (as /^(0|[1-9][0-9]*)$/), read without making a string.
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9 || (i === 0 && c === 0 && b.length > 1)) throw new FrameError(`bad ${what}: ${JSON.stringify(b.toString('latin1').slice(0, 20))}`);
    n = n * 10 + c;
  }
  if (n > max) throw new FrameError(`${what} out of range: ${b.toString('latin1')}`);
  return n;
}

function str(b: unknown, what: string): string {
  if (!Buffer.isBuffer(b)) throw new FrameError(`bad ${what}`);
  return b.toString('latin1');
}

function buf(b: unknown, what: string): Buffer {
  if (!Buffer.isBuffer(b)) throw new FrameError(`bad ${what}`);
  return b;
}

/** A typed value from the wire: `string` gives the bytes, a collection type a validated TypedValue. */
function typedValue(type: unknown, value: unknown): Buffer | TypedValue {
  const t = str(type, 'value type');
  const b = buf(value, 'value');
  if (t === 'string') return b;
  try {
    return TypedValue.parse(t, b);
  } catch (err) {
    throw new FrameError((err as Error).message);
  }
}

/**
 * Decodes one frame from a decoded RESP reply (an array of Buffers). `partitionCount` bounds partition numbers.
 * Throws FrameError on anything else: unknown kinds, wrong arity, non-numeric or out-of-range numbers.
 */
export function decodeFrame(reply: unknown, partitionCount: number): Frame {
  if (!Array.isArray(reply) || reply.length < 2) throw new FrameError('a frame is an array of at least 2 bulk strings');
  const kind = str(reply[0], 'frame kind');
  if (kind === 'TABLE') {
    if (reply.length !== 2) throw new FrameError('TABLE: wrong number of elements');
    const b = buf(reply[1], 'table');
    if (b.length > MAX_TABLE_FRAME_BYTES) throw new FrameError(`TABLE: ${b.length} bytes, more than ${MAX_TABLE_FRAME_BYTES}`);
    try {
      return { kind, json: JSON.parse(b.toString('utf8')) as unknown };
    } catch {
      throw new FrameError('TABLE: not JSON');
    }
  }
  const partition = int(reply[1], 'partition', Math.max(0, partitionCount - 1));
  const n = reply.length;
  switch (kind) {
    case 'OP': {
      if (n < 5) throw new FrameError('OP: wrong number of elements');
      const term = int(reply[2], 'term', MAX_OFFSET);
      const offset = int(reply[3], 'offset', MAX_OFFSET);
      const op = str(reply[4], 'op');
      if (op === 'F' && n === 5) return { kind, partition, term, offset, op: { kind: 'flush' } };
      if (n < 6) throw new FrameError('OP: wrong number of elements');
      const key = str(reply[5], 'key');
      if (op === 'S' && n === 8) return { kind, partition, term, offset, op: { kind: 'set', key, value: buf(reply[6], 'value'), expiresAt: int(reply[7], 'expiresAt', MAX_EXPIRES_AT) } };
      if (op === 'T' && n === 9) {
        const value = typedValue(reply[6], reply[7]);
        if (!(value instanceof TypedValue)) throw new FrameError('OP T: a string value travels as S');
        return { kind, partition, term, offset, op: { kind: 'set', key, value, expiresAt: int(reply[8], 'expiresAt', MAX_EXPIRES_AT) } };
      }
      if (op === 'P' && n === 9) {
        let value: TypedValue;
        try {
          value = TypedValue.parsePatch(str(reply[6], 'value type'), buf(reply[7], 'patch'));
        } catch (err) {
          if (err instanceof FrameError) throw err;
          throw new FrameError((err as Error).message);
        }
        return { kind, partition, term, offset, op: { kind: 'set', key, value, expiresAt: int(reply[8], 'expiresAt', MAX_EXPIRES_AT) } };
      }
      if (op === 'D' && n === 6) return { kind, partition, term, offset, op: { kind: 'del', key } };
      if (op === 'E' && n === 7) return { kind, partition, term, offset, op: { kind: 'expire', key, expiresAt: int(reply[6], 'expiresAt', MAX_EXPIRES_AT) } };
      throw new FrameError(`OP: bad op ${JSON.stringify(op.slice(0, 8))} with ${n} elements`);
    }
    case 'SNAPBEGIN':
    case 'RESUME':
    case 'TERMEND':
      if (n !== 4) throw new FrameError(`${kind}: wrong number of elements`);
      return { kind, partition, term: int(reply[2], 'term', MAX_OFFSET), offset: int(reply[3], 'offset', MAX_OFFSET) };
    case 'SNAP': {
      if ((n - 2) % 3 !== 0) throw new FrameError('SNAP: entries come in triples');
      const entries: Array<{ key: string; value: Buffer | TypedValue; expiresAt: number }> = [];
      for (let i = 2; i < n; i += 3) entries.push({ key: str(reply[i], 'key'), value: buf(reply[i + 1], 'value'), expiresAt: int(reply[i + 2], 'expiresAt', MAX_EXPIRES_AT) });
      return { kind, partition, entries };
    }
    case 'SNAPT': {
      if ((n - 2) % 4 !== 0) throw new FrameError('SNAPT: entries come in quadruples');
      const entries: Array<{ key: string; value: Buffer | TypedValue; expiresAt: number }> = [];
      for (let i = 2; i < n; i += 4) {
        entries.push({ key: str(reply[i], 'key'), value: typedValue(reply[i + 1], reply[i + 2]), expiresAt: int(reply[i + 3], 'expiresAt', MAX_EXPIRES_AT) });
      }
      return { kind: 'SNAP', partition, entries };
    }
    case 'SNAPB':
      if (n !== 3) throw new FrameError('SNAPB: wrong number of elements');
      return { kind, partition, batch: buf(reply[2], 'batch') };
    case 'SNAPEND':
      if (n !== 2) throw new FrameError('SNAPEND: wrong number of elements');
      return { kind, partition };
    case 'NOTPRIMARY':
      if (n !== 3) throw new FrameError('NOTPRIMARY: wrong number of elements');
      return { kind, partition, term: int(reply[2], 'term', MAX_OFFSET) };
    default:
      throw new FrameError(`unknown frame kind ${JSON.stringify(kind.slice(0, 16))}`);
  }
}
