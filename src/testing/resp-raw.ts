/**
 * A raw RESP client for compatibility tests and scripts: sends commands as multibulk arrays and hands back each
 * reply both as its exact bytes and as a typed tree (RESP3 types kept apart: a set is not an array, a map not a flat
 * list), so two servers' replies can be compared byte for byte or structurally. Not for production use.
 */
import { connect, type Socket } from 'node:net';

/**
 * A reply tree: bulk string -> {t:'bulk'}, simple -> {t:'simple'}, error -> {t:'error'}, integer -> {t:'int'} (text,
 * exact), double/bignum/boolean/null/verbatim keep their RESP3 type; aggregates carry their items.
 */
export type RespNode =
  | { t: 'bulk' | 'simple' | 'error' | 'int' | 'double' | 'bignum' | 'bool' | 'verbatim'; v: string }
  | { t: 'null' | 'nullbulk' | 'nullarray' }
  | { t: 'array' | 'set' | 'push' | 'map' | 'attr'; items: RespNode[] };

/** Parses one reply from buf[pos..]; null when incomplete. Throws on bytes that are not RESP. */
export function parseReply(buf: Buffer, pos: number): { node: RespNode; end: number } | null {
  const eol = buf.indexOf('\r\n', pos, 'latin1');
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('latin1', pos + 1, eol);
  const next = eol + 2;
  const aggregate = (t: 'array' | 'set' | 'push' | 'map' | 'attr', n: number): { node: RespNode; end: number } | null => {
    const items: RespNode[] = [];
    let p = next;
    for (let i = 0; i < n; i++) {
      const r = parseReply(buf, p);
      if (r === null) return null;
      items.push(r.node);
      p = r.end;
    }
    return { node: { t, items }, end: p };
  };
  switch (type) {
    case '+': return { node: { t: 'simple', v: line }, end: next };
    case '-': return { node: { t: 'error', v: line }, end: next };
    case ':': return { node: { t: 'int', v: line }, end: next };
    case ',': return { node: { t: 'double', v: line }, end: next };
    case '(': return { node: { t: 'bignum', v: line }, end: next };
    case '#': return { node: { t: 'bool', v: line }, end: next };
    case '_': return { node: { t: 'null' }, end: next };
    case '$':
    case '=':
    case '!': {
      const n = Number(line);
      if (n < 0) return { node: { t: 'nullbulk' }, end: next };
      if (buf.length < next + n + 2) return null;
      const v = buf.toString('latin1', next, next + n);
      return { node: { t: type === '$' ? 'bulk' : type === '=' ? 'verbatim' : 'error', v }, end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { node: { t: 'nullarray' }, end: next };
      return aggregate('array', n);
    }
    case '~': return aggregate('set', Number(line));
    case '>': return aggregate('push', Number(line));
    case '%': return aggregate('map', Number(line) * 2);
    case '|': return aggregate('attr', Number(line) * 2);
    default:
      throw new Error(`not RESP at byte ${pos}: ${JSON.stringify(buf.toString('latin1', pos, pos + 20))}`);
  }
}

/** Encodes a command as a RESP multibulk array (arguments are latin1 binary strings or Buffers). */
export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

export interface RawReply {
  readonly raw: string;
  readonly node: RespNode;
}

/** One connection; `call` sends a command and resolves with its next reply (replies arrive in order). */
export class RawRespClient {
  private buf: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  private waiting: Array<(r: RawReply) => void> = [];
  private ended: Error | null = null;
  private closeWaiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => {
      this.ended ??= new Error('connection closed');
      for (const w of this.closeWaiters) w();
    });
    socket.on('error', (err) => {
      this.ended = err;
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawRespClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => {
        s.off('error', reject);
        s.setNoDelay(true);
        resolve(new RawRespClient(s));
      });
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.socket.destroyed || this.ended !== null;
  }

  /** Resolves when the server closed the connection. */
  whenClosed(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((r) => this.closeWaiters.push(r));
  }

  /** Sends a command without waiting (for commands whose reply is suppressed, e.g. after CLIENT REPLY OFF). */
  send(args: ReadonlyArray<string | Buffer>): void {
    this.socket.write(encodeCommand(args));
  }

  /** Sends bytes as they are (inline commands, protocol garbage). */
  sendRaw(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** The next reply, whatever sent it; rejects after `timeoutMs` or when the connection closes first. */
  next(timeoutMs = 10_000): Promise<RawReply> {
    const ready = this.tryParse();
    if (ready !== null) return Promise.resolve(ready);
    if (this.ended !== null) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
      const onClose = (): void => {
        clearTimeout(timer);
        reject(this.ended ?? new Error('connection closed'));
      };
      this.closeWaiters.push(onClose);
      this.waiting.push((r) => {
        clearTimeout(timer);
        this.closeWaiters = this.closeWaiters.filter((w) => w !== onClose);
        resolve(r);
      });
    });
  }

  call(args: ReadonlyArray<string | Buffer>, timeoutMs?: number): Promise<RawReply> {
    this.send(args);
    return this.next(timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }

  private tryParse(): RawReply | null {
    if (this.buf.length === 0) return null;
    const r = parseReply(this.buf, 0);
    if (r === null) return null;
    const raw = this.buf.toString('latin1', 0, r.end);
    this.buf = this.buf.subarray(r.end);
    return { raw, node: r.node };
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    while (this.waiting.length > 0) {
      const r = this.tryParse();
      if (r === null) return;
      this.waiting.shift()!(r);
    }
  }
}
