import { createHash } from 'node:crypto';
import type { MemberJson, MemberState } from '../protocol/control.js';

/** A cluster member as the planner and the table see it. Immutable. */
export type Member = Readonly<MemberJson>;

/** States whose members may hold partitions. A suspect keeps its partitions until it is declared dead. */
export const PLACEABLE_STATES: ReadonlySet<MemberState> = new Set<MemberState>(['joining', 'active', 'suspect']);

export function isPlaceable(m: Pick<Member, 'state'>): boolean {
  return PLACEABLE_STATES.has(m.state);
}

/**
 * The stable id of a member name: 40 hex chars (SHA-1 of a namespaced name). Deterministic, so every process
 * computes the same id, and it doubles as the Redis Cluster node id. Names are unique in a cluster, so ids are.
 */
export function memberIdFor(name: string): string {
  return createHash('sha1').update('ringleader/member/').update(name, 'utf8').digest('hex');
}
