import { connect as netConnect, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { RingleaderError } from '../shared/errors.js';
import { CLIENT_ERRORS, errorFrom } from '../protocol/errors/index.js';
import { encodeCommand, type CommandArg } from '../protocol/resp/command-encoder.js';
import { ReplyDecoder, RespError, RespProtocolError, type RespReply } from '../protocol/resp/reply-decoder.js';

export interface ConnectionOptions {
  commandTimeoutMs: number;
  password: string | undefined;
  /** Send READONLY first on every connection (readFrom 'any': the node then serves reads of its complete backup copies). */
  readonly: boolean;
  clock: Clock;
}

interface Pending {
  resolve: (r: RespReply) => void;
  reject: (e: RingleaderError) => void;
  /** Monotonic deadline; the same timeout for every command keeps deadlines in queue order. */
  deadline: number;
  /** Settled already (timed out): its reply, when it comes, is read and dropped to keep the pipeline in order. */
  done: boolean;
  /** The bytes went to the socket (false while queued before connect). */
  written: boolean;
}

/** Failure of a command on a connection; `sent` tells the retry policy whether the node may have executed it. */
export function connectionError(message: string, sent: boolean, cause?: unknown): RingleaderError {
  return errorFrom(CLIENT_ERRORS.CONNECTION_CLOSED, message, { sent }, cause);
}

/**
 * One pipelined RESP connection to one node. Commands are queued in order; all commands issued in one tick go out in
 * one socket write (automatic batching: a burst of 50 concurrent gets costs one syscall, not 50), and replies are
 * matched to commands in order. Contract: every send() settles within commandTimeoutMs (+ timer slack): with the
 * reply, a COMMAND_TIMEOUT, or a CONNECTION_CLOSED. A connection that stays silent for two timeouts is destroyed.
 */
export class RespConnection {
  private socket: Socket | null = null;
  private readonly queue: Pending[] = [];
  private head = 0;
  private outbox: Buffer[] = [];
  private flushScheduled = false;
  private connected = false;
  private closedReason: string | null = null;
  private timer: TimerHandle | null = null;
  private readonly decoder: ReplyDecoder;

  constructor(
    readonly address: string,
    private readonly options: ConnectionOptions,
    private readonly onClose: (conn: RespConnection) => void,
  ) {
    this.decoder = new ReplyDecoder((r) => this.onReply(r));
    this.open();
  }

  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  /** Commands awaiting a reply (including timed-out ones whose reply has not come yet). */
  get inFlight(): number {
    return this.queue.length - this.head;
  }

  send(args: readonly CommandArg[]): Promise<RespReply> {
    if (this.closedReason !== null) return Promise.reject(connectionError(`connection to ${this.address} closed: ${this.closedReason}`, false));
    const frame = encodeCommand(args);
    return new Promise<RespReply>((resolve, reject) => {
      const p: Pending = { resolve, reject, deadline: this.options.clock.monotonic() + this.options.commandTimeoutMs, done: false, written: false };
      this.queue.push(p);
      this.outbox.push(frame);
      if (this.connected && !this.flushScheduled) {
        this.flushScheduled = true;
        // process.nextTick runs after the current microtask queue drains: every command issued in this tick,
        // including ones from other resolved promises, joins one write.
        process.nextTick(() => this.flush());
      }
      if (this.timer === null) this.arm();
    });
  }

  /** Closes the socket; pending commands fail with CONNECTION_CLOSED. Idempotent. */
  close(reason = 'closed by client'): void {
    this.fail(reason);
  }

  private open(): void {
    const i = this.address.lastIndexOf(':');
    const host = this.address.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(this.address.slice(i + 1));
    const socket = netConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.connected = true;
      // AUTH then READONLY go first, ahead of anything queued while connecting. A refused AUTH closes the connection;
      // a refused READONLY (a server without it) only means backups will answer MOVED, which the client follows.
      const preamble: Array<{ frame: Buffer; pending: Pending }> = [];
      const deadline = this.options.clock.monotonic() + this.options.commandTimeoutMs;
      if (this.options.password !== undefined) {
        const resolve = (r: RespReply): void => {
          if (r instanceof RespError) this.fail(`AUTH refused: ${r.message}`);
        };
        preamble.push({ frame: encodeCommand(['AUTH', this.options.password]), pending: { resolve, reject: () => {}, deadline, done: false, written: false } });
      }
      if (this.options.readonly) {
        preamble.push({ frame: encodeCommand(['READONLY']), pending: { resolve: () => {}, reject: () => {}, deadline, done: false, written: false } });
      }
      this.queue.splice(this.head, 0, ...preamble.map((x) => x.pending));
      this.outbox.unshift(...preamble.map((x) => x.frame));
      this.flush();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk);
      } catch (err) {
        this.fail(err instanceof RespProtocolError ? `protocol error: ${err.message}` : String(err), err);
      }
    });
    socket.on('error', (err) => this.fail(err.message, err));
    socket.on('close', () => this.fail('connection closed by peer'));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.connected || this.socket === null || this.outbox.length === 0) return;
    const data = this.outbox.length === 1 ? this.outbox[0]! : Buffer.concat(this.outbox);
    this.outbox = [];
    for (let i = this.head; i < this.queue.length; i++) this.queue[i]!.written = true;
    this.socket.write(data);
  }

  private onReply(r: RespReply): void {
    if (this.head >= this.queue.length) {
      this.fail('reply without a pending command');
      return;
    }
    const p = this.queue[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (!p.done) {
      p.done = true;
      p.resolve(r);
    }
    if (this.head === this.queue.length) {
      this.timer?.cancel();
      this.timer = null;
    }
  }

  /** Arms one timer for the oldest command still waiting (deadlines are in queue order). */
  private arm(): void {
    this.timer?.cancel();
    this.timer = null;
    const now = this.options.clock.monotonic();
    for (let i = this.head; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (p.done) continue;
      this.timer = this.options.clock.setTimeout(() => this.sweep(), Math.max(1, p.deadline - now));
      return;
    }
    if (this.head < this.queue.length) {
      // Only timed-out commands remain: give the node one more timeout to answer, then drop the connection.
      this.timer = this.options.clock.setTimeout(() => {
        if (this.head < this.queue.length) this.fail(`no reply for ${2 * this.options.commandTimeoutMs} ms`);
      }, this.options.commandTimeoutMs);
    }
  }

  private sweep(): void {
    this.timer = null;
    const now = this.options.clock.monotonic();
    for (let i = this.head; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (p.deadline > now) break;
      if (!p.done && !p.written) {
        // Still not connected after a whole timeout. Fail the connection rather than time the command out: its bytes
        // are still in the outbox and would go out if the connect succeeded later, a send nobody waits for (a write
        // the caller was told had failed). Failing it sends nothing and tells the caller `sent: false`.
        this.fail(`connect to ${this.address} timed out after ${this.options.commandTimeoutMs} ms`);
        return;
      }
      if (!p.done) {
        p.done = true;
        p.reject(errorFrom(CLIENT_ERRORS.COMMAND_TIMEOUT, `no reply from ${this.address} within ${this.options.commandTimeoutMs} ms`, { sent: p.written, address: this.address }));
      }
    }
    if (this.closedReason === null) this.arm();
  }

  private fail(reason: string, cause?: unknown): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.connected = false;
    this.timer?.cancel();
    this.timer = null;
    this.socket?.destroy();
    this.decoder.reset();
    const pending = this.queue.splice(this.head);
    this.queue.length = 0;
    this.head = 0;
    this.outbox = [];
    for (const p of pending) {
      if (p.done) continue;
      p.done = true;
      p.reject(connectionError(`connection to ${this.address} lost: ${reason}`, p.written, cause));
    }
    this.onClose(this);
  }
}
