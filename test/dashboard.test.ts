// The dashboard end to end in a real browser (Debian's Chromium driven by playwright-core): a coordinator and 3 node
// processes; the page's member rows and partition counts match GET /v1/table; a 4th node appears without a reload;
// the key locator is reached with Tab and submitted with Enter. Every request the page makes goes to the coordinator,
// and never to /v1/table or /v1/members (it follows the watch stream). Screenshots land in test-artifacts/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startCoordinator, startNodeProcess, waitUntil, type Proc } from './node-helpers.js';

const ARTIFACTS = resolve(import.meta.dirname, '..', 'test-artifacts');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

const procs: Proc[] = [];
let browser: Browser | null = null;
let cleanup: (() => void) | null = null;
after(async () => {
  await browser?.close();
  for (const p of procs) p.kill();
  cleanup?.();
});

interface TableJson { epoch: number; partitionCount: number; members: Array<{ id: string; name: string; state: string }>; partitions: string[][]; states?: string[][] }

async function table(url: string): Promise<TableJson> {
  return (await (await fetch(`${url}/v1/table`)).json()) as TableJson;
}

/** primaries/backups per member name, from the table (format 1 or 2). */
function countsOf(t: TableJson): Map<string, { primaries: number; backups: number }> {
  const out = new Map<string, { primaries: number; backups: number }>(t.members.map((m) => [m.id, { primaries: 0, backups: 0 }]));
  t.partitions.forEach((ids, p) => ids.forEach((id, i) => {
    const s = t.states?.[p]?.[i] ?? (i === 0 ? 'primary' : 'backup');
    const c = out.get(id);
    if (c && s === 'primary') c.primaries++;
    else if (c && s === 'backup') c.backups++;
  }));
  return new Map(t.members.map((m) => [m.name, out.get(m.id)!] as const));
}

/** The member rows as the page shows them. */
function rows(page: Page): Promise<Array<{ name: string; state: string; primaries: number; backups: number; memory: string }>> {
  return page.$$eval('#members tbody tr', (trs) => trs.map((tr) => ({
    name: tr.getAttribute('data-member') ?? '',
    state: tr.querySelector('.state')?.textContent ?? '',
    primaries: Number(tr.querySelector('.primaries')?.textContent),
    backups: Number(tr.querySelector('.backups')?.textContent),
    memory: tr.querySelector('.memory')?.textContent ?? '',
  })));
}

/** Waits until the page shows the table's current epoch, then checks its rows against that table. */
async function pageMatchesTable(page: Page, url: string, names: string[]): Promise<void> {
  let last = '';
  await waitUntil('the page to show the coordinator\'s table', async () => {
    const t = await table(url);
    const epoch = await page.getAttribute('body', 'data-epoch');
    if (epoch !== String(t.epoch)) return false;
    const shown = await rows(page);
    const counts = countsOf(t);
    last = JSON.stringify({ epoch, shown, counts: [...counts] });
    if (shown.map((r) => r.name).join() !== [...names].sort().join()) return false;
    for (const r of shown) {
      const c = counts.get(r.name);
      if (!c || c.primaries !== r.primaries || c.backups !== r.backups) return false;
    }
    assert.equal(await page.textContent('#partition-count'), String(t.partitionCount));
    assert.equal(shown.reduce((a, r) => a + r.primaries, 0), t.partitionCount);
    return true;
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\nlast seen: ${last}`);
  });
}

test('the dashboard shows the cluster live, follows a join without reload, and locates a key', async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const coord = await startCoordinator(['--partitions', '64', '--replicas', '2']);
  procs.push(coord.proc);
  cleanup = coord.cleanup;
  const url = coord.url;
  const names = ['dash-a', 'dash-b', 'dash-c'];
  for (const name of names) procs.push((await startNodeProcess(['--coordinator', url, '--name', name, '--zone', `z${names.indexOf(name) % 2}`])).proc);
  await waitUntil('3 active members', async () => (await table(url)).members.filter((m) => m.state === 'active').length === 3, 60_000);

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  const res = await page.goto(`${url}/`);
  assert.equal(res?.status(), 200);
  assert.match(res?.headers()['content-type'] ?? '', /^text\/html/);

  // Semantics: a title, one h1, every input labelled.
  assert.match(await page.title(), /Ringleader/);
  assert.equal(await page.locator('h1').count(), 1);
  const unlabelled = await page.$$eval('input, select, textarea', (els) => els.filter((e) => {
    const id = e.getAttribute('id');
    return !(e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (id && document.querySelector(`label[for="${id}"]`)) || e.closest('label'));
  }).map((e) => e.outerHTML));
  assert.deepEqual(unlabelled, []);

  await pageMatchesTable(page, url, names);
  assert.equal(await page.locator('#map .cell').count(), 64);
  // The timeline starts with the recent history (replayed from the watch stream): the joins before the page opened.
  for (const n of names) assert.match((await page.textContent('#events')) ?? '', new RegExp(`earlierepoch \\d+: ${n} joined`));
  await waitUntil('memory figures from heartbeats', async () => (await rows(page)).every((r) => /\d/.test(r.memory)), 30_000);

  // A 4th node joins: its row appears without a reload.
  procs.push((await startNodeProcess(['--coordinator', url, '--name', 'dash-d'])).proc);
  await page.waitForSelector('#members tr[data-member="dash-d"]', { timeout: 60_000 });
  await waitUntil('dash-d active', async () => (await table(url)).members.some((m) => m.name === 'dash-d' && m.state === 'active'), 60_000);
  await pageMatchesTable(page, url, [...names, 'dash-d']);
  assert.equal(navigations, 1, 'no reload');
  assert.match((await page.textContent('#events')) ?? '', /dash-d joined/);

  // The key locator with the keyboard only: Tab to the field, type, Enter.
  await page.locator('body').focus();
  for (let i = 0; i < 30 && (await page.evaluate(() => document.activeElement?.id)) !== 'key'; i++) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'key', 'the key field is reachable with Tab');
  await page.keyboard.type('customer:1232');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#locate-result dl');
  const loc = (await (await fetch(`${url}/v1/locate/customer%3A1232`)).json()) as { slot: number; partition: number; primary: { name: string } };
  const shown = (await page.textContent('#locate-result')) ?? '';
  assert.match(shown, new RegExp(`Slot${loc.slot}Partition${loc.partition}Primary${loc.primary.name} `), shown);
  assert.equal(await page.locator(`#map .cell.located[data-partition="${loc.partition}"]`).count(), 1);

  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  // Readable on a phone: nothing wider than the screen but the members table's own scroller.
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no horizontal page scroll on a phone');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });

  const origin = new URL(url).origin;
  assert.deepEqual(requests.filter((r) => !r.startsWith(origin + '/')), [], 'every request goes to the coordinator');
  assert.deepEqual(requests.filter((r) => /\/v1\/(table|members)\b/.test(r)), [], 'no polling of /v1/table or /v1/members');
  assert.ok(requests.some((r) => r.includes('/v1/watch')), 'follows the watch stream');
});
