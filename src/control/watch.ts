import { TypedEvents } from '../shared/events.js';
import type { TimerHandle } from '../shared/clock.js';
import type { RingleaderError } from '../shared/errors.js';
import { PartitionTable } from '../partitioning/table.js';
import { MEMBER_EVENT_TYPES, applyTableDelta, type MemberEvent, type TableDeltaEvent, type TableEvent } from '../protocol/control.js';
import { COORDINATOR_ERRORS } from '../protocol/errors/index.js';
import { errorFromBody, unavailable } from './errors.js';
import { backoffMs, requestHeaders, type CoordinatorClientOptions } from './options.js';
import { SseParser, type SseEvent } from './sse.js';

export interface WatchOptions {
  /** Resume after this epoch: only newer epochs are delivered. Omit to start with a snapshot of the current table. */
  since?: number;
  /**
   * The member id of the node that watches (its own table watch): sent as `member=<id>` so the coordinator can
   * probe the node as soon as this stream closes (a killed process is declared dead in milliseconds).
   */
  member?: string;
}

/** Extra facts about a delivered table. */
export interface TableInfo {
  /**
   * True when the table is a full snapshot rather than the next epoch in sequence: the first table of a watch
   * without `since`, or after the coordinator had to skip epochs (this watcher fell too far behind, or `since` was
   * older than its history). Membership events of skipped epochs are not delivered; the snapshot's member list is the truth.
   */
  snapshot: boolean;
}

/**
 * Events of a TableWatch. Listeners must not throw or block (an exception is caught and logged).
 * - `table`: a table newer than every table delivered before (epochs strictly increase; each epoch at most once).
 * - `membership`: a membership change, delivered right before the table of the epoch that reflects it (`event.epoch`).
 * - `connected` / `disconnected`: the stream's state; reconnects happen by themselves with backoff.
 * - `error`: a failure worth logging (the watch keeps trying until close()).
 */
export interface WatchEvents {
  table: (table: PartitionTable, info: TableInfo) => void;
  membership: (event: MemberEvent) => void;
  connected: (coordinator: string) => void;
  disconnected: (reason: string) => void;
  error: (err: RingleaderError | Error) => void;
}

/** What a TableWatch needs from its CoordinatorClient (an interface, so watch.ts does not import client.ts). */
export interface WatchHost {
  readonly options: CoordinatorClientOptions;
  orderedBases(): string[];
  prefer(base: string): void;
}

const MEMBER_EVENTS: ReadonlySet<string> = new Set(MEMBER_EVENT_TYPES);

/**
 * A self-reconnecting subscription to GET /v1/watch. Contract: every table epoch the coordinator publishes is
 * delivered exactly once and in increasing order, across disconnects (it reconnects with `since` = the last
 * delivered epoch), unless the coordinator sends a snapshot (then `info.snapshot` is true). Construct through
 * CoordinatorClient.watch().
 */
export class TableWatch {
  private readonly events: TypedEvents<WatchEvents>;
  private lastEpochSeen: number;
  private latest: PartitionTable | null = null;
  private closed = false;
  private abort: AbortController | null = null;
  private retryTimer: TimerHandle | null = null;
  private idleTimer: TimerHandle | null = null;
  private failures = 0;
  private readonly member: string | null;
  private readonly waiters: Array<{ epoch: number; resolve: (t: PartitionTable) => void }> = [];

  constructor(
    private readonly client: WatchHost,
    options: WatchOptions,
  ) {
    if (options.since !== undefined && (!Number.isSafeInteger(options.since) || options.since < 0)) throw new TypeError(`since must be an integer >= 0, got ${options.since}`);
    if (options.member !== undefined && !/^[0-9a-f]{40}$/.test(options.member)) throw new TypeError(`member must be a member id (40 lowercase hex characters), got ${options.member}`);
    this.member = options.member ?? null;
    this.lastEpochSeen = options.since ?? -1;
    this.events = new TypedEvents<WatchEvents>((err) => client.options.logger.error({ err }, 'watch listener threw'));
    queueMicrotask(() => void this.connect());
  }

  on<K extends keyof WatchEvents>(event: K, fn: WatchEvents[K]): () => void {
    return this.events.on(event, fn);
  }

  /** The last epoch delivered (or the `since` it started from; -1 when none yet). */
  get lastEpoch(): number {
    return this.lastEpochSeen;
  }

  /** The last table delivered, or null before the first. */
  get table(): PartitionTable | null {
    return this.latest;
  }

  /** Resolves with the first delivered table whose epoch is >= `minEpoch` (default: any). Never rejects: pair it with a timeout. */
  waitFor(minEpoch = 0): Promise<PartitionTable> {
    if (this.latest && this.latest.epoch >= minEpoch) return Promise.resolve(this.latest);
    return new Promise((resolve) => this.waiters.push({ epoch: minEpoch, resolve }));
  }

  /** Stops the watch for good: closes the stream and cancels reconnects. Idempotent. */
  close(): void {
    this.closed = true;
    this.abort?.abort();
    this.retryTimer?.cancel();
    this.idleTimer?.cancel();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const base = this.client.orderedBases()[this.failures % this.client.options.coordinators.length]!;
    // Deltas (`table-delta`) only when we hold the table they start from: on a fresh stream, or resuming from our own table.
    const canDelta = this.lastEpochSeen < 0 || this.latest?.epoch === this.lastEpochSeen;
    const query = [this.lastEpochSeen >= 0 ? `since=${this.lastEpochSeen}` : '', canDelta ? 'delta=1' : '', this.member === null ? '' : `member=${this.member}`].filter(Boolean).join('&');
    const url = `${base}/v1/watch${query ? `?${query}` : ''}`;
    const abort = new AbortController();
    this.abort = abort;
    let reason = 'stream ended';
    try {
      const res = await this.client.options.fetch(url, { headers: requestHeaders(this.client.options, 'text/event-stream'), signal: abort.signal });
      if (res.status !== 200 || !res.body) {
        const body = await res.json().catch(() => null);
        const err = errorFromBody(res.status, body);
        if (err.code === COORDINATOR_ERRORS.EPOCH_AHEAD.code) {
          // The coordinator has never published our `since` (it lost its state, or it is another cluster): start over
          // from its snapshot rather than waiting forever for an epoch that will not come.
          this.lastEpochSeen = -1;
        }
        throw err;
      }
      this.client.prefer(base);
      this.failures = 0;
      this.events.emit('connected', base);
      this.touch();
      const parser = new SseParser((e) => this.onEvent(e));
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        if (this.closed) break;
        this.touch();
        parser.push(decoder.decode(chunk, { stream: true }));
      }
    } catch (err) {
      if (this.closed) return;
      reason = (err as Error).message;
      this.events.emit('error', err instanceof Error ? err : unavailable(String(err)));
    } finally {
      this.idleTimer?.cancel();
      abort.abort();
    }
    if (this.closed) return;
    this.events.emit('disconnected', reason);
    const delay = this.failures === 0 && this.lastEpochSeen < 0 ? backoffMs(this.client.options, 0) : backoffMs(this.client.options, this.failures);
    this.failures++;
    this.retryTimer = this.client.options.clock.setTimeout(() => void this.connect(), delay);
  }

  /** Re-arms the idle deadline: a stream without bytes (not even keep-alives) for watchIdleTimeoutMs is reconnected. */
  private touch(): void {
    const ms = this.client.options.watchIdleTimeoutMs;
    if (ms === 0) return;
    this.idleTimer?.cancel();
    this.idleTimer = this.client.options.clock.setTimeout(() => this.abort?.abort(new Error('watch idle timeout')), ms);
  }

  private onEvent(e: SseEvent): void {
    try {
      if (e.event === 'table' || e.event === 'table-delta') {
        let table: PartitionTable;
        let snapshot = false;
        if (e.event === 'table') {
          const ev = JSON.parse(e.data) as TableEvent;
          table = PartitionTable.fromJSON(ev.table);
          snapshot = ev.snapshot === true;
        } else {
          const d = JSON.parse(e.data) as TableDeltaEvent;
          if (d.epoch <= this.lastEpochSeen) return;
          if (!this.latest || this.latest.epoch !== d.fromEpoch) throw new Error(`table-delta from epoch ${d.fromEpoch}, but the watch holds ${this.latest?.epoch ?? 'no table'}`);
          table = PartitionTable.fromJSON(applyTableDelta(this.latest.toJSON(), d));
        }
        if (table.epoch <= this.lastEpochSeen) return; // a replay we already delivered
        this.lastEpochSeen = table.epoch;
        this.latest = table;
        this.events.emit('table', table, { snapshot });
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          const w = this.waiters[i]!;
          if (table.epoch >= w.epoch) {
            this.waiters.splice(i, 1);
            w.resolve(table);
          }
        }
      } else if (MEMBER_EVENTS.has(e.event)) {
        const ev = JSON.parse(e.data) as MemberEvent;
        if (typeof ev.epoch !== 'number' || ev.epoch <= this.lastEpochSeen) return; // its table was delivered already
        this.events.emit('membership', ev);
      }
    } catch (err) {
      // A malformed event is a coordinator bug: report it and drop the connection so the resume re-fetches cleanly.
      this.events.emit('error', err as Error);
      this.abort?.abort(err);
    }
  }
}
