import { DiscoveryV1Api, KubeConfig, Watch, type V1EndpointSlice } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { Member } from '../partitioning/member.js';

/** Kubernetes discovery: the EndpointSlices of the nodes' Service decide which joined members may hold partitions. */
export interface KubernetesOptions {
  /** The node Service whose EndpointSlices are watched (label `kubernetes.io/service-name`). */
  service: string;
  /** Its namespace (default: the pod's own namespace in-cluster, else `default`). */
  namespace: string;
  /** A kubeconfig file; default `KubeConfig.loadFromDefault()` (in-cluster service account, or `KUBECONFIG`). */
  kubeconfig: string | null;
  /** Reconnect backoff of the watch: doubles from min to max. */
  backoffMinMs: number;
  backoffMaxMs: number;
}

const IN_CLUSTER_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function resolveKubernetesOptions(input: Partial<KubernetesOptions> & Pick<KubernetesOptions, 'service'>): KubernetesOptions {
  let ns = input.namespace;
  if (ns === undefined) {
    try {
      ns = readFileSync(IN_CLUSTER_NAMESPACE, 'utf8').trim();
    } catch {
      ns = 'default';
    }
  }
  const o: KubernetesOptions = { kubeconfig: null, backoffMinMs: 200, backoffMaxMs: 10_000, ...input, namespace: ns };
  if (!DNS_LABEL.test(o.service)) throw new TypeError(`k8s service must be a DNS label (lowercase letters, digits, '-'), got ${JSON.stringify(o.service)}`);
  if (!DNS_LABEL.test(o.namespace)) throw new TypeError(`k8s namespace must be a DNS label, got ${JSON.stringify(o.namespace)}`);
  if (!(o.backoffMinMs > 0) || !(o.backoffMaxMs >= o.backoffMinMs)) throw new TypeError('k8s backoffMinMs must be > 0 and <= backoffMaxMs');
  return o;
}

/** One endpoint of the Service: its addresses, the pod it points at, and whether Kubernetes considers it ready. */
export interface DiscoveredEndpoint {
  addresses: readonly string[];
  podName: string | null;
  ready: boolean;
}

/** What the coordinator asks: may this joined member hold partitions? */
export interface MemberGate {
  admits(member: Pick<Member, 'name' | 'address'>): boolean;
}

/** The host part of `host:port` / `[v6]:port`. */
function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  return (i < 0 ? address : address.slice(0, i)).replace(/^\[|\]$/g, '');
}

/**
 * Follows the EndpointSlices of a Service with @kubernetes/client-node: list, then watch from the list's
 * resourceVersion; on a dropped connection, watch again from the last resourceVersion seen (with backoff); on
 * `410 Gone` (an `ERROR` event inside the watch stream, or the watch request's status) list again. Every change calls
 * `onChange`. As a MemberGate: a member is admitted when a ready endpoint matches it by `targetRef.name` = its name
 * (a StatefulSet pod) or by address. Before the first list completes nobody is admitted... except members already
 * in the table: `admits` is only consulted once `synced` is true (the coordinator keeps its table until then).
 */
export class KubernetesMemberSource implements MemberGate {
  private readonly slices = new Map<string, V1EndpointSlice>();
  private endpoints: DiscoveredEndpoint[] = [];
  private resourceVersion: string | null = null;
  private closed = false;
  private abort: AbortController | null = null;
  private timer: TimerHandle | null = null;
  private failures = 0;
  private readonly kc: KubeConfig;
  private readonly api: DiscoveryV1Api;
  private readonly watcher: Watch;
  /** True once the first list succeeded. */
  synced = false;
  /** Lists done (tests check the re-list on 410). */
  lists = 0;

  constructor(
    readonly options: KubernetesOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onChange: () => void,
  ) {
    this.kc = new KubeConfig();
    if (options.kubeconfig === null) this.kc.loadFromDefault();
    else this.kc.loadFromFile(options.kubeconfig);
    this.api = this.kc.makeApiClient(DiscoveryV1Api);
    this.watcher = new Watch(this.kc);
  }

  get labelSelector(): string {
    return `kubernetes.io/service-name=${this.options.service}`;
  }

  /** The current endpoints (all slices). */
  get current(): readonly DiscoveredEndpoint[] {
    return this.endpoints;
  }

  start(): void {
    void this.list();
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.abort?.abort();
  }

  admits(member: Pick<Member, 'name' | 'address'>): boolean {
    const host = hostOf(member.address);
    return this.endpoints.some((e) => e.ready && (e.podName === member.name || e.addresses.includes(host)));
  }

  private retry(relist: boolean): void {
    if (this.closed) return;
    const delay = Math.min(this.options.backoffMaxMs, this.options.backoffMinMs * 2 ** Math.min(this.failures, 20));
    this.failures++;
    this.timer = this.clock.setTimeout(() => void (relist || this.resourceVersion === null ? this.list() : this.watch()), delay);
  }

  private async list(): Promise<void> {
    if (this.closed) return;
    try {
      const res = await this.api.listNamespacedEndpointSlice({ namespace: this.options.namespace, labelSelector: this.labelSelector });
      if (this.closed) return;
      this.lists++;
      this.slices.clear();
      for (const s of res.items) if (s.metadata?.name) this.slices.set(s.metadata.name, s);
      this.resourceVersion = res.metadata?.resourceVersion ?? null;
      this.synced = true;
      this.recompute();
      this.logger.info({ service: this.options.service, namespace: this.options.namespace, slices: this.slices.size, endpoints: this.endpoints.length }, 'kubernetes endpoints listed');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'kubernetes list failed; retrying');
      return this.retry(true);
    }
    void this.watch();
  }

  private async watch(): Promise<void> {
    if (this.closed) return;
    const path = `/apis/discovery.k8s.io/v1/namespaces/${this.options.namespace}/endpointslices`;
    let gone = false;
    let connected = false;
    const done = (err: unknown): void => {
      this.abort = null;
      if (this.closed) return;
      const status = (err as { statusCode?: number } | null)?.statusCode;
      if (status === 410) gone = true;
      if (connected && !gone && err === null) this.failures = 0;
      if (gone) {
        this.logger.info({ resourceVersion: this.resourceVersion }, 'kubernetes watch expired (410 Gone); listing again');
        this.resourceVersion = null;
        this.failures = 0;
        void this.list();
      } else {
        this.logger.debug({ err: err === null ? null : (err as Error).message }, 'kubernetes watch ended; watching again');
        this.retry(false);
      }
    };
    try {
      this.abort = await this.watcher.watch(
        path,
        { labelSelector: this.labelSelector, resourceVersion: this.resourceVersion ?? undefined, allowWatchBookmarks: true },
        (type: string, obj: unknown) => {
          connected = true;
          this.onEvent(type, obj, () => {
            gone = true;
            this.abort?.abort();
          });
        },
        done,
      );
    } catch (err) {
      done(err);
    }
  }

  private onEvent(type: string, obj: unknown, expire: () => void): void {
    if (type === 'ERROR') {
      const status = obj as { code?: number; reason?: string; message?: string };
      if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') return expire();
      this.logger.warn({ status }, 'kubernetes watch error event');
      return;
    }
    const slice = obj as V1EndpointSlice;
    const rv = slice.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const name = slice.metadata?.name;
    if (!name) return;
    if (type === 'DELETED') this.slices.delete(name);
    else if (type === 'ADDED' || type === 'MODIFIED') this.slices.set(name, slice);
    else return;
    this.recompute();
  }

  private recompute(): void {
    const out: DiscoveredEndpoint[] = [];
    for (const s of this.slices.values()) {
      for (const e of s.endpoints ?? []) {
        out.push({
          addresses: [...(e.addresses ?? [])],
          podName: e.targetRef?.kind === undefined || e.targetRef.kind === 'Pod' ? (e.targetRef?.name ?? null) : null,
          // Kubernetes: a nil `ready` means ready.
          ready: e.conditions?.ready !== false,
        });
      }
    }
    const before = JSON.stringify(this.endpoints);
    this.endpoints = out;
    if (JSON.stringify(out) !== before) this.onChange();
  }
}
