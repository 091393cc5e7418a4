import type { Logger } from 'pino';
import { systemClock, type Clock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { Coordinator } from './coordinator.js';
import { buildHttp } from './http.js';
import { resolveCoordinatorOptions, type CoordinatorOptionsInput } from './options.js';
import { FileStateStore, InMemoryStateStore, type StateStore } from './state-store.js';
import { WatchHub } from './watch-hub.js';
import type { Prober } from './prober.js';

export interface StartCoordinatorOptions extends CoordinatorOptionsInput {
  /** TCP port; 0 picks a free one (read it from `url`). Default 8081. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (loopback only unless told otherwise). */
  host?: string;
  /** Directory for members.json. Without it (and without `store`), state lives in memory and a restart forgets it. */
  dataDir?: string;
  /** A state store to use instead of dataDir's FileStateStore (tests, etcd). */
  store?: StateStore;
  clock?: Clock;
  logger?: Logger;
  /** The fast failure path's port probe (default: a real TCP connect; tests inject one). */
  prober?: Prober;
}

export interface RunningCoordinator {
  /** Base URL, e.g. http://127.0.0.1:8081. */
  url: string;
  port: number;
  coordinator: Coordinator;
  /** Stops accepting requests, ends watch streams, stops timers. Pending unplanned changes are not flushed. */
  close(): Promise<void>;
}

/** Starts a coordinator (state store, logic, HTTP API, watch streams) in this process. */
export async function startCoordinator(options: StartCoordinatorOptions = {}): Promise<RunningCoordinator> {
  const { port = 8081, host = '127.0.0.1', dataDir, store, clock = systemClock, logger = silentLogger(), prober, ...rest } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`port must be an integer in 0..65535, got ${port}`);
  const resolved = resolveCoordinatorOptions(rest);
  const stateStore = store ?? (dataDir === undefined ? new InMemoryStateStore() : new FileStateStore(dataDir));
  const coordinator = await Coordinator.open({ options: resolved, store: stateStore, clock, logger, ...(prober ? { prober } : {}) });
  const hub = new WatchHub(coordinator, clock, logger);
  const app = buildHttp(coordinator, hub, logger, clock);
  try {
    await app.listen({ port, host });
  } catch (err) {
    hub.close();
    await coordinator.close();
    throw err;
  }
  const addr = app.server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  let closing: Promise<void> | null = null;
  return {
    url,
    port: boundPort,
    coordinator,
    close() {
      closing ??= (async () => {
        hub.close();
        await app.close();
        await coordinator.close();
      })();
      return closing;
    },
  };
}
