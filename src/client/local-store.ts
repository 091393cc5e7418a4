import type { RespReply } from '../protocol/resp/reply-decoder.js';

/**
 * The narrow seam through which embedded mode lets the client answer from a node in the same process (the client
 * never imports src/node). Owned by the client; src/embedded implements it over a real node.
 */
export interface LocalStore {
  /**
   * Runs one command locally when the in-process node owns the key's slot right now and the command is one it serves
   * locally; returns the same reply the node would send over RESP. Returns undefined otherwise: the client then sends
   * the command over the network as usual (so a partition that just moved away costs one normal round trip, not an error).
   * Synchronous on purpose: a local hit costs no promise, no socket and no parse.
   */
  execute(args: ReadonlyArray<string | Buffer | number>): RespReply | undefined;
}
