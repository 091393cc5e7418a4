import { Ringleader as ClientRingleader, type ClientInput } from '../client/index.js';
import { startNode, type NodeOptions, type RunningNode } from '../node/index.js';
import { NodeLocalStore } from './local-store.js';

/** Options of Ringleader.embed(): a node in this process plus a client that uses it without a network hop. */
export interface EmbedOptions {
  /** Coordinator URL(s). */
  coordinator: string | readonly string[];
  /** RESP port of the embedded node (0 = any free port). */
  port: number;
  /** Member name; default `embedded-<pid>`. Unique in the cluster. */
  name?: string;
  /** Interface the node binds (other nodes and clients reach it there). Default 127.0.0.1. */
  host?: string;
  /** More node options (memory budget, eviction policy...). */
  node?: Partial<Omit<NodeOptions, 'name' | 'coordinators'>>;
  /** More client options (timeouts, retries...). */
  client?: Partial<Omit<ClientInput, 'coordinators' | 'localStore'>>;
}

/**
 * The package's Ringleader: the client, plus `embed()` for the embedded mode. (embed lives here, above client and
 * node, because the client must not depend on the node.)
 */
export class Ringleader extends ClientRingleader {
  /** The in-process node when created by embed(), else null. */
  embeddedNode: RunningNode | null = null;
  localStore: NodeLocalStore | null = null;

  /**
   * Starts a node inside this process (it joins the cluster like any node) and returns a client whose reads of keys
   * in partitions this node owns are served from local memory. close() stops both (the node leaves gracefully).
   */
  static async embed(options: EmbedOptions): Promise<Ringleader> {
    if (options === null || typeof options !== 'object') throw new TypeError('embed options must be an object');
    const coordinators = typeof options.coordinator === 'string' ? [options.coordinator] : [...(options.coordinator ?? [])];
    if (coordinators.length === 0) throw new TypeError('coordinator must be a URL or a non-empty array of URLs');
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new TypeError(`port must be an integer in 0..65535, got ${String(options.port)}`);
    const node = await startNode({
      ...options.node,
      name: options.name ?? `embedded-${process.pid}`,
      coordinators,
      server: { ...options.node?.server, port: options.port, host: options.host ?? '127.0.0.1' },
    });
    const local = new NodeLocalStore(node);
    const client = new Ringleader({ ...options.client, coordinators, localStore: local });
    client.embeddedNode = node;
    client.localStore = local;
    try {
      await client.ready();
    } catch (err) {
      await node.close();
      throw err;
    }
    return client;
  }

  /** Closes the client; with an embedded node, also stops it (graceful leave). Resolves when both are down. */
  override close(): Promise<void> {
    super.close();
    return this.embeddedNode?.close() ?? Promise.resolve();
  }
}
