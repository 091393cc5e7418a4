import type { CoordinatorClient } from '../control/client.js';
import type { CopyReport } from '../protocol/control.js';

export interface CopyReporter {
  stop(): void;
}

/**
 * Plays the node side of copy reports (PUT /v1/members/{id}/copies) for members that do not report themselves
 * (redis-server stand-ins, or nodes without the replication stream): every `intervalMs` it reads the table and reports,
 * for each member id `members()` returns, every learner copy as `synced` and every primary as `serving` at the current
 * term (with the incarnation from GET /v1/members). It claims data it does not have: use it only in tests about
 * routing and membership, never in tests about data. Errors are ignored (the next round retries).
 */
export function startCopyReporter(client: CoordinatorClient, members: () => readonly string[], intervalMs = 50): CopyReporter {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const round = async () => {
    try {
      const ids = members();
      if (ids.length > 0) {
        const [table, status] = await Promise.all([client.getTable(), client.members()]);
        for (const id of ids) {
          const m = status.members.find((x) => x.id === id);
          if (!m || m.state === 'dead' || m.state === 'left') continue;
          const copies: CopyReport[] = [];
          for (let p = 0; p < table.partitionCount; p++) {
            const s = table.stateOf(p, id);
            if (s === 'learner') copies.push({ partition: p, term: table.termOf(p), offset: 0, status: 'synced' });
            else if (s === 'primary' && table.copiesOf(p).some((c) => c.state === 'handing-off')) copies.push({ partition: p, term: table.termOf(p), offset: 0, status: 'serving' });
          }
          if (copies.length > 0) await client.reportCopies(id, { incarnation: m.incarnation, epoch: table.epoch, copies });
        }
      }
    } catch {
      // next round
    }
    if (!stopped) timer = setTimeout(() => void round(), intervalMs);
  };
  void round();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
