import { connect, type Socket } from 'node:net';
import { encodeCommand } from '../protocol/resp/command-encoder.js';
import { ReplyDecoder, RespError, type RespReply } from '../protocol/resp/reply-decoder.js';
import type { FenceAnswer } from '../partitioning/copy-states.js';
import type { Logger } from '../shared/logger.js';
import { splitAddress } from './prober.js';

/** One `RL.FENCE p term` to send to a node. */
export interface FenceRequest {
  readonly partition: number;
  readonly term: number;
}

/** The coordinator's seam to fence copies before a failover (RL.FENCE): the real one speaks RESP; tests inject their own. */
export interface Fencer {
  /**
   * Sends every request to the node at `address` in one pipelined write and resolves, within about `timeoutMs`,
   * with one answer per request in order: the copy's (term, offset, complete), or null (no answer in time, an error
   * reply, a broken connection). Never rejects.
   */
  fence(address: string, requests: readonly FenceRequest[], timeoutMs: number): Promise<Array<FenceAnswer | null>>;
  /** Closes connections to nodes not in `addresses` (members that left the table). */
  retain(addresses: ReadonlySet<string>): void;
  close(): void;
}

/** Replies larger than this from a node are a protocol error here (an answer is three small integers). */
const MAX_REPLY_BYTES = 64 * 1024;

/**
 * Fences over RESP connections kept per node address: opened on first use (AUTH with the node password when there
 * is one), reused by later failovers, and dropped (to be reopened next time) after a timeout or any error, so a late
 * reply can never be matched to a later request.
 */
export class RespFencer implements Fencer {
  private readonly conns = new Map<string, FenceConnection>();
  private closed = false;

  constructor(private readonly password: string, private readonly logger: Logger) {}

  async fence(address: string, requests: readonly FenceRequest[], timeoutMs: number): Promise<Array<FenceAnswer | null>> {
    if (this.closed || requests.length === 0) return requests.map(() => null);
    let conn = this.conns.get(address);
    if (conn === undefined || conn.broken) {
      conn?.destroy();
      const target = splitAddress(address);
      if (target === null) return requests.map(() => null);
      conn = new FenceConnection(target.host, target.port, this.password, this.logger, address);
      this.conns.set(address, conn);
    }
    const replies = await conn.send(requests.map((r) => ['RL.FENCE', r.partition, r.term]), timeoutMs);
    return replies.map(toAnswer);
  }

  retain(addresses: ReadonlySet<string>): void {
    for (const [address, conn] of this.conns) {
      if (addresses.has(address)) continue;
      conn.destroy();
      this.conns.delete(address);
    }
  }

  close(): void {
    this.closed = true;
    for (const conn of this.conns.values()) conn.destroy();
    this.conns.clear();
  }
}

/** `*3 :term :offset :complete` -> an answer; anything else -> null. */
function toAnswer(reply: RespReply | undefined): FenceAnswer | null {
  if (!Array.isArray(reply) || reply.length !== 3) return null;
  const [term, offset, complete] = reply;
  if (typeof term !== 'number' || typeof offset !== 'number' || (complete !== 0 && complete !== 1)) return null;
  if (!Number.isSafeInteger(term) || !Number.isSafeInteger(offset) || term < 0 || offset < 0) return null;
  return { term, offset, complete: complete === 1 };
}

interface Batch {
  readonly replies: Array<RespReply | undefined>;
  remaining: number;
  done: (replies: Array<RespReply | undefined>) => void;
}

/** One pipelined RESP connection to a node: replies are matched to commands in order. */
class FenceConnection {
  broken = false;
  private readonly socket: Socket;
  /** Every command sent and not answered yet, in order: [its batch, its index] (the AUTH reply has no batch). */
  private readonly waiting: Array<[Batch | null, number]> = [];

  constructor(host: string, port: number, password: string, private readonly logger: Logger, private readonly address: string) {
    this.socket = connect({ host, port, noDelay: true });
    const decoder = new ReplyDecoder((reply) => this.onReply(reply), { maxBulkBytes: MAX_REPLY_BYTES, maxAggregateLength: 16 });
    this.socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        this.fail(`reply does not parse: ${(err as Error).message}`);
      }
    });
    this.socket.on('error', (err) => this.fail(err.message));
    this.socket.on('close', () => this.fail('connection closed'));
    if (password !== '') {
      this.socket.write(encodeCommand(['AUTH', password]));
      this.waiting.push([null, 0]);
    }
  }

  /** Writes every command at once (node queues them until connected) and resolves with the replies; undefined = none in time. */
  send(commands: ReadonlyArray<ReadonlyArray<string | number>>, timeoutMs: number): Promise<Array<RespReply | undefined>> {
    return new Promise((resolve) => {
      if (this.broken) return resolve(commands.map(() => undefined));
      let timer: NodeJS.Timeout | null = null;
      const batch: Batch = {
        replies: commands.map(() => undefined),
        remaining: commands.length,
        done: (replies) => {
          if (timer !== null) clearTimeout(timer);
          resolve(replies);
        },
      };
      timer = setTimeout(() => this.fail(`no answer within ${timeoutMs} ms`), timeoutMs);
      const buffers = commands.map((c, i) => {
        this.waiting.push([batch, i]);
        return encodeCommand(c);
      });
      this.socket.write(buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers));
    });
  }

  destroy(): void {
    this.fail('closed');
  }

  private onReply(reply: RespReply): void {
    const next = this.waiting.shift();
    if (next === undefined) return this.fail('an unexpected reply');
    const [batch, i] = next;
    if (batch === null) {
      if (reply instanceof RespError) this.logger.error({ node: this.address, err: reply.message }, 'fencing: AUTH refused by the node (is --node-password-file the nodes\' --requirepass?)');
      return;
    }
    batch.replies[i] = reply;
    if (reply instanceof RespError) this.logger.warn({ node: this.address, err: reply.message }, 'fencing: the node refused RL.FENCE');
    if (--batch.remaining === 0) batch.done(batch.replies);
  }

  /** Breaks the connection: every batch still waiting resolves with what it has (missing replies undefined). */
  private fail(why: string): void {
    if (!this.broken && why !== 'closed') this.logger.debug({ node: this.address, why }, 'fencing connection dropped');
    this.broken = true;
    this.socket.destroy();
    const batches = new Set<Batch>();
    for (const [batch] of this.waiting.splice(0)) if (batch !== null) batches.add(batch);
    for (const b of batches) b.done(b.replies);
  }
}
