/**
 * The follower's side of the stream: one connection to one primary node, carrying every partition this node follows
 * from it. It authenticates (when the node has a password), sends `RL.REPLCONN <our id> <P> snapb`, then one `RL.FOLLOW` per
 * partition, and hands each decoded frame to the replicator. A broken link reconnects with backoff and follows its
 * partitions again from where each copy stands (resume by term and offset).
 */
import { connect, type Socket } from 'node:net';
import { encodeCommand } from '../../protocol/resp/command-encoder.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { decodeFrame, FrameError, isPlainOp, type Frame } from './frames.js';
import { StreamDecoder } from './stream-decoder.js';

export interface LinkHandler {
  /**
   * Frames in the order the primary sent them, and the frame's encoding as received (a view valid during the call:
   * copy what is kept). May throw FrameError: the link is then reset.
   */
  onFrame(link: Link, frame: Frame, raw: Buffer): void;
  /** The link (re)connected: follow every partition it carries again. */
  onConnected(link: Link): void;
  /** The link broke; copies following through it stay as they are until it reconnects. */
  onDisconnected(link: Link): void;
  /** Every frame of one read of the socket was handled (acknowledge what was applied). */
  afterFrames(link: Link): void;
}

export class Link {
  /** Partitions followed through this link. */
  readonly partitions = new Set<number>();
  /** Offsets last acknowledged to the primary, per partition. */
  readonly acked = new Map<number, number>();
  /** Partitions that applied stream entries since the last acknowledgement (the handler fills it). */
  readonly touched = new Set<number>();
  /** Epoch of the last table sent to the primary with RL.TABLE (a hand-over to us). */
  tableEpoch = 0;
  /** Bytes of stream read and handled on the current connection, and the count last reported with RL.RECV. */
  private bytesRead = 0;
  /** RL.REPLCONN with capabilities sent and nothing received since: an error now means a primary that predates them. */
  private capabilitiesPending = false;
  /** The primary refused RL.REPLCONN with capabilities (an older node): connect without them from now on. */
  private legacyPrimary = false;
  private bytesReported = 0;
  /**
   * The primary is a version without RL.RECV / RL.TABLE (it answered "unknown command" for one): they are not sent
   * on this connection any more, and that answer does not reset the link (a rolling upgrade of the nodes).
   */
  private olderPrimary = false;
  private socket: Socket | null = null;
  private ready = false;
  private closed = false;
  private retryTimer: TimerHandle | null = null;
  private failures = 0;
  private awaitingAuth = false;

  constructor(
    readonly address: string,
    private readonly selfId: string,
    private readonly password: string,
    private readonly partitionCount: number,
    private readonly handler: LinkHandler,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly reconnectDelayMs: number,
    /** Announce `snapb` (binary snapshot batches) in RL.REPLCONN. */
    private readonly binarySnapshots = true,
  ) {
    this.open();
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Sends a command on the link if it is ready (otherwise onConnected will re-send what matters). */
  send(args: ReadonlyArray<string | number | Buffer>): void {
    if (this.ready && this.socket !== null) this.socket.write(encodeCommand(args));
  }

  /** Drops the connection and connects again (after a stream inconsistency). */
  reset(reason: string): void {
    this.logger.warn({ primary: this.address, reason }, 'replication link reset');
    this.socket?.destroy();
  }

  close(): void {
    this.closed = true;
    this.retryTimer?.cancel();
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): void {
    if (this.closed) return;
    const i = this.address.lastIndexOf(':');
    const host = this.address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    const port = Number(this.address.slice(i + 1));
    const socket = connect({ host, port, noDelay: true });
    this.socket = socket;
    this.ready = false;
    const decoder = new StreamDecoder({
      frame: (elements, raw) => this.onFrameBytes(socket, elements, raw),
      line: (text, error) => this.onLine(socket, text, error),
    });
    socket.on('connect', () => {
      if (this.password !== '') {
        this.awaitingAuth = true;
        socket.write(encodeCommand(['AUTH', this.password]));
      } else {
        this.handshake();
      }
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      // Stream bytes only (the AUTH reply comes in a chunk of its own, before RL.REPLCONN makes us ready).
      const counted = this.ready;
      try {
        decoder.push(chunk);
      } catch (err) {
        this.logger.warn({ primary: this.address, err: (err as Error).message }, 'replication stream does not parse; reconnecting');
        socket.destroy();
        return;
      }
      if (counted) this.bytesRead += chunk.length;
      if (this.socket === socket && !socket.destroyed) this.handler.afterFrames(this);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (this.socket !== socket) return;
      const wasReady = this.ready;
      this.ready = false;
      this.socket = null;
      if (wasReady) this.handler.onDisconnected(this);
      if (this.closed) return;
      this.failures = wasReady ? 1 : this.failures + 1;
      const delay = this.reconnectDelayMs * Math.min(20, 2 ** Math.min(5, this.failures - 1));
      this.retryTimer = this.clock.setTimeout(() => this.open(), delay);
    });
  }

  /**
   * Acknowledges the offsets of copies that moved since the last acknowledgement (RL.ACK p o [p o ...]); true when a
   * message was sent.
   */
  ack(offsetOf: (p: number) => number | null, partitions: Iterable<number> = this.partitions): boolean {
    if (!this.ready) return false;
    const args: Array<string | number> = ['RL.ACK'];
    for (const p of partitions) {
      if (!this.partitions.has(p)) continue;
      const o = offsetOf(p);
      if (o === null || this.acked.get(p) === o) continue;
      this.acked.set(p, o);
      args.push(p, o);
    }
    if (args.length === 1) return false;
    this.send(args);
    return true;
  }

  /**
   * RL.RECV <bytes>: tells the primary how much of this connection's stream we read and applied, once at least
   * `minStep` more bytes than last reported (0: whenever it changed). The primary keeps at most syncWindowBytes of
   * snapshot data unread by us, so what it streams after (entries, end-of-term markers) is never far behind.
   */
  sendRecv(minStep: number): void {
    if (!this.ready || this.olderPrimary || this.bytesRead === this.bytesReported || this.bytesRead - this.bytesReported < minStep) return;
    this.bytesReported = this.bytesRead;
    this.send(['RL.RECV', this.bytesRead]);
  }

  /** RL.TABLE <json> to the primary (a hand-over to us), unless it is a version without it. */
  sendTable(json: string): void {
    if (!this.olderPrimary) this.send(['RL.TABLE', json]);
  }

  private handshake(): void {
    this.acked.clear();
    this.bytesRead = 0;
    this.bytesReported = 0;
    this.olderPrimary = false;
    // `snapb`: this follower applies binary snapshot batches (SNAPB); a primary that does not know it sends SNAP/SNAPT.
    const args: Array<string | number> = ['RL.REPLCONN', this.selfId, this.partitionCount];
    if (this.binarySnapshots && !this.legacyPrimary) args.push('snapb');
    this.capabilitiesPending = args.length > 3;
    this.socket!.write(encodeCommand(args));
    this.ready = true;
    this.handler.onConnected(this);
  }

  /** A status or error line: the answer to AUTH, or an error from the primary. */
  private onLine(socket: Socket, text: string, error: boolean): void {
    // Destroyed by an earlier reply of the same read (a bad frame, an error): the rest of the read is not trusted.
    if (this.socket !== socket || socket.destroyed) return;
    if (this.awaitingAuth) {
      this.awaitingAuth = false;
      if (error) {
        this.logger.error({ primary: this.address, err: text }, 'replication link: AUTH refused (do all nodes share one --requirepass?)');
        socket.destroy();
        return;
      }
      this.handshake();
      return;
    }
    const firstReply = this.capabilitiesPending;
    this.capabilitiesPending = false;
    if (error && firstReply && /wrong number of arguments/i.test(text)) {
      // A primary from before RL.REPLCONN took capabilities (rolling upgrade): it sends SNAP/SNAPT.
      this.logger.info({ primary: this.address }, 'replication link: the primary does not take capabilities; reconnecting without them');
      this.legacyPrimary = true;
      socket.destroy();
      return;
    }
    if (error && /unknown command 'rl\.(recv|table)'/i.test(text)) {
      // An older primary: it streams as before, without the snapshot window or tables from followers.
      if (!this.olderPrimary) this.logger.warn({ primary: this.address }, 'replication link: the primary does not know RL.RECV / RL.TABLE (an older version); not sending them');
      this.olderPrimary = true;
      return;
    }
    if (error) {
      this.logger.warn({ primary: this.address, err: text }, 'replication link: error from the primary; reconnecting');
      socket.destroy();
      return;
    }
    this.logger.warn({ primary: this.address, reply: text.slice(0, 64) }, 'replication link: unexpected status reply; reconnecting');
    socket.destroy();
  }

  private onFrameBytes(socket: Socket, elements: Buffer[], raw: Buffer): void {
    if (this.socket !== socket || socket.destroyed) return;
    // A frame means the primary took RL.REPLCONN with our capabilities.
    this.capabilitiesPending = false;
    if (this.awaitingAuth) {
      this.logger.warn({ primary: this.address }, 'replication link: a frame before the answer to AUTH; reconnecting');
      socket.destroy();
      return;
    }
    try {
      // The elements are views of the socket's bytes: a stream entry's key and value are copied by the store, but a
      // frame that keeps its bytes (a collection's encoding, a snapshot batch, a table) gets copies.
      const frame = decodeFrame(isPlainOp(elements) ? elements : elements.map((e) => Buffer.from(e)), this.partitionCount);
      this.handler.onFrame(this, frame, raw);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.logger.warn({ primary: this.address, err: err.message }, 'bad replication frame; reconnecting');
      socket.destroy();
    }
  }
}
