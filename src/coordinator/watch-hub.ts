import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { PROTOCOL_VERSION, tableDelta, type TableEvent } from '../protocol/control.js';
import type { PartitionTable } from '../partitioning/table.js';
import type { Coordinator, EpochRecord } from './coordinator.js';

interface Subscriber {
  res: ServerResponse;
  /** Last epoch written to this subscriber. */
  epoch: number;
  /** Over its buffer limit: nothing more is queued until it drains, then it gets a snapshot. */
  behind: boolean;
  /** Asked for `table-delta` events (it keeps the previous table). */
  delta: boolean;
}

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * The watch streams (GET /v1/watch): Server-Sent Events. Each published epoch is serialized once into one Buffer
 * (its membership events, then `id: <epoch>` + `event: table`), framed once as an HTTP chunk, and that same Buffer
 * is written straight to every subscriber's socket: 1000 watchers cost 1000 socket writes (one syscall each), not
 * 1000 serializations nor 1000 trips through the HTTP response's chunked-encoding path (which costs about as much
 * again as the syscall: bench/ha.ts). The socket write is the fan-out's floor on a loaded 2-core machine. A subscriber with more than watchMaxBufferedBytes queued is skipped
 * until its socket drains, then sent a snapshot of the then-current table: a slow consumer never makes the
 * coordinator buffer without bound, and never misses the latest state.
 */
export class WatchHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly encoded = new WeakMap<EpochRecord | PartitionTable, Buffer>();
  private readonly encodedDelta = new WeakMap<EpochRecord, Buffer | null>();
  /** The same Buffers framed as one HTTP/1.1 chunk (`<hex length>\r\n` ... `\r\n`), for the direct socket write. */
  private readonly framed = new WeakMap<Buffer, Buffer>();
  private readonly keepAlive: TimerHandle;
  private readonly unsubscribe: () => void;
  private closing = false;

  constructor(
    private readonly coordinator: Coordinator,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = coordinator.on('published', (r) => this.broadcast(r));
    this.keepAlive = clock.setInterval(() => this.ping(), coordinator.options.watchKeepAliveMs);
  }

  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Starts streaming on `res` (headers not yet sent). `since` undefined: a snapshot first; otherwise every epoch after
   * `since` from the history (a snapshot when `since` is older than the history; nothing when it is current).
   * The caller has checked that `since` is not ahead of the current epoch. `member`: the member id the watcher says
   * it is (a node's own watch); when that stream closes, the coordinator probes the member (the fast failure path).
   */
  open(res: ServerResponse, since: number | undefined, delta = false, member?: string): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': ringleader watch\n\n');
    const sub: Subscriber = { res, epoch: since ?? -1, behind: false, delta };
    const replay = since === undefined ? null : this.coordinator.epochsAfter(since);
    if (replay === null) this.sendSnapshot(sub, since === undefined ? 'initial' : 'since-too-old');
    else for (const r of replay) this.write(sub, r);
    this.subscribers.add(sub);
    this.coordinator.metrics.watchSubscribers.set(this.subscribers.size);
    if (member !== undefined) this.coordinator.watchOpened(member);
    res.on('close', () => {
      this.subscribers.delete(sub);
      this.coordinator.metrics.watchSubscribers.set(this.subscribers.size);
      if (member !== undefined && !this.closing) {
        this.coordinator.watchClosed(member).catch((err: unknown) => this.logger.error({ err }, 'fast failure path failed'));
      }
    });
  }

  /** Ends every stream (shutdown). */
  close(): void {
    this.closing = true;
    this.keepAlive.cancel();
    this.unsubscribe();
    for (const s of this.subscribers) s.res.end();
    this.subscribers.clear();
  }

  private broadcast(record: EpochRecord): void {
    const limit = this.coordinator.options.watchMaxBufferedBytes;
    for (const sub of this.subscribers) {
      if (sub.behind) continue;
      if (sub.res.writableLength > limit) {
        sub.behind = true;
        this.logger.warn({ queuedBytes: sub.res.writableLength, epoch: sub.epoch }, 'slow watcher: sending a snapshot once it drains');
        // The socket's drain: writes may bypass the response (send()), so the response's own drain may never come.
        // The socket's write returned false long before 8 MiB were queued (its high-water mark is 16 KiB).
        const socket = sub.res.socket;
        if (socket === null) continue;
        socket.once('drain', () => {
          sub.behind = false;
          if (this.coordinator.epoch > sub.epoch) this.sendSnapshot(sub, 'slow-consumer');
        });
        continue;
      }
      this.write(sub, record);
    }
  }

  private write(sub: Subscriber, record: EpochRecord): void {
    if (sub.delta && sub.epoch === record.epoch - 1) {
      const d = this.deltaFrame(record);
      if (d) {
        sub.epoch = record.epoch;
        this.send(sub, d);
        return;
      }
    }
    let buf = this.encoded.get(record);
    if (!buf) {
      let text = '';
      for (const e of record.events) text += `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
      text += tableFrame(record.table, false);
      buf = Buffer.from(text, 'utf8');
      this.encoded.set(record, buf);
    }
    sub.epoch = record.epoch;
    this.send(sub, buf);
  }

  /**
   * Writes an encoded event. Fast path: when the response is chunked, its headers went out and nothing of it is
   * buffered in the response itself, the pre-framed chunk goes straight to the socket, in order after everything
   * written before (the response writes to the same socket). Otherwise (headers still queued, a pipelined request
   * ahead of this one, not chunked) through the response.
   */
  private send(sub: Subscriber, buf: Buffer): void {
    const res = sub.res;
    const socket = res.socket;
    if (socket !== null && res.chunkedEncoding && res.headersSent && !res.writableEnded && !socket.destroyed && res.writableLength === socket.writableLength) {
      let f = this.framed.get(buf);
      if (!f) {
        f = Buffer.concat([Buffer.from(`${buf.length.toString(16)}\r\n`, 'latin1'), buf, CRLF]);
        this.framed.set(buf, f);
      }
      socket.write(f);
      return;
    }
    res.write(buf);
  }

  /** The record's events + `table-delta` frame, encoded once; null when no delta is possible (previous table gone). */
  private deltaFrame(record: EpochRecord): Buffer | null {
    let buf = this.encodedDelta.get(record);
    if (buf !== undefined) return buf;
    const prev = this.coordinator.tableAt(record.epoch - 1);
    const d = prev ? tableDelta(prev.toJSON(), record.table.toJSON()) : null;
    if (d === null) buf = null;
    else {
      let text = '';
      for (const e of record.events) text += `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
      text += `id: ${record.epoch}\nevent: table-delta\ndata: ${JSON.stringify(d)}\n\n`;
      buf = Buffer.from(text, 'utf8');
    }
    this.encodedDelta.set(record, buf);
    return buf;
  }

  private sendSnapshot(sub: Subscriber, reason: string): void {
    const table = this.coordinator.table;
    let buf = this.encoded.get(table);
    if (!buf) {
      buf = Buffer.from(tableFrame(table, true), 'utf8');
      this.encoded.set(table, buf);
    }
    sub.epoch = table.epoch;
    this.send(sub, buf);
    this.coordinator.metrics.watchSnapshots.inc({ reason });
  }

  private ping(): void {
    for (const s of this.subscribers) if (!s.behind) s.res.write(':\n\n');
  }
}

function tableFrame(table: PartitionTable, snapshot: boolean): string {
  const ev: TableEvent = { protocolVersion: PROTOCOL_VERSION, snapshot, table: table.toJSON() };
  return `id: ${table.epoch}\nevent: table\ndata: ${JSON.stringify(ev)}\n\n`;
}
