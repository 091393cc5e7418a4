import type { PartitionTable } from '../partitioning/table.js';
import type { MemberEvent } from '../protocol/control.js';
import { CoordinatorClient, type TableWatch } from '../control/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

/**
 * Where the client gets partition tables from: a push stream plus an on-demand fetch. Owned by the client; the real
 * one follows the coordinator, tests may hand in an in-memory one.
 * Listeners must not throw or block.
 */
export interface TableSource {
  /** Subscribes to new tables (in increasing epoch order) and membership events (each before its epoch's table). */
  subscribe(onTable: (table: PartitionTable) => void, onMembership: (event: MemberEvent) => void): void;
  /** Fetches the current table now (the client calls it on MOVED/CLUSTERDOWN/closed connections, one at a time). */
  fetch(): Promise<PartitionTable>;
  close(): void;
}

/** The coordinator as a TableSource: the SSE watch for pushes, GET /v1/table for refreshes. */
export class CoordinatorTableSource implements TableSource {
  private readonly api: CoordinatorClient;
  private watch: TableWatch | null = null;

  constructor(coordinators: readonly string[], clock: Clock, logger: Logger, token: string | null = null) {
    this.api = new CoordinatorClient({ coordinators, clock, logger, maxAttempts: 2, token });
  }

  subscribe(onTable: (table: PartitionTable) => void, onMembership: (event: MemberEvent) => void): void {
    const w = this.api.watch();
    this.watch = w;
    w.on('table', (t) => onTable(t));
    w.on('membership', (e) => onMembership(e));
  }

  fetch(): Promise<PartitionTable> {
    return this.api.getTable();
  }

  close(): void {
    this.watch?.close();
  }
}
