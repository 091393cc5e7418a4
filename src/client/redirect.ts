import type { RespError } from '../protocol/resp/reply-decoder.js';

/**
 * An error reply that tells the client to go elsewhere or retry, parsed once at the connection edge into a typed
 * value (range-checked) so routing never splits message strings.
 * - moved: the slot lives at `address` now; refresh the table, then retry there.
 * - ask: this one command should go to `address`, preceded by ASKING (a slot migration is in progress).
 * - tryagain: a multi-key command met a migrating slot; retry after a short backoff.
 * - clusterdown: the node has no owner for the slot (or the cluster is not serving); refresh and retry.
 * - noreplicas: sync mode refused a write because too few in-sync copies remain (before running it); back off and
 *   retry (re-replication or a returning backup lifts it).
 */
export type Redirect =
  | { readonly kind: 'moved' | 'ask'; readonly slot: number; readonly address: string }
  | { readonly kind: 'tryagain' | 'clusterdown' | 'noreplicas' };

const ADDRESS = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+|[0-9A-Fa-f:]+):([0-9]{1,5})$/;

/**
 * Returns the redirect an error reply means, or null for any other error (WRONGTYPE, ERR...). A MOVED/ASK with a
 * malformed slot or address is not trusted as a redirect (null): it surfaces as a server error instead of sending
 * the client somewhere arbitrary.
 */
export function parseRedirect(err: RespError): Redirect | null {
  switch (err.prefix) {
    case 'MOVED':
    case 'ASK': {
      const parts = err.message.split(' ');
      if (parts.length !== 3) return null;
      const slotText = parts[1]!;
      const address = parts[2]!;
      if (!/^[0-9]{1,5}$/.test(slotText)) return null;
      const slot = Number(slotText);
      if (slot > 16383) return null;
      const m = ADDRESS.exec(address);
      if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) return null;
      return { kind: err.prefix === 'MOVED' ? 'moved' : 'ask', slot, address };
    }
    case 'TRYAGAIN':
      return { kind: 'tryagain' };
    case 'CLUSTERDOWN':
      return { kind: 'clusterdown' };
    case 'NOREPLICAS':
      return { kind: 'noreplicas' };
    default:
      return null;
  }
}
