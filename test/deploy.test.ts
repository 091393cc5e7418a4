// deploy/: the Dockerfile and the Kubernetes manifests parse, carry the required pieces, and pass only flags the CLI
// has (checked against `ringleader <command> --help`). No Kubernetes cluster or Docker daemon runs here: this is
// static validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const yaml = createRequire(import.meta.url)('js-yaml') as { loadAll(text: string): unknown[] };

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  readinessProbe?: { httpGet?: { path: string }; tcpSocket?: unknown };
  livenessProbe?: { httpGet?: { path: string }; tcpSocket?: { port: number } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

function load(file: string): K8sObject[] {
  const docs = yaml.loadAll(readFileSync(file, 'utf8')).filter((d) => d !== null) as K8sObject[];
  for (const d of docs) {
    assert.equal(typeof d.apiVersion, 'string', `${file}: apiVersion`);
    assert.equal(typeof d.kind, 'string', `${file}: kind`);
    assert.equal(typeof d.metadata?.name, 'string', `${file}: metadata.name`);
  }
  return docs;
}

function containers(o: K8sObject): Container[] {
  const spec = o.spec as { template?: { spec?: { containers?: Container[] } } } | undefined;
  return spec?.template?.spec?.containers ?? [];
}

const helpCache = new Map<string, string>();
function help(command: string): string {
  let h = helpCache.get(command);
  if (h === undefined) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', command, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    h = r.stdout;
    helpCache.set(command, h);
  }
  return h;
}

test('the Kubernetes manifests have what the deployment needs, and pass only flags the CLI knows', () => {
  const objs = [...load('deploy/kubernetes/ringleader.yaml'), ...load('deploy/kubernetes/etcd.yaml')];
  const byKind = (k: string) => objs.filter((o) => o.kind === k);
  const coord = byKind('Deployment').find((o) => o.metadata.name === 'ringleader-coordinator')!;
  assert.equal((coord.spec as { replicas: number }).replicas, 3);
  const nodes = byKind('StatefulSet').find((o) => o.metadata.name === 'ringleader-node')!;
  const headless = byKind('Service').find((o) => o.metadata.name === (nodes.spec as { serviceName: string }).serviceName)!;
  assert.equal((headless.spec as { clusterIP: string }).clusterIP, 'None', 'nodes sit behind a headless Service');
  assert.ok(byKind('StatefulSet').some((o) => o.metadata.name === 'ringleader-etcd'), 'an etcd StatefulSet');
  assert.ok(byKind('PodDisruptionBudget').length >= 2, 'PodDisruptionBudgets');
  const role = byKind('Role')[0] as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> };
  assert.ok(role.rules.some((r) => r.resources.includes('endpointslices') && r.verbs.includes('watch')), 'RBAC for the EndpointSlice watch');
  assert.ok(byKind('RoleBinding').length === 1 && byKind('ServiceAccount').length === 1);

  const c = containers(coord)[0]!;
  assert.equal(c.readinessProbe?.httpGet?.path, '/healthz');
  // /healthz is 503 while etcd is unreachable at start (the coordinator recovers by itself): liveness checks the port.
  assert.equal(c.livenessProbe?.tcpSocket?.port, 8081);
  assert.ok(c.args!.includes('--store=etcd') && c.args!.some((a) => a.startsWith('--token-file=')), 'coordinators run on etcd with a token');
  const secretVolumes = (coord.spec as { template: { spec: { volumes: Array<{ secret?: { secretName: string } }> } } }).template.spec.volumes;
  assert.ok(secretVolumes.some((v) => v.secret?.secretName === 'ringleader-token'), 'the token comes from a Secret');

  let checked = 0;
  for (const o of objs) {
    for (const ct of containers(o)) {
      if (!ct.image.startsWith('ringleader')) continue;
      const [command, ...flags] = ct.args!;
      assert.ok(command === 'coordinator' || command === 'node', `${o.metadata.name}: command ${command}`);
      const h = help(command!);
      for (const f of flags) {
        const name = /^(--[a-z0-9-]+)/.exec(f)?.[1];
        assert.ok(name, `${o.metadata.name}: ${f} is a --flag`);
        assert.ok(new RegExp(`(^|\\s)${name}[ ,<]`, 'm').test(h), `${o.metadata.name}: ringleader ${command} has no ${name}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 15, `checked ${checked} flags`);
});

test('the Dockerfile is multi-stage, runs as non-root, and starts the CLI', () => {
  const text = readFileSync('deploy/Dockerfile', 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  assert.ok(lines.filter((l) => /^FROM\s/.test(l)).length >= 2, 'multi-stage');
  const user = lines.filter((l) => /^USER\s/.test(l)).pop();
  assert.ok(user && !/^USER\s+(root|0)(\s|:|$)/.test(user), 'a non-root USER');
  assert.match(lines.find((l) => l.startsWith('ENTRYPOINT'))!, /dist\/cli\/main\.js/);
  assert.ok(lines.some((l) => /COPY --from=/.test(l)), 'the runtime stage copies from the build stage');
  for (const l of lines) assert.match(l, /^(FROM|WORKDIR|COPY|RUN|ENV|USER|EXPOSE|ENTRYPOINT|CMD)\s/, `a known instruction: ${l}`);
});
