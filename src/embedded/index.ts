/** Embedded mode: a node and a client in one process, the client reading locally owned keys without a network hop. */
export { Ringleader, type EmbedOptions } from './embed.js';
export { NodeLocalStore } from './local-store.js';
