/**
 * The primary's side of the stream: one `Downstream` per follower connection (a node that sent `RL.REPLCONN`), the
 * partitions it follows, and the snapshot jobs that build learners. Frames are written straight to the follower's
 * socket, in the order the store's writes happen, so a snapshot batch and the stream entries around it keep their
 * order on the wire (the sync-up contract in docs/ARCHITECTURE.md).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/logger.js';
import type { SnapshotReader, Store } from '../../storage/index.js';
import { encodeSnap, encodeSnapBatch, encodeSnapEnd } from './frames.js';
import type { ReplicationOptions } from './options.js';
import type { ReplicationStats } from './stats.js';

export class Downstream {
  /** Partitions this follower receives the live stream of. */
  readonly partitions = new Set<number>();
  /** Snapshot jobs in progress or queued, by partition. */
  readonly snapshots = new Map<number, SnapshotJob>();
  /** Epoch of the last table sent to this follower in a TABLE frame. */
  tableEpoch = 0;
  /** The offset the follower last acknowledged per partition (RL.ACK), for lag. */
  readonly acked = new Map<number, number>();
  closed = false;
  /** The follower announced `snapb` in RL.REPLCONN: snapshot batches go as SNAPB (binary), else as SNAP/SNAPT. */
  binarySnapshots = false;
  /** Snapshot jobs of this follower the scheduler is running now. */
  activeSyncs = 0;
  /** Bytes written to the follower on this connection (frames). */
  bytesWritten = 0;
  /** Bytes the follower said it read and applied (RL.RECV); null until its first RL.RECV (no window before). */
  bytesRead: number | null = null;
  /** Snapshot loops waiting for the follower to read (resumed on RL.RECV and on close). */
  private readonly readWaiters: Array<() => void> = [];
  /** The snapshot window: unread bytes allowed before snapshot batches wait (adapted on every RL.RECV). */
  window: number;
  /** (bytesWritten, monotonic ms) after writes, at most one per 4 KB: when each byte was written, for RL.RECV delays. */
  private readonly marks: number[] = [];
  private markHead = 0;

  constructor(
    readonly followerId: string,
    readonly socket: Socket,
    private readonly maxBufferBytes: number,
    private readonly stats: ReplicationStats,
    private readonly logger: Logger,
    private readonly monotonic: () => number = () => performance.now(),
    private readonly windowOptions: Pick<ReplicationOptions, 'syncWindowBytes' | 'syncWindowMinBytes' | 'syncWindowMs'> = { syncWindowBytes: 1024 * 1024, syncWindowMinBytes: 32 * 1024, syncWindowMs: 20 },
  ) {
    this.window = windowOptions.syncWindowBytes;
  }

  /** Bytes written and not yet read and applied by the follower (0 before its first RL.RECV). */
  get unread(): number {
    return this.bytesRead === null ? 0 : Math.max(0, this.bytesWritten - this.bytesRead);
  }

  /**
   * RL.RECV: the follower read and applied `bytes` of this connection so far. The window adapts to how long the last
   * byte covered waited (written → reported): above syncWindowMs it shrinks by a third, otherwise it grows by 1/8 of
   * the maximum, within [syncWindowMinBytes, syncWindowBytes]. A follower that applies slowly (a busy process) so gets
   * a small window and the live stream stays close behind; a fast one the whole window.
   */
  onRead(bytes: number): void {
    if (this.bytesRead !== null && bytes <= this.bytesRead) return;
    const step = bytes - (this.bytesRead ?? 0);
    this.bytesRead = bytes;
    let writtenAt = -1;
    const m = this.marks;
    while (this.markHead < m.length && m[this.markHead]! <= bytes) {
      writtenAt = m[this.markHead + 1]!;
      this.markHead += 2;
    }
    if (this.markHead > 1024 && this.markHead * 2 > m.length) {
      m.splice(0, this.markHead);
      this.markHead = 0;
    }
    // Only reports sent as data was read count (16 KB steps), not the 200 ms timer's for a trickle of entries.
    if (writtenAt >= 0 && step >= 8192) {
      const o = this.windowOptions;
      const waited = this.monotonic() - writtenAt;
      this.window = waited > o.syncWindowMs ? Math.max(o.syncWindowMinBytes, Math.floor(this.window * 0.67)) : Math.min(o.syncWindowBytes, this.window + (o.syncWindowBytes >> 3));
    }
    this.wake();
  }

  /** Calls `fn` once, on the next RL.RECV or when the connection closes. */
  onNextRead(fn: () => void): void {
    if (this.closed) return fn();
    this.readWaiters.push(fn);
  }

  /** Resumes every waiting snapshot loop (they check their conditions again). */
  wake(): void {
    if (this.readWaiters.length === 0) return;
    const ws = this.readWaiters.splice(0);
    for (const fn of ws) fn();
  }

  /** The socket is corked until the end of this turn of the event loop (see write). */
  private corked = false;

  /**
   * Writes a frame; disconnects a follower that does not read (it resumes or re-syncs when it comes back).
   *
   * The frames of one turn of the event loop (every write of one read of a client's pipeline, a snapshot batch and
   * the entries around it) leave in one system call: the first write of a turn corks the socket and a
   * process.nextTick callback (run as soon as the current I/O callback returns) uncorks it. Corking keeps the order of every write to the socket (a reply the
   * server writes on it in between included); it only delays the system call to the end of the turn.
   */
  write(frame: Buffer): void {
    if (this.closed) return;
    this.bytesWritten += frame.length;
    const m = this.marks;
    if (this.bytesRead !== null && (m.length === this.markHead || this.bytesWritten - m[m.length - 2]! >= 4096)) m.push(this.bytesWritten, this.monotonic());
    this.stats.streamBytesSent += frame.length;
    const socket = this.socket;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(uncork, this);
    }
    socket.write(frame);
    if (socket.writableLength > this.maxBufferBytes) {
      this.logger.warn({ follower: this.followerId, pending: this.socket.writableLength }, 'follower too slow: replication buffer limit exceeded; disconnecting');
      this.stats.slowFollowerDisconnects++;
      socket.destroy();
    }
  }

  /** Sends what this turn's writes queued (the end-of-turn half of write's corking). */
  uncorkNow(): void {
    if (!this.corked) return;
    this.corked = false;
    this.stats.streamFlushes++;
    this.socket.uncork();
  }
}

function uncork(d: Downstream): void {
  d.uncorkNow();
}

/** One learner being built: a live iterator over the partition, read and sent in throttled batches. */
export class SnapshotJob {
  cancelled = false;
  started = false;
  keysSent = 0;
  bytesSent = 0;
  private readonly reader: SnapshotReader;

  constructor(
    readonly partition: number,
    readonly down: Downstream,
    store: Store,
    o: ReplicationOptions,
  ) {
    this.reader = store.snapshotReader(partition, { maxEntries: o.syncBatchEntries, maxBytes: o.syncBatchBytes });
  }

  /**
   * Reads the next batch and enqueues it in one synchronous step (no stream entry can come in between), or the end
   * marker. Returns the bytes written, or -1 when the snapshot is complete.
   */
  step(stats: ReplicationStats): number {
    let frame: Buffer;
    let keys: number;
    if (this.down.binarySnapshots) {
      const batch = this.reader.nextBatch();
      if (batch === null) return this.end();
      frame = encodeSnapBatch(this.partition, batch);
      keys = batch.readUInt32LE(1);
    } else {
      const batch = this.reader.next();
      if (batch === null) return this.end();
      frame = encodeSnap(this.partition, batch);
      keys = batch.length;
    }
    this.down.write(frame);
    this.keysSent += keys;
    this.bytesSent += frame.length;
    stats.syncKeysSent += keys;
    stats.syncBytesSent += frame.length;
    return frame.length;
  }

  private end(): number {
    this.down.write(encodeSnapEnd(this.partition));
    return -1;
  }

}

/**
 * Runs snapshot jobs, at most `maxParallelSyncs` at once and `maxParallelSyncsPerFollower` on one follower
 * connection, in the order they were asked for, a batch per turn of the event loop (client commands run in
 * between), pausing while a follower's socket is above the high-water mark or its window is full, and within
 * `syncBytesPerSec`. Why one per follower by default: the jobs of one follower share its socket, so running more at
 * once only interleaves their batches and every copy finishes later (the coordinator can promote a copy only once it
 * is complete); one after the other, each learner reports `synced` as early as it can.
 */
export class SnapshotScheduler {
  private readonly queue: SnapshotJob[] = [];
  private running = 0;
  private tokens = 0;
  private lastRefill = 0;

  constructor(
    private readonly o: ReplicationOptions,
    private readonly stats: ReplicationStats,
    private readonly monotonic: () => number,
    private readonly onDone: (job: SnapshotJob) => void,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  add(job: SnapshotJob): void {
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    for (let i = 0; i < this.queue.length && this.running < this.o.maxParallelSyncs; ) {
      const job = this.queue[i]!;
      if (job.cancelled || job.down.closed) {
        this.queue.splice(i, 1);
        continue;
      }
      if (job.down.activeSyncs >= this.o.maxParallelSyncsPerFollower) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.running++;
      job.down.activeSyncs++;
      job.started = true;
      this.stats.syncsStarted++;
      this.run(job);
    }
  }

  private finish(job: SnapshotJob, completed: boolean): void {
    this.running--;
    job.down.activeSyncs--;
    if (completed) this.stats.syncsCompleted++;
    this.onDone(job);
    this.pump();
  }

  private run(job: SnapshotJob): void {
    // setImmediate, not a Clock timer: this only yields the event loop between batches; no time logic depends on it.
    const loop = (): void => {
      if (job.cancelled || job.down.closed) return this.finish(job, false);
      const sock = job.down.socket;
      if (sock.writableLength > this.o.syncHighWaterBytes) {
        // Resume on whichever comes first; the other listener is removed so the loop never runs twice.
        const resume = (): void => {
          sock.off('drain', resume);
          sock.off('close', resume);
          loop();
        };
        sock.on('drain', resume);
        sock.on('close', resume);
        return;
      }
      if (job.down.unread > job.down.window) {
        // The follower has not applied what is already on its way (kernel buffers included): wait for its RL.RECV,
        // so the live stream (and a hand-over's end-of-term marker) never queues behind more than the window.
        job.down.onNextRead(loop);
        return;
      }
      if (this.o.syncBytesPerSec > 0) {
        const now = this.monotonic();
        this.tokens = Math.min(this.o.syncBytesPerSec, this.tokens + ((now - this.lastRefill) * this.o.syncBytesPerSec) / 1000);
        this.lastRefill = now;
        if (this.tokens <= 0) {
          const waitMs = Math.ceil((-this.tokens * 1000) / this.o.syncBytesPerSec) + 1;
          setTimeout(loop, waitMs).unref?.();
          return;
        }
      }
      const n = job.step(this.stats);
      if (n < 0) return this.finish(job, true);
      this.tokens -= n;
      setImmediate(loop);
    };
    setImmediate(loop);
  }
}
