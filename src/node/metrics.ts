import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { COMMAND_LATENCY_BUCKETS } from './command-stats.js';
import type { NodeServer } from './server.js';

/**
 * A node's Prometheus metrics, in its own Registry (several nodes may share a process). Every value is read at
 * scrape time from the counters the server and store keep anyway: nothing is added to the command hot path.
 */
export class NodeMetrics {
  readonly registry = new Registry();

  constructor(server: NodeServer) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    };
    // Counters keep their totals in the server and store; at scrape time the Counter is set to that total, so
    // Prometheus sees a monotonic counter (rate() works, resets only when the process restarts).
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    };
    const st = (): ReturnType<NonNullable<NodeServer['store']>['stats']> | undefined => server.store?.stats();
    gauge('ringleader_node_epoch', 'Epoch of the partition table this node applied last', () => server.view.epoch);
    gauge('ringleader_node_connected_clients', 'Open client connections', () => server.connectionCount);
    counter('ringleader_node_connections_received_total', 'Connections accepted since start', () => server.stats.connectionsReceived);
    counter('ringleader_node_commands_processed_total', 'Commands processed since start', () => server.stats.commandsProcessed);
    counter('ringleader_node_moved_total', 'MOVED redirections sent', () => server.stats.moved);
    counter('ringleader_node_crossslot_total', 'CROSSSLOT errors sent', () => server.stats.crossSlot);
    counter('ringleader_node_clusterdown_total', 'CLUSTERDOWN errors sent', () => server.stats.clusterDown);
    counter('ringleader_node_protocol_errors_total', 'Connections closed for a protocol error', () => server.stats.protocolErrors);
    counter('ringleader_node_output_limit_disconnects_total', 'Clients disconnected for exceeding the output buffer limit', () => server.stats.outputLimitDisconnects);
    counter('ringleader_node_net_input_bytes_total', 'Bytes read from clients', () => server.stats.netInputBytes);
    counter('ringleader_node_net_output_bytes_total', 'Bytes written to clients', () => server.stats.netOutputBytes);
    gauge('ringleader_node_keys', 'Keys held (all partitions, backups included)', () => st()?.keys ?? 0);
    gauge('ringleader_node_memory_used_bytes', 'Accounted bytes of all entries (keys, values, overhead)', () => st()?.usedBytes ?? 0);
    gauge('ringleader_node_memory_limit_bytes', 'Configured memory limit, --maxmemory (0 = none)', () => st()?.maxMemoryBytes ?? 0);
    counter('ringleader_node_keyspace_hits_total', 'Reads that found their key', () => st()?.hits ?? 0);
    counter('ringleader_node_keyspace_misses_total', 'Reads that did not find their key', () => st()?.misses ?? 0);
    counter('ringleader_node_evicted_keys_total', 'Keys evicted to stay under the memory limit', () => st()?.evictions ?? 0);
    counter('ringleader_node_expired_keys_total', 'Keys removed because their TTL passed', () => st()?.expiredKeys ?? 0);
    counter('ringleader_node_oom_rejections_total', 'Writes refused with OOM', () => st()?.oomRejections ?? 0);
    // A histogram assembled at scrape time from the server's own bucket counters (nothing from prom-client on the
    // command path).
    const histogram = {
      name: 'ringleader_node_command_duration_seconds',
      help: 'Time to execute one command on the event loop, by command (reply writing and network excluded)',
      type: 'histogram',
      aggregator: 'sum',
      reset: () => undefined,
      get: () => {
        const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
        for (const [command, e] of server.commandStats.entries()) {
          let cumulative = 0;
          COMMAND_LATENCY_BUCKETS.forEach((le, i) => {
            cumulative += e.counts[i]!;
            values.push({ metricName: 'ringleader_node_command_duration_seconds_bucket', labels: { le, command }, value: cumulative });
          });
          values.push({ metricName: 'ringleader_node_command_duration_seconds_bucket', labels: { le: '+Inf', command }, value: e.count });
          values.push({ metricName: 'ringleader_node_command_duration_seconds_sum', labels: { command }, value: e.sum });
          values.push({ metricName: 'ringleader_node_command_duration_seconds_count', labels: { command }, value: e.count });
        }
        return { name: histogram.name, help: histogram.help, type: 'histogram', values, aggregator: 'sum' };
      },
    };
    this.registry.registerMetric(histogram as unknown as Metric);
    counter('ringleader_node_lease_refused_total', '-TRYAGAIN replies because the lease lapsed (no answered heartbeat for leaseMs)', () => server.stats.leaseRefused);
    counter('ringleader_node_lease_late_closes_total', 'Connections closed unanswered because the lease lapsed between running commands and replying', () => server.stats.leaseLateCloses);
    gauge('ringleader_node_lease_remaining_seconds', 'Time left on the lease (-1 = no lease to lapse: standalone or --lease-mode off)', () => {
      const ms = server.view.lease.remainingMs();
      return Number.isFinite(ms) ? ms / 1000 : -1;
    });
    gauge('ringleader_node_primary_partitions', 'Partitions this node serves as primary', () => server.view.owned.reduce((a, b) => a + b, 0));
  }

  /** Serves GET /metrics on host:port (0 = any free port); resolves with the HTTP server and its port. */
  async listen(host: string, port: number): Promise<{ server: Server; port: number }> {
    const http = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
        res.writeHead(404).end('not found\n');
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        () => res.writeHead(500).end('metrics failed\n'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => resolve());
    });
    const addr = http.address();
    return { server: http, port: typeof addr === 'object' && addr !== null ? addr.port : port };
  }
}
