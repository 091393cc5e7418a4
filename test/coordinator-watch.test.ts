// Integration: the watch stream (SSE) over real HTTP: snapshot, since, resumption exactly once, slow consumers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, get, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { startCoordinator, type StartCoordinatorOptions } from '../src/coordinator/index.js';
import { CoordinatorClient, SseParser, type SseEvent, type MemberEvent } from '../src/control/index.js';
import type { PartitionTable } from '../src/partitioning/index.js';
import { applyTableDelta } from '../src/protocol/index.js';

async function setup(t: { after: (fn: () => Promise<void> | void) => void }, options: StartCoordinatorOptions = {}) {
  const running = await startCoordinator({ port: 0, heartbeatMs: 100, suspectAfterMs: 400, deadAfterMs: 800, planDebounceMs: 10, placement: { partitionCount: 16, replicas: 2 }, ...options });
  t.after(() => running.close());
  return running;
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Reads SSE events from a URL until `stop` says so or the timeout; returns them. */
function readEvents(url: string, headers: Record<string, string> = {}): { events: SseEvent[]; res: Promise<IncomingMessage>; close: () => void } {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  let req!: ReturnType<typeof get>;
  const res = new Promise<IncomingMessage>((resolve, reject) => {
    req = get(url, { headers }, (r) => {
      r.setEncoding('utf8');
      r.on('data', (c: string) => parser.push(c));
      r.on('error', () => {});
      resolve(r);
    });
    req.on('error', reject);
  });
  return { events, res, close: () => req.destroy() };
}

test('a new watcher gets a snapshot, then every epoch with its membership events first', async (t) => {
  const running = await setup(t, { suspectAfterMs: 60_000, deadAfterMs: 120_000 });
  const client = new CoordinatorClient({ coordinators: [running.url] });
  const w = readEvents(`${running.url}/v1/watch`);
  t.after(w.close);
  assert.equal((await w.res).headers['content-type'], 'text/event-stream; charset=utf-8');
  await waitFor(() => w.events.length === 1);
  const first = JSON.parse(w.events[0]!.data);
  assert.equal(w.events[0]!.event, 'table');
  assert.equal(w.events[0]!.id, '0');
  assert.equal(first.snapshot, true);
  await client.join({ name: 'a', address: '127.0.0.1:7001' });
  await running.coordinator.flush();
  await waitFor(() => w.events.length === 3);
  assert.deepEqual(w.events.slice(1).map((e) => [e.event, e.id]), [['member-joined', null], ['table', '1']]);
  const joined = JSON.parse(w.events[1]!.data) as MemberEvent;
  assert.equal(joined.epoch, 1);
  assert.equal(joined.member.name, 'a');
  assert.equal(JSON.parse(w.events[2]!.data).snapshot, false);
});

test('since: only newer epochs; a since older than the history gets a snapshot; a since ahead is refused', async (t) => {
  const running = await setup(t, { historyEpochs: 3, suspectAfterMs: 60_000, deadAfterMs: 120_000 });
  const client = new CoordinatorClient({ coordinators: [running.url], maxAttempts: 1 });
  for (let i = 0; i < 5; i++) {
    await client.join({ name: `n${i}`, address: `127.0.0.1:${7000 + i}` });
    await running.coordinator.flush();
  }
  assert.equal(running.coordinator.epoch, 5);
  const recent = readEvents(`${running.url}/v1/watch?since=3`);
  t.after(recent.close);
  await waitFor(() => recent.events.filter((e) => e.event === 'table').length === 2);
  assert.deepEqual(recent.events.map((e) => [e.event, e.id]), [['member-joined', null], ['table', '4'], ['member-joined', null], ['table', '5']]);

  const current = readEvents(`${running.url}/v1/watch?since=5`);
  t.after(current.close);
  const lastEventId = readEvents(`${running.url}/v1/watch`, { 'last-event-id': '4' });
  t.after(lastEventId.close);
  const old = readEvents(`${running.url}/v1/watch?since=1`);
  t.after(old.close);
  await waitFor(() => old.events.length === 1 && lastEventId.events.length === 2);
  assert.equal(old.events[0]!.id, '5');
  assert.equal(JSON.parse(old.events[0]!.data).snapshot, true);
  assert.deepEqual(lastEventId.events.map((e) => e.id), [null, '5']);
  assert.equal(current.events.length, 0);

  const ahead = await fetch(`${running.url}/v1/watch?since=6`);
  assert.equal(ahead.status, 409);
  assert.equal((await ahead.json()).error.code, 'EPOCH_AHEAD');
  const bad = await fetch(`${running.url}/v1/watch?since=-1`);
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, 'INVALID_REQUEST');
});

test('a watcher that disconnects and reconnects with since receives every epoch exactly once, in order', async (t) => {
  const running = await setup(t, { suspectAfterMs: 60_000, deadAfterMs: 120_000 }); // members here never heartbeat
  const client = new CoordinatorClient({ coordinators: [running.url] });
  // A fetch that lets the test cut the current watch stream, like a network failure.
  let cut: (() => void) | null = null;
  const cuttable: typeof fetch = (input, init) => {
    const ac = new AbortController();
    init?.signal?.addEventListener('abort', () => ac.abort());
    cut = () => ac.abort(new Error('cut by test'));
    return fetch(input, { ...init, signal: ac.signal });
  };
  const watcher = new CoordinatorClient({ coordinators: [running.url], fetch: cuttable, backoffMinMs: 5, backoffMaxMs: 20 });
  const watch = watcher.watch();
  t.after(() => watch.close());
  const epochs: number[] = [];
  const joined: string[] = [];
  let reconnects = 0;
  watch.on('table', (table: PartitionTable) => epochs.push(table.epoch));
  watch.on('membership', (e) => joined.push(`${e.epoch}:${e.member.name}`));
  watch.on('connected', () => reconnects++);
  await watch.waitFor(0);
  let connects = 1;
  for (let i = 0; i < 12; i++) {
    await client.join({ name: `m${i}`, address: `127.0.0.1:${7100 + i}` });
    await running.coordinator.flush();
    if (i % 3 === 1) {
      // Cut only a stream that is up (on a loaded machine the previous reconnect may still be under way); the next
      // epochs are published while the watcher is away.
      await waitFor(() => reconnects >= connects);
      cut!();
      connects++;
    }
  }
  await waitFor(() => epochs.at(-1) === 12);
  assert.deepEqual(epochs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(joined, Array.from({ length: 12 }, (_, i) => `${i + 1}:m${i}`));
  // The watch followed table-delta events: the table it rebuilt is the coordinator's table.
  assert.deepEqual(watch.table!.toJSON(), (await client.getTable()).toJSON());
  assert.ok(reconnects >= 4, `reconnected ${reconnects} times`);
});

test('a watcher asking for deltas gets table-delta events that rebuild each table exactly', async (t) => {
  const running = await setup(t, { suspectAfterMs: 60_000, deadAfterMs: 120_000 });
  const client = new CoordinatorClient({ coordinators: [running.url] });
  const w = readEvents(`${running.url}/v1/watch?delta=1`);
  t.after(w.close);
  await waitFor(() => w.events.length === 1);
  let table = JSON.parse(w.events[0]!.data).table;
  for (let i = 0; i < 4; i++) {
    await client.join({ name: `d${i}`, address: `127.0.0.1:${7300 + i}` });
    await running.coordinator.flush();
    await waitFor(() => w.events.filter((e) => e.event === 'table-delta').length === i + 1);
    const d = JSON.parse(w.events.filter((e) => e.event === 'table-delta')[i]!.data);
    assert.equal(d.fromEpoch, i);
    table = applyTableDelta(table, d);
    assert.deepEqual(table, (await client.getTable()).toJSON());
  }
  const bad = await fetch(`${running.url}/v1/watch?delta=yes`);
  assert.equal((await bad.json()).error.code, 'INVALID_REQUEST');
});

test('a slow consumer does not hold the coordinator up and gets a fresh snapshot once it reads again', async (t) => {
  // Large tables (16384 partitions, ~1.4 MB each) fill the socket buffers of a watcher that does not read.
  const running = await setup(t, { suspectAfterMs: 60_000, deadAfterMs: 120_000, watchMaxBufferedBytes: 256 * 1024, placement: { partitionCount: 16384, replicas: 2 } });
  const client = new CoordinatorClient({ coordinators: [running.url] });
  let paused!: IncomingMessage;
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  const req = get(`${running.url}/v1/watch`, (r) => {
    paused = r;
    r.setEncoding('utf8');
    r.pause();
  });
  t.after(() => req.destroy());
  await waitFor(() => paused !== undefined);
  for (let i = 0; i < 8; i++) {
    await client.join({ name: `s${i}`, address: `127.0.0.1:${7200 + i}` });
    await running.coordinator.flush();
  }
  assert.equal(running.coordinator.epoch, 8);
  paused.on('data', (c: string) => parser.push(c));
  paused.resume();
  await waitFor(() => events.some((e) => e.event === 'table' && e.id === '8'), 20_000);
  const tables = events.filter((e) => e.event === 'table').map((e) => ({ epoch: Number(e.id), snapshot: JSON.parse(e.data).snapshot as boolean }));
  assert.ok(tables.length < 9, `expected skipped epochs, got ${tables.map((x) => x.epoch).join(',')}`);
  assert.deepEqual(tables.at(-1), { epoch: 8, snapshot: true });
  for (let i = 1; i < tables.length; i++) assert.ok(tables[i]!.epoch > tables[i - 1]!.epoch, 'epochs increase');
  const metrics = await (await fetch(`${running.url}/metrics`)).text();
  assert.match(metrics, /ringleader_coordinator_watch_snapshots_total\{reason="slow-consumer"\} [1-9]/);
});

test('a member-named watch (?member=<id>) that closes makes the coordinator probe that member; a refused probe = dead at once', async (t) => {
  const probes: string[] = [];
  let answer: 'refused' | 'open' = 'open';
  const running = await setup(t, { suspectAfterMs: 60_000, deadAfterMs: 120_000, prober: { probe: async (address) => (probes.push(address), answer) } });
  const client = new CoordinatorClient({ coordinators: [running.url] });
  const a = await client.join({ name: 'a', address: '127.0.0.1:7001' });
  const b = await client.join({ name: 'b', address: '127.0.0.1:7002' });

  for (const bad of ['member=zz', `member=${'A'.repeat(40)}`, `member=${a.id}&member=${b.id}`, `member=`]) {
    const res = await fetch(`${running.url}/v1/watch?${bad}`);
    assert.equal(res.status, 400, bad);
    assert.equal((await res.json()).error.code, 'INVALID_REQUEST', bad);
  }
  // An anonymous watch (clients, dashboards) closing probes nothing; an unknown member id is accepted and probes nothing.
  for (const q of ['', `?member=${'f'.repeat(40)}`]) {
    const w = readEvents(`${running.url}/v1/watch${q}`);
    await w.res;
    w.close();
  }
  // a's watch closes while its port is open (a paused process): probed, still alive.
  const wa = readEvents(`${running.url}/v1/watch?member=${a.id}`);
  await wa.res;
  await waitFor(() => wa.events.length >= 1);
  wa.close();
  await waitFor(() => probes.length === 1);
  assert.deepEqual(probes, ['127.0.0.1:7001']);
  assert.equal((await client.members()).members.find((m) => m.id === a.id)!.state, 'joining');

  // b's watch (through TableWatch, as nodes open it) closes and its port refuses: dead within the debounce, not 120 s.
  answer = 'refused';
  const wb = client.watch({ member: b.id });
  await wb.waitFor(0);
  const epoch = running.coordinator.epoch;
  wb.close();
  await waitFor(() => running.coordinator.epoch > epoch && running.coordinator.table.member(b.id) === undefined);
  assert.deepEqual(probes, ['127.0.0.1:7001', '127.0.0.1:7002']);
  assert.equal((await client.members()).members.find((m) => m.id === b.id)!.state, 'dead');
  assert.throws(() => client.watch({ member: 'nope' }), /member must be a member id/);
});

test('events are framed right on every path: a fresh connection, a reused keep-alive connection, and HTTP/1.0 (not chunked)', async (t) => {
  const running = await setup(t, { suspectAfterMs: 60_000, deadAfterMs: 120_000 });
  const client = new CoordinatorClient({ coordinators: [running.url] });
  // A keep-alive connection that served a request before carries the watch next (node's parser checks the chunk framing).
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const first = await new Promise<{ reused: boolean }>((resolve, reject) => {
    const req = get(`${running.url}/v1/table`, { agent }, (r) => {
      r.resume();
      r.on('end', () => resolve({ reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
  assert.equal(first.reused, false);
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  let reused = false;
  let parseError: Error | null = null;
  const watchReq = get(`${running.url}/v1/watch?delta=1`, { agent }, (r) => {
    r.setEncoding('utf8');
    r.on('data', (c: string) => parser.push(c));
    r.on('error', (err) => (parseError = err));
  });
  watchReq.on('socket', () => (reused = watchReq.reusedSocket));
  watchReq.on('error', (err) => (parseError = err));
  t.after(() => watchReq.destroy());
  // HTTP/1.0: no chunked encoding, the body is the bare event stream until the connection closes.
  const raw = connect({ host: '127.0.0.1', port: running.port });
  t.after(() => raw.destroy());
  let rawText = '';
  raw.setEncoding('latin1');
  raw.on('data', (c: string) => (rawText += c));
  raw.write('GET /v1/watch?delta=1 HTTP/1.0\r\n\r\n');

  await waitFor(() => events.length >= 1 && rawText.includes('id: 0\n'));
  assert.ok(reused, 'the watch went over the connection that served /v1/table');
  for (let i = 0; i < 3; i++) {
    await client.join({ name: `f${i}`, address: `127.0.0.1:${7300 + i}` });
    await running.coordinator.flush();
  }
  await waitFor(() => events.filter((e) => e.event === 'table-delta').length === 3 && rawText.includes('id: 3\n'));
  assert.equal(parseError, null);
  assert.deepEqual(events.filter((e) => e.id !== null).map((e) => [e.event, e.id]), [['table', '0'], ['table-delta', '1'], ['table-delta', '2'], ['table-delta', '3']]);
  assert.deepEqual(events.filter((e) => e.event === 'member-joined').map((e) => (JSON.parse(e.data) as MemberEvent).member.name), ['f0', 'f1', 'f2']);
  const head = rawText.slice(0, rawText.indexOf('\r\n\r\n'));
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.doesNotMatch(head, /transfer-encoding: chunked/i);
  const body = rawText.slice(head.length + 4);
  assert.doesNotMatch(body, /\r\n/, 'no chunk framing in an HTTP/1.0 body');
  const rawEvents: SseEvent[] = [];
  const rawParser = new SseParser((e) => rawEvents.push(e));
  rawParser.push(body);
  assert.deepEqual(rawEvents.filter((e) => e.id !== null).map((e) => e.id), ['0', '1', '2', '3']);
});
