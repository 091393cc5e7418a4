// The example monitoring in deploy/: Prometheus alert rules (YAML) and a Grafana dashboard (JSON) parse, are shaped
// as Prometheus and Grafana expect, and name only metrics (and label values) that a running coordinator and node
// really expose.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { startCoordinator, type RunningCoordinator } from '../src/coordinator/index.js';
import { startNode, type RunningNode } from '../src/node/index.js';

const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
const root = resolve(import.meta.dirname, '..');
let coord: RunningCoordinator | null = null;
let node: RunningNode | null = null;
after(async () => {
  await node?.close();
  await coord?.close();
});

/** Metric names (histograms with their _bucket/_sum/_count series) and every series line of a /metrics text. */
function exposition(text: string): { names: Set<string>; lines: string[] } {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s);
  }
  return { names, lines: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')) };
}

/** Checks every ringleader_* metric in a PromQL expression exists, and every `name{label="value"}` matcher matches a series. */
function checkExpr(expr: string, where: string, names: Set<string>, lines: string[]): void {
  const used = [...expr.matchAll(/\b(ringleader_[a-z0-9_]+)/g)].map((m) => m[1]!);
  assert.ok(used.length > 0 || /\bup\b/.test(expr), `${where}: names no Ringleader metric: ${expr}`);
  for (const n of used) assert.ok(names.has(n), `${where}: metric ${n} does not exist`);
  for (const m of expr.matchAll(/\b(ringleader_[a-z0-9_]+)\{([^}]*)\}/g)) {
    for (const eq of m[2]!.matchAll(/([a-z_]+)="([^"]*)"/g)) {
      const needle = `${eq[1]}="${eq[2]}"`;
      assert.ok(lines.some((l) => l.startsWith(m[1]! + '{') && l.includes(needle)), `${where}: no series ${m[1]}{${needle}}`);
    }
  }
}

test('alert rules and the Grafana dashboard parse and name only metrics that exist', async () => {
  coord = await startCoordinator({ port: 0, heartbeatMs: 100, suspectAfterMs: 1000, deadAfterMs: 2000 });
  node = await startNode({ name: 'mon-a', coordinators: [coord.url], metricsPort: 0, server: { port: 0 } });
  // Statistics arrive with heartbeats: wait until the coordinator has them (its per-member gauges are then present).
  const deadline = Date.now() + 30_000;
  let coordText = '';
  while (!/ringleader_coordinator_member_memory_used_bytes\{member="mon-a"\}/.test(coordText)) {
    assert.ok(Date.now() < deadline, `no per-member statistics on the coordinator:\n${coordText}`);
    await new Promise((r) => setTimeout(r, 100));
    coordText = await (await fetch(`${coord.url}/metrics`)).text();
  }
  const nodeText = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
  const c = exposition(coordText);
  const n = exposition(nodeText);
  const names = new Set([...c.names, ...n.names]);
  const lines = [...c.lines, ...n.lines];
  // Counters are counters: every *_total is TYPE counter, and no counter lacks the suffix.
  for (const text of [coordText, nodeText]) {
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (m[1]!.endsWith('_total')) assert.equal(m[2], 'counter', `${m[1]} is a ${m[2]}`);
      if (m[2] === 'counter') assert.ok(m[1]!.endsWith('_total'), `counter ${m[1]} without _total`);
      assert.match(m[1]!, /^ringleader_(coordinator|node)_[a-z0-9_]+$/, 'one prefix per process kind');
    }
  }

  const rules = yaml.load(readFileSync(resolve(root, 'deploy/prometheus/ringleader-alerts.yml'), 'utf8')) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for?: string; labels: { severity: string }; annotations: { summary: string } }> }> };
  assert.ok(Array.isArray(rules.groups) && rules.groups.length > 0);
  const alerts = new Set<string>();
  for (const g of rules.groups) {
    assert.equal(typeof g.name, 'string');
    for (const r of g.rules) {
      assert.match(r.alert, /^[A-Z][A-Za-z0-9]+$/);
      assert.ok(!alerts.has(r.alert), `duplicate alert ${r.alert}`);
      alerts.add(r.alert);
      assert.ok(['page', 'warn'].includes(r.labels.severity), r.alert);
      assert.equal(typeof r.annotations.summary, 'string');
      if (r.for !== undefined) assert.match(r.for, /^\d+[smh]$/);
      checkExpr(r.expr, `alert ${r.alert}`, names, lines);
    }
  }
  // The four the operations guide promises.
  for (const a of ['RingleaderNodeDown', 'RingleaderPartitionWithoutBackup', 'RingleaderMemoryNearLimit', 'RingleaderEpochLag']) assert.ok(alerts.has(a), a);

  const dash = JSON.parse(readFileSync(resolve(root, 'deploy/grafana/ringleader-dashboard.json'), 'utf8')) as { title: string; uid: string; panels: Array<{ id: number; title: string; gridPos: { x: number; y: number; w: number; h: number }; targets: Array<{ expr: string }> }> };
  assert.equal(typeof dash.title, 'string');
  assert.match(dash.uid, /^[a-z0-9-]{1,40}$/);
  const ids = new Set<number>();
  for (const p of dash.panels) {
    assert.ok(!ids.has(p.id), `duplicate panel id ${p.id}`);
    ids.add(p.id);
    assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title);
    assert.ok(p.targets.length > 0, p.title);
    for (const t of p.targets) checkExpr(t.expr, `panel ${p.title}`, names, lines);
  }
});
