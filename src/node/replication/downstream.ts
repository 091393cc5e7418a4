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
  /** Snapshot jobs of this follower the scheduler is running now. */
  activeSyncs = 0;
  /** SNAPB batch bytes written to this follower, and the total it acknowledged applying (RL.SYNCACK). */
  snapshotBytesSent = 0;
  snapshotBytesAcked = 0;
  /** Snapshot loops waiting for an acknowledgement (the window is full), resumed on the next one or on close. */
  private ackWaiters: Array<() => void> = [];

  constructor(
    readonly followerId: string,
    readonly socket: Socket,
    /** The follower announced `snapb`: snapshot batches go as SNAPB (binary), else as SNAP/SNAPT. */
    readonly binarySnapshots: boolean,
    /** The follower announced `syncack`: it acknowledges SNAPB bytes, so the snapshot window applies. */
    readonly snapshotAcks: boolean,
    private readonly maxBufferBytes: number,
    private readonly stats: ReplicationStats,
    private readonly logger: Logger,
  ) {}

  /** Bytes of SNAPB batches sent and not acknowledged yet (0 for a follower that does not acknowledge them). */
  get snapshotBytesInFlight(): number {
    return this.snapshotAcks ? this.snapshotBytesSent - this.snapshotBytesAcked : 0;
  }

  /** RL.SYNCACK: resumes snapshot loops that waited for room in the window. */
  onSyncAck(bytes: number): void {
    if (bytes > this.snapshotBytesAcked && bytes <= this.snapshotBytesSent) this.snapshotBytesAcked = bytes;
    this.wake();
  }

  /** Calls `resume` once, on the next acknowledgement or when the connection closes. */
  waitForAck(resume: () => void): void {
    this.ackWaiters.push(resume);
  }

  /** Resumes every waiting loop (they check the window, and `closed`, again). */
  wake(): void {
    const waiters = this.ackWaiters;
    if (waiters.length === 0) return;
    this.ackWaiters = [];
    for (const w of waiters) w();
  }

  /** Writes a frame; disconnects a follower that does not read (it resumes or re-syncs when it comes back). */
  write(frame: Buffer): void {
    if (this.closed) return;
    this.stats.streamBytesSent += frame.length;
    this.socket.write(frame);
    if (this.socket.writableLength > this.maxBufferBytes) {
      this.logger.warn({ follower: this.followerId, pending: this.socket.writableLength }, 'follower too slow: replication buffer limit exceeded; disconnecting');
      this.stats.slowFollowerDisconnects++;
      this.socket.destroy();
    }
  }
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
      this.down.snapshotBytesSent += batch.length;
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
 * between), pausing while a follower's socket is above the high-water mark or (a follower that acknowledges batches)
 * while `syncWindowBytes` of its batches are unacknowledged, and within `syncBytesPerSec`.
 * Why one per follower by default: the jobs of one follower share its socket, so running more at once only
 * interleaves their batches and every copy finishes later (the coordinator can promote a copy only once it is
 * complete); one after the other, each learner reports `synced` as early as it can.
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
      if (this.o.syncWindowBytes > 0 && job.down.snapshotBytesInFlight >= this.o.syncWindowBytes) {
        job.down.waitForAck(loop);
        return;
      }
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
