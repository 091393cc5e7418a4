// `ringleader client`: the seed's test client service. An HTTP service on 900N that answers GET /customer/<id> with
// where the key lives and its value, read through getOrLoad from a simulated slow customer database that counts its
// loads. Flags -> options -> start; the only logic here is the demo's fake database.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Command } from 'commander';
import { Ringleader, type LoadResult } from '../client/index.js';
import { createLogger } from '../shared/logger.js';
import { coordinatorsOption, DEFAULT_COORDINATOR_URL, intOption, logLevelOption, readToken } from './options.js';

interface Flags {
  tokenFile?: string;
  port: number;
  httpPort?: number;
  host: string;
  coordinator?: string[];
  dbDelayMs: number;
  ttlMs: number;
  logLevel?: string;
}

/** The slow "customer database" of the seed: every load takes `delayMs` and is counted per key. */
class CustomerDb {
  readonly loads = new Map<string, number>();
  total = 0;
  constructor(private readonly delayMs: number) {}

  async load(id: string): Promise<string> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    const key = `customer:${id}`;
    this.loads.set(key, (this.loads.get(key) ?? 0) + 1);
    this.total++;
    return JSON.stringify({ id: Number(id), name: `Customer ${id}`, tier: ['bronze', 'silver', 'gold'][Number(id) % 3], loadedAt: new Date().toISOString() });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function register(program: Command): void {
  program
    .command('client')
    .description('the test client service: HTTP on 900N (GET /customer/<id>, /locate/<key>, /healthz), values read through getOrLoad')
    .option('--port <n>', 'service number N: listens on 9000+N (the seed: --port 1 -> 9001)', intOption('--port', 0, 999), 1)
    .option('--http-port <port>', 'exact HTTP port instead of 9000+N (0 = any free port)', intOption('--http-port', 0, 65535))
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--coordinator <url>', `coordinator URL; comma-separated or repeated for several (default ${DEFAULT_COORDINATOR_URL})`, coordinatorsOption)
    .option('--db-delay-ms <ms>', 'latency of the simulated customer database', intOption('--db-delay-ms', 0, 60_000), 300)
    .option('--ttl-ms <ms>', 'TTL of cached customers', intOption('--ttl-ms', 1, 86_400_000), 60_000)
    .option('--token-file <file>', 'bearer token presented to the coordinators (default: $RINGLEADER_TOKEN)')
    .option('--log-level <level>', 'trace | debug | info | warn | error | fatal | silent', logLevelOption)
    .action(async (flags: Flags) => {
      const token = readToken(flags.tokenFile);
      const logger = createLogger({ name: 'client-service', level: flags.logLevel });
      let cache: Ringleader;
      try {
        cache = await Ringleader.connect({ coordinators: flags.coordinator ?? [DEFAULT_COORDINATOR_URL], logger, connectTimeoutMs: 15_000, ...(token === null ? {} : { coordinatorToken: token }) });
      } catch (err) {
        logger.fatal({ err }, `client service could not get a table: ${(err as Error).message}`);
        console.error(`ringleader client: no partition table: ${(err as Error).message}`);
        process.exitCode = 1;
        return;
      }
      const db = new CustomerDb(flags.dbDelayMs);
      const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (req.method !== 'GET') return send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'GET only' } });
        if (url.pathname === '/healthz') return send(res, 200, { status: 'ok', epoch: cache.table?.epoch ?? null, dbLoads: db.total });
        const customer = /^\/customer\/([0-9]{1,12})$/.exec(url.pathname);
        if (customer) {
          const id = customer[1]!;
          const key = `customer:${id}`;
          const t0 = performance.now();
          let r: LoadResult;
          try {
            r = await cache.getOrLoadDetailed(key, () => db.load(id), { ttlMs: flags.ttlMs, ttlJitter: 0.1 });
          } catch (err) {
            const e = err as { code?: string; message: string };
            return send(res, 503, { error: { code: e.code ?? 'INTERNAL', message: e.message } });
          }
          const loc = cache.locate(key);
          return send(res, 200, {
            key,
            slot: loc.slot,
            partition: loc.partition,
            primary: loc.primary && { name: loc.primary.name, address: loc.primary.address },
            backups: loc.backups.map((m) => ({ name: m.name, address: m.address })),
            epoch: loc.epoch,
            value: JSON.parse(r.value) as unknown,
            loadedFrom: r.source === 'loader' ? 'database' : r.source === 'peer' ? 'cache (loaded by another process)' : r.source === 'stale' ? 'cache (stale, reloading)' : 'cache',
            loads: db.loads.get(key) ?? 0,
            totalLoads: db.total,
            servedInMs: Math.round((performance.now() - t0) * 10) / 10,
          });
        }
        const locate = /^\/locate\/(.{1,512})$/.exec(url.pathname);
        if (locate) {
          const loc = cache.locate(decodeURIComponent(locate[1]!));
          return send(res, 200, { ...loc, primary: loc.primary && { name: loc.primary.name, address: loc.primary.address }, backups: loc.backups.map((m) => ({ name: m.name, address: m.address })) });
        }
        send(res, 404, { error: { code: 'NOT_FOUND', message: 'try GET /customer/1232' } });
      };
      const server = createServer((req, res) => {
        handle(req, res).catch((err: unknown) => {
          logger.error({ err }, 'request failed');
          if (!res.headersSent) send(res, 500, { error: { code: 'INTERNAL', message: (err as Error).message } });
        });
      });
      const port = flags.httpPort ?? 9000 + flags.port;
      server.on('error', (err) => {
        logger.fatal({ err }, `client service cannot listen on ${flags.host}:${port}: ${err.message}`);
        cache.close();
        process.exitCode = 1;
      });
      server.listen(port, flags.host, () => {
        const addr = server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : port;
        logger.info({ port: bound }, `client service listening on http://${flags.host}:${bound}`);
        // A plain line too, for scripts and the demo to wait on.
        console.log(`client service listening on http://${flags.host}:${bound}`);
      });
      const stop = () => {
        cache.close();
        server.close(() => process.exit(0));
        server.closeAllConnections();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
