import type { RespReply } from '../protocol/resp/reply-decoder.js';

/**
 * The narrow seam through which embedded mode lets the client answer from a node in the same process (the client
 * never imports src/node). Owned by the client; src/embedded implements it over a real node.
 */
export interface LocalStore {
  /** The member id of the in-process node: the client uses it for keys whose primary is this member. */
  readonly memberId: string;
  /**
   * Runs one command against the local node as if it came over RESP, with the same replies (including MOVED when the
   * node no longer owns the slot: the client then follows the redirect over the network).
   */
  execute(args: ReadonlyArray<string | Buffer>): Promise<RespReply>;
}
