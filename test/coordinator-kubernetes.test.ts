// Integration: Kubernetes discovery (--members-from kubernetes) with @kubernetes/client-node 1.4.0 against a local
// HTTP server that speaks the API server's list/watch wire format for EndpointSlices: a JSON list with a
// resourceVersion, then a chunked watch stream of {type, object} lines (ADDED/MODIFIED/DELETED/BOOKMARK), an ERROR
// event carrying a 410 Status, a watch answered 410, and dropped connections. No API server runs on these machines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesMemberSource, resolveKubernetesOptions, startCoordinator } from '../src/coordinator/index.js';
import { startNode, type RunningNode } from '../src/node/index.js';
import { silentLogger } from '../src/shared/logger.js';
import { systemClock } from '../src/shared/clock.js';

const NS = 'cache';
const SERVICE = 'ringleader-node';

/** An EndpointSlice as the API server sends it (recorded shape, trimmed to what matters). */
function slice(name: string, rv: number, endpoints: Array<{ pod: string; ip: string; ready: boolean | null }>): Record<string, unknown> {
  return {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: {
      name, namespace: NS, uid: `uid-${name}`, resourceVersion: String(rv), generation: 1, creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'kubernetes.io/service-name': SERVICE, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: SERVICE, uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: e.ready === null ? {} : { ready: e.ready, serving: e.ready, terminating: false },
      hostname: e.pod,
      targetRef: { kind: 'Pod', namespace: NS, name: e.pod, uid: `pod-${e.pod}` },
      nodeName: 'worker-1',
    })),
    ports: [{ name: 'resp', protocol: 'TCP', port: 7001 }],
  };
}

/** A fake API server for one resource: list + watch with resourceVersions. */
class FakeApi {
  readonly slices = new Map<string, Record<string, unknown>>();
  rv = 100;
  lists = 0;
  readonly watchRequests: Array<{ resourceVersion: string | null; labelSelector: string | null; auth: string | undefined }> = [];
  /** Answer the next watch request with HTTP 410 instead of a stream. */
  goneNext = false;
  private readonly watches = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server = createServer((req, res) => this.handle(req, res));
  url = '';

  async start(): Promise<void> {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url!, 'http://x');
    if (u.pathname !== `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    }
    if (u.searchParams.get('watch') === 'true') {
      this.watchRequests.push({ resourceVersion: u.searchParams.get('resourceVersion'), labelSelector: u.searchParams.get('labelSelector'), auth: req.headers.authorization });
      if (this.goneNext) {
        this.goneNext = false;
        res.writeHead(410, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 }));
      }
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      this.watches.add(res);
      res.on('close', () => this.watches.delete(res));
      return;
    }
    this.lists++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'EndpointSliceList', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: String(this.rv) }, items: [...this.slices.values()] }));
  }

  /** Changes a slice and sends the event on every open watch. */
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', name: string, endpoints: Array<{ pod: string; ip: string; ready: boolean | null }> = []): void {
    this.rv++;
    const obj = slice(name, this.rv, endpoints);
    if (type === 'DELETED') this.slices.delete(name);
    else this.slices.set(name, obj);
    this.send({ type, object: obj });
  }

  send(line: unknown): void {
    for (const w of this.watches) w.write((typeof line === 'string' ? line : JSON.stringify(line)) + '\n');
  }

  /** The 410 as the API server sends it: an ERROR event inside the 200 watch stream, then the stream ends. */
  expire(): void {
    this.send({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 1 (150)', reason: 'Expired', code: 410 } });
    for (const w of this.watches) w.end();
  }

  /** Drops every connection mid-stream. */
  drop(): void {
    for (const s of this.sockets) s.destroy();
  }

  get openWatches(): number {
    return this.watches.size;
  }
}

function kubeconfig(dir: string, server: string): string {
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config', 'clusters:', '- name: test', '  cluster:', `    server: ${server}`, '    insecure-skip-tls-verify: true',
    'users:', '- name: test', '  user:', '    token: test-token', 'contexts:', '- name: test', '  context:', '    cluster: test', '    user: test',
    `    namespace: ${NS}`, 'current-context: test', '',
  ].join('\n'));
  return file;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('EndpointSlice source: list, watch from the resourceVersion, resume after a drop, re-list on 410', async (t) => {
  const api = new FakeApi();
  await api.start();
  t.after(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), 'rl-k8s-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  api.slices.set('s1', slice('s1', 100, [{ pod: 'node-0', ip: '10.0.0.1', ready: true }, { pod: 'node-1', ip: '10.0.0.2', ready: false }]));
  let changes = 0;
  const source = new KubernetesMemberSource(resolveKubernetesOptions({ service: SERVICE, namespace: NS, kubeconfig: kubeconfig(dir, api.url), backoffMinMs: 20, backoffMaxMs: 100 }), systemClock, silentLogger(), () => changes++);
  t.after(() => source.close());
  assert.equal(source.admits({ name: 'node-0', address: '10.0.0.1:7001' }), false, 'nobody before the first list');
  source.start();
  await waitFor(() => source.synced && api.openWatches === 1, 'list then watch');
  assert.deepEqual(api.watchRequests[0], { resourceVersion: '100', labelSelector: `kubernetes.io/service-name=${SERVICE}`, auth: 'Bearer test-token' });
  assert.ok(source.admits({ name: 'node-0', address: '127.0.0.1:7001' }), 'matched by pod name');
  assert.ok(source.admits({ name: 'other', address: '10.0.0.1:7001' }), 'matched by address');
  assert.ok(!source.admits({ name: 'node-1', address: '10.0.0.2:7001' }), 'not ready: not admitted');

  api.event('MODIFIED', 's1', [{ pod: 'node-0', ip: '10.0.0.1', ready: true }, { pod: 'node-1', ip: '10.0.0.2', ready: null }]);
  await waitFor(() => source.admits({ name: 'node-1', address: 'x:1' }), 'node-1 ready (a nil ready means ready)');
  api.send('{"type":"MODIFIED","object":{garbage'); // a torn line is ignored
  api.event('ADDED', 's2', [{ pod: 'node-2', ip: '10.0.0.3', ready: true }]);
  await waitFor(() => source.admits({ name: 'node-2', address: 'x:1' }), 'node-2 from a second slice');
  api.send({ type: 'BOOKMARK', object: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', metadata: { resourceVersion: '150' } } });
  await new Promise((r) => setTimeout(r, 50));

  // A dropped connection: watch again from the last resourceVersion seen (the bookmark's), no re-list.
  api.drop();
  await waitFor(() => api.watchRequests.length === 2 && api.openWatches === 1, 'the watch to come back');
  assert.equal(api.watchRequests[1]!.resourceVersion, '150');
  assert.equal(api.lists, 1);
  assert.ok(source.admits({ name: 'node-2', address: 'x:1' }), 'state kept across the drop');

  // 410 Gone as an ERROR event inside the stream: list again, then watch from the new list's version.
  api.slices.delete('s2'); // a deletion the watch never reported: only a re-list can show it
  api.rv = 200;
  api.expire();
  await waitFor(() => api.lists === 2 && api.openWatches === 1, 're-list after 410');
  assert.equal(api.watchRequests.at(-1)!.resourceVersion, '200');
  await waitFor(() => !source.admits({ name: 'node-2', address: 'x:1' }), 'the re-list to drop node-2');

  // A watch request answered 410 (not 200): re-list too.
  api.goneNext = true;
  api.drop();
  await waitFor(() => api.lists === 3 && api.openWatches === 1, 're-list after a 410 status');
  api.event('DELETED', 's1');
  await waitFor(() => !source.admits({ name: 'node-0', address: '10.0.0.1:1' }), 'the deleted slice');
  assert.ok(changes >= 4, `onChange called ${changes} times`);
});

test('coordinator with Kubernetes discovery: only members with a ready endpoint hold partitions', async (t) => {
  const api = new FakeApi();
  await api.start();
  t.after(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), 'rl-k8s-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  api.slices.set('s1', slice('s1', 100, [{ pod: 'k-0', ip: '10.1.0.1', ready: true }, { pod: 'k-1', ip: '10.1.0.2', ready: false }]));
  const c = await startCoordinator({
    port: 0, planDebounceMs: 0, heartbeatMs: 100, suspectAfterMs: 1000, deadAfterMs: 2000,
    kubernetes: { service: SERVICE, namespace: NS, kubeconfig: kubeconfig(dir, api.url), backoffMinMs: 20, backoffMaxMs: 100 },
  });
  t.after(() => c.close());
  const nodes: RunningNode[] = [];
  t.after(() => Promise.all(nodes.map((n) => n.close())));
  for (const name of ['k-0', 'k-1', 'k-2']) nodes.push(await startNode({ name, coordinators: [c.url], server: { port: 0 }, leaveTimeoutMs: 200 }));
  const names = () => c.coordinator.table.members.map((m) => m.name).sort();
  await waitFor(() => names().join() === 'k-0' && c.coordinator.members().filter((m) => m.lastHeartbeatAgoMs !== null).length === 3, 'only k-0 in the table while all three heartbeat');
  // k-1 becomes ready, k-2 appears: both join the table
  api.event('MODIFIED', 's1', [{ pod: 'k-0', ip: '10.1.0.1', ready: true }, { pod: 'k-1', ip: '10.1.0.2', ready: true }]);
  api.event('ADDED', 's2', [{ pod: 'k-2', ip: '10.1.0.3', ready: true }]);
  await waitFor(() => names().join() === 'k-0,k-1,k-2', 'all three in the table');
  await waitFor(() => nodes.every((n) => n.view.table?.members.length === 3), 'nodes to apply it');
  // k-0's endpoint goes away (pod being deleted): it leaves the table although it still heartbeats
  api.event('MODIFIED', 's1', [{ pod: 'k-1', ip: '10.1.0.2', ready: true }]);
  await waitFor(() => names().join() === 'k-1,k-2', 'k-0 out of the table');
  assert.ok(c.coordinator.members().find((m) => m.name === 'k-0')!.lastHeartbeatAgoMs! < 1000, 'k-0 still heartbeats');
});
