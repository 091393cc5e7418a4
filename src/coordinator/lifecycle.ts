import type { MemberState, MemberEventType } from '../protocol/control.js';

/** What can happen to a member. */
export type LifecycleInput =
  | 'join' // a join request (first time, after a restart, or after dead/left: a new incarnation)
  | 'applied' // a heartbeat reporting it applied the table that includes it
  | 'heartbeat' // any heartbeat
  | 'silent-suspect' // silent for suspectAfterMs
  | 'silent-dead' // silent for deadAfterMs
  | 'process-gone' // its watch stream closed and its RESP port refused a connection (the fast failure path)
  | 'leave' // DELETE /v1/members/{id}
  | 'handover-done'; // every holder applied the epoch that moved the leaving member's partitions away

/**
 * The member lifecycle as one function: the next state for `input` in `state`, or null when the input does not
 * apply (a heartbeat from a dead member, a leave of a member that left). Same state = accepted, nothing changes.
 *
 *   joining --applied--> active --silent-suspect--> suspect --silent-dead--> dead
 *   suspect --heartbeat--> active          joining --silent-suspect--> suspect
 *   joining|active|suspect --leave--> leaving --handover-done|silent-dead--> left
 *   joining|active|suspect --process-gone--> dead      leaving --process-gone--> left
 *   dead|left|leaving --join--> joining (new incarnation); joining|active|suspect --join--> joining (restarted process)
 */
export function nextState(state: MemberState, input: LifecycleInput): MemberState | null {
  switch (input) {
    case 'join':
      return 'joining';
    case 'applied':
      return state === 'joining' ? 'active' : nextState(state, 'heartbeat');
    case 'heartbeat':
      if (state === 'dead' || state === 'left') return null;
      return state === 'suspect' ? 'active' : state;
    case 'silent-suspect':
      return state === 'active' || state === 'joining' ? 'suspect' : state === 'dead' || state === 'left' ? null : state;
    case 'silent-dead':
      return state === 'suspect' ? 'dead' : state === 'leaving' ? 'left' : state === 'dead' || state === 'left' ? null : state;
    case 'process-gone':
      return state === 'dead' || state === 'left' ? null : state === 'leaving' ? 'left' : 'dead';
    case 'leave':
      return state === 'dead' || state === 'left' ? null : 'leaving';
    case 'handover-done':
      return state === 'leaving' ? 'left' : null;
  }
}

/** The watch event announcing a move into `to` (null: not announced). */
export function eventForState(from: MemberState | null, to: MemberState): MemberEventType | null {
  switch (to) {
    case 'joining':
      return 'member-joined';
    case 'active':
      return from === 'active' ? null : 'member-active';
    case 'suspect':
      return 'member-suspect';
    case 'dead':
      return 'member-dead';
    case 'leaving':
      return 'member-leaving';
    case 'left':
      return 'member-left';
  }
}
