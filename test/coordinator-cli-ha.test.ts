// The HA/discovery/auth flags of `ringleader coordinator`: bad combinations and values are clear errors (exit 1),
// and the option resolvers refuse garbage naming the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolveEtcdOptions, resolveKubernetesOptions } from '../src/coordinator/index.js';

function cli(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'coordinator', '--port', '0', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, RINGLEADER_TOKEN: '' } });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('coordinator CLI: bad HA, discovery and auth flags exit non-zero with a message naming the flag', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--store', 'bogus'], /--store must be file, memory or etcd/],
    [['--store', 'etcd'], /--store etcd needs --etcd/],
    [['--store', 'file'], /--store file needs --data-dir/],
    [['--etcd', 'http://127.0.0.1:1', '--data-dir', '/tmp/x'], /exclude each other/],
    [['--members-from', 'dns'], /--members-from must be registration or kubernetes/],
    [['--members-from', 'kubernetes'], /needs --k8s-service/],
    [['--token-file', '/nonexistent/token'], /--token-file \/nonexistent\/token: ENOENT/],
    [['--host', '0.0.0.0'], /loopback only/],
    [['--etcd', 'not a url'], /etcd.endpoints/],
    [['--etcd', 'http://127.0.0.1:1', '--etcd-prefix', 'no-slash'], /etcd.prefix/],
    [['--etcd-lease-ttl', '0'], /--etcd-lease-ttl must be/],
    [['--cluster-id', 'bad id'], /clusterId/],
  ];
  for (const [args, msg] of cases) {
    const r = cli(args);
    assert.notEqual(r.status, 0, `${args.join(' ')} must fail`);
    assert.match(r.out, msg, `${args.join(' ')}: ${r.out.slice(-400)}`);
  }
});

test('resolveEtcdOptions and resolveKubernetesOptions refuse garbage', () => {
  assert.throws(() => resolveEtcdOptions({ endpoints: [] }), /endpoints/);
  assert.throws(() => resolveEtcdOptions({ endpoints: ['ftp://x:1'] }), /endpoints/);
  assert.throws(() => resolveEtcdOptions({ endpoints: ['http://x:1'], leaseTtlSec: 0.5 }), /leaseTtlSec/);
  assert.throws(() => resolveEtcdOptions({ endpoints: ['http://x:1'], prefix: '/a/../b c' }), /prefix/);
  assert.throws(() => resolveEtcdOptions({ endpoints: ['http://x:1'], followerPollMs: -1 }), /followerPollMs/);
  assert.equal(resolveEtcdOptions({ endpoints: ['http://x:2379'] }).leaseTtlSec, 2);
  assert.throws(() => resolveKubernetesOptions({ service: 'Bad_Name' }), /k8s service/);
  assert.throws(() => resolveKubernetesOptions({ service: 'ok', namespace: '../etc' }), /k8s namespace/);
  assert.throws(() => resolveKubernetesOptions({ service: 'ok', namespace: 'ns', backoffMinMs: 0 }), /backoff/);
  assert.equal(resolveKubernetesOptions({ service: 'svc', namespace: 'ns' }).namespace, 'ns');
});
