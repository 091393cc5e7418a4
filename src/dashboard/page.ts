// The coordinator's dashboard: one self-contained HTML page (inline CSS and script, no build step, no request to
// anything but the coordinator that served it). It follows the watch stream (GET /v1/watch, read with fetch so a
// bearer token can be sent), polls GET /v1/stats for the per-member figures nodes send with their heartbeats, and asks
// GET /v1/locate/{key} for the key locator. It never polls /v1/table or /v1/members.
//
// The script and styles are plain strings (no backquotes, no template placeholders inside them) so this module is
// the whole artifact: `tsc` compiles it into dist/ with the rest of the package.

const STYLE = `
:root { color-scheme: light dark; --bg: #f7f7f8; --fg: #1d1d22; --muted: #5b5b66; --card: #fff; --line: #d9d9e0; --accent: #2457c5; --warn: #a15c00; --bad: #b3261e; --ok: #1e7b34; }
@media (prefers-color-scheme: dark) { :root { --bg: #141418; --fg: #ececf1; --muted: #a4a4b0; --card: #1e1e24; --line: #34343d; --accent: #8ab0ff; --warn: #f0b35a; --bad: #ff8a80; --ok: #7fd68f; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { padding: 12px 16px; border-bottom: 1px solid var(--line); background: var(--card); display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 0 0 8px; }
#summary { margin: 0; color: var(--muted); }
#summary b { color: var(--fg); }
.conn { font-weight: 600; }
.conn.live { color: var(--ok); } .conn.down { color: var(--bad); }
main { padding: 12px; display: grid; gap: 12px; grid-template-columns: minmax(0, 1fr); max-width: 1400px; margin: 0 auto; }
@media (min-width: 1000px) { main { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); } #members-section, #map-section { grid-column: 1 / -1; } }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; min-width: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-weight: 600; color: var(--muted); font-size: 0.85rem; }
td.num, th.num { text-align: right; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.state-suspect { color: var(--warn); font-weight: 600; } .state-dead { color: var(--bad); font-weight: 600; } .state-leaving, .state-joining { color: var(--accent); }
#map { display: grid; grid-template-columns: repeat(auto-fill, minmax(16px, 1fr)); gap: 2px; }
.cell { aspect-ratio: 1; border-radius: 2px; background: var(--line); border: 0; padding: 0; }
.cell.learning { outline: 2px dashed var(--fg); outline-offset: -2px; }
.cell.handover { outline: 2px solid var(--warn); outline-offset: -2px; }
.cell.none { background: repeating-linear-gradient(45deg, var(--bad) 0 2px, transparent 2px 4px); }
.cell.located { outline: 3px solid var(--accent); outline-offset: 1px; z-index: 1; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 0 0 8px; padding: 0; list-style: none; color: var(--muted); font-size: 0.9rem; }
form { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
input { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); min-width: 12em; flex: 1; }
button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
#locate-result { display: block; margin-top: 8px; }
#locate-result dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
#locate-result dt { color: var(--muted); }
#locate-result dd { margin: 0; }
#balance { list-style: none; margin: 0; padding: 0; display: grid; gap: 4px; }
#balance li { display: grid; grid-template-columns: minmax(6em, max-content) 1fr max-content; gap: 8px; align-items: center; }
meter { width: 100%; }
#events { margin: 0; padding: 0; list-style: none; max-height: 22em; overflow-y: auto; font-size: 0.92rem; }
#events time { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 6px; }
.ev-dead, .ev-failover { color: var(--bad); } .ev-suspect { color: var(--warn); }
.muted { color: var(--muted); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const SCRIPT = `
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var state = { table: null, stats: {}, token: sessionStorage.getItem('ringleader-token') || '', located: null, colors: {} };
  var MAX_EVENTS = 200;
  var REPLAY_EPOCHS = 20;

  function headers() {
    var h = { accept: 'application/json' };
    if (state.token) h.authorization = 'Bearer ' + state.token;
    return h;
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) { if (k === 'class') e.className = attrs[k]; else e.setAttribute(k, attrs[k]); }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmtBytes(n) {
    var u = ['B', 'KB', 'MB', 'GB', 'TB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + u[i];
  }
  function clock() { return new Date().toTimeString().slice(0, 8); }
  function setConn(text, cls) { var c = $('conn'); c.textContent = text; c.className = 'conn ' + cls; }

  // Copy states: format-2 tables carry them; a format-1 table means primary first, then backups.
  function copies(t, p) {
    var ids = t.partitions[p] || [], st = t.states ? t.states[p] : null, out = [];
    for (var i = 0; i < ids.length; i++) out.push({ id: ids[i], state: st && st[i] ? st[i] : (i === 0 ? 'primary' : 'backup') });
    return out;
  }
  function primaryOf(t, p) { var c = copies(t, p); return c.length && c[0].state === 'primary' ? c[0].id : null; }
  function memberById(t, id) { for (var i = 0; i < t.members.length; i++) if (t.members[i].id === id) return t.members[i]; return null; }
  function serving(m) { return m.state !== 'left' && m.state !== 'dead' && m.state !== 'leaving'; }
  function colorOf(id) {
    if (!state.colors[id]) {
      var n = Object.keys(state.colors).length;
      state.colors[id] = 'hsl(' + Math.round((n * 137.508) % 360) + ' 62% 52%)';
    }
    return state.colors[id];
  }

  function addEvent(text, cls, epoch) {
    var li = el('li', { class: cls || '' });
    // Events replayed from before the page opened carry no time of their own: show their epoch only.
    var past = epoch && epoch <= state.openedAtEpoch;
    li.appendChild(el('time', null, past ? 'earlier' : clock()));
    li.appendChild(document.createTextNode((epoch ? 'epoch ' + epoch + ': ' : '') + text));
    var list = $('events');
    list.insertBefore(li, list.firstChild);
    while (list.children.length > MAX_EVENTS) list.removeChild(list.lastChild);
  }

  // Hand-overs (the old primary is still a member) and failovers (it died or vanished) between two tables.
  function primaryChanges(prev, next) {
    if (!prev || prev.partitionCount !== next.partitionCount) return;
    var handovers = 0, failovers = 0, lost = 0, pairs = {};
    for (var p = 0; p < next.partitionCount; p++) {
      var a = primaryOf(prev, p), b = primaryOf(next, p);
      if (a === b || a === null) continue;
      var old = memberById(next, a);
      if (b === null) { lost++; continue; }
      if (old === null || old.state === 'dead') failovers++; else handovers++;
      var key = (memberById(prev, a) || { name: '?' }).name + ' \\u2192 ' + (memberById(next, b) || { name: '?' }).name;
      pairs[key] = (pairs[key] || 0) + 1;
    }
    var detail = Object.keys(pairs).slice(0, 4).map(function (k) { return k + ' (' + pairs[k] + ')'; }).join(', ');
    if (handovers) addEvent(handovers + ' hand-over' + (handovers > 1 ? 's' : '') + ': ' + detail, 'ev-handover', next.epoch);
    if (failovers) addEvent(failovers + ' failover' + (failovers > 1 ? 's' : '') + ': ' + detail, 'ev-failover', next.epoch);
    if (lost) addEvent(lost + ' partition' + (lost > 1 ? 's' : '') + ' without a primary', 'ev-dead', next.epoch);
  }

  function counts(t) {
    var c = {};
    t.members.forEach(function (m) { c[m.id] = { primary: 0, backup: 0, learner: 0, handing: 0 }; });
    for (var p = 0; p < t.partitionCount; p++) copies(t, p).forEach(function (x) {
      var k = c[x.id]; if (!k) return;
      if (x.state === 'primary') k.primary++; else if (x.state === 'backup') k.backup++; else if (x.state === 'learner') k.learner++; else k.handing++;
    });
    return c;
  }

  function renderMembers() {
    var t = state.table; if (!t) return;
    var c = counts(t), body = $('members').tBodies[0];
    var rows = t.members.slice().sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
    body.textContent = '';
    rows.forEach(function (m) {
      var k = c[m.id], s = state.stats[m.id];
      var tr = el('tr', { 'data-member': m.name, 'data-id': m.id });
      var name = el('th', { scope: 'row' });
      var sw = el('span', { class: 'swatch', 'aria-hidden': 'true' }); sw.style.background = colorOf(m.id);
      name.appendChild(sw); name.appendChild(document.createTextNode(m.name));
      tr.appendChild(name);
      tr.appendChild(el('td', { class: 'state state-' + m.state }, m.state));
      tr.appendChild(el('td', { class: 'zone' }, m.zone || '\\u2013'));
      tr.appendChild(el('td', { class: 'address' }, m.address));
      tr.appendChild(el('td', { class: 'num primaries' }, k.primary));
      tr.appendChild(el('td', { class: 'num backups' }, k.backup));
      tr.appendChild(el('td', { class: 'num learning' }, k.learner + k.handing));
      tr.appendChild(el('td', { class: 'num applied' }, s && s.appliedEpoch !== undefined ? s.appliedEpoch : '\\u2013'));
      tr.appendChild(el('td', { class: 'num memory' }, s ? fmtBytes(s.usedBytes) + (s.maxMemoryBytes ? ' / ' + fmtBytes(s.maxMemoryBytes) : '') : '\\u2013'));
      tr.appendChild(el('td', { class: 'num ops' }, s ? Math.round(s.opsPerSec) : '\\u2013'));
      body.appendChild(tr);
    });
  }

  function renderBalance() {
    var t = state.table; if (!t) return;
    var c = counts(t), list = $('balance'), live = t.members.filter(serving);
    var ideal = live.length ? t.partitionCount / live.length : 0;
    list.textContent = '';
    $('ideal').textContent = ideal ? ideal.toFixed(1) : '\\u2013';
    live.slice().sort(function (a, b) { return a.name < b.name ? -1 : 1; }).forEach(function (m) {
      var li = el('li', { 'data-member': m.name });
      li.appendChild(el('span', null, m.name));
      var meter = el('meter', { min: '0', max: String(Math.max(1, Math.ceil(ideal * 2))), low: String(Math.floor(ideal * 0.8)), high: String(Math.ceil(ideal * 1.2)), optimum: String(ideal), value: String(c[m.id].primary), 'aria-label': m.name + ' primaries against the ideal' });
      li.appendChild(meter);
      li.appendChild(el('span', { class: 'muted' }, c[m.id].primary + ' primaries, ' + c[m.id].backup + ' backups'));
      list.appendChild(li);
    });
  }

  function renderMap() {
    var t = state.table; if (!t) return;
    var map = $('map');
    if (map.children.length !== t.partitionCount) {
      map.textContent = '';
      for (var i = 0; i < t.partitionCount; i++) map.appendChild(el('span', { class: 'cell', 'data-partition': String(i) }));
    }
    var learning = 0, handing = 0, none = 0;
    for (var p = 0; p < t.partitionCount; p++) {
      var cell = map.children[p], cs = copies(t, p), prim = primaryOf(t, p);
      var cls = 'cell';
      if (prim === null) { cls += ' none'; none++; }
      if (cs.some(function (x) { return x.state === 'learner'; })) { cls += ' learning'; learning++; }
      if (cs.some(function (x) { return x.state === 'handing-off'; })) { cls += ' handover'; handing++; }
      if (state.located === p) cls += ' located';
      cell.className = cls;
      cell.style.background = prim === null ? '' : colorOf(prim);
      cell.title = 'partition ' + p + (t.terms ? ' (term ' + t.terms[p] + ')' : '') + ': ' + (cs.length ? cs.map(function (x) { var m = memberById(t, x.id); return (m ? m.name : x.id.slice(0, 8)) + ' ' + x.state; }).join(', ') : 'no copies');
    }
    $('map-note').textContent = t.partitionCount + ' partitions' + (learning ? ', ' + learning + ' syncing' : '') + (handing ? ', ' + handing + ' handing over' : '') + (none ? ', ' + none + ' without a primary' : '');
    var legend = $('legend'); legend.textContent = '';
    t.members.filter(serving).forEach(function (m) {
      var li = el('li'); var sw = el('span', { class: 'swatch', 'aria-hidden': 'true' }); sw.style.background = colorOf(m.id);
      li.appendChild(sw); li.appendChild(document.createTextNode(m.name)); legend.appendChild(li);
    });
  }

  function render() {
    var t = state.table; if (!t) return;
    $('epoch').textContent = t.epoch;
    $('member-count').textContent = t.members.filter(serving).length;
    $('partition-count').textContent = t.partitionCount;
    $('replicas').textContent = t.replicas;
    renderMembers(); renderBalance(); renderMap();
    document.body.setAttribute('data-epoch', String(t.epoch));
  }

  function onTable(ev) {
    var prev = state.table;
    if (!ev.snapshot) primaryChanges(prev, ev.table);
    state.table = ev.table;
    render();
  }

  var EVENT_TEXT = { 'member-joined': 'joined', 'member-active': 'is active', 'member-suspect': 'is suspect', 'member-dead': 'is dead', 'member-leaving': 'is leaving', 'member-left': 'left' };
  function onMember(type, ev) {
    var cls = type === 'member-dead' ? 'ev-dead' : type === 'member-suspect' ? 'ev-suspect' : '';
    addEvent(ev.member.name + ' ' + (EVENT_TEXT[type] || type) + (type === 'member-joined' && ev.incarnation > 1 ? ' again (incarnation ' + ev.incarnation + ')' : ''), cls, ev.epoch);
  }

  function frame(text) {
    var type = 'message', data = '';
    text.split('\\n').forEach(function (line) {
      if (line.indexOf('event:') === 0) type = line.slice(6).trim();
      else if (line.indexOf('data:') === 0) data += line.slice(5).replace(/^ /, '');
    });
    if (!data) return;
    var ev; try { ev = JSON.parse(data); } catch (e) { return; }
    if (type === 'table') onTable(ev);
    else if (type.indexOf('member-') === 0) onMember(type, ev);
  }

  function needToken(message) {
    $('auth').hidden = false;
    $('auth-message').textContent = message;
    setConn('token needed', 'down');
    return new Promise(function (resolve) { state.tokenWaiter = resolve; });
  }

  async function watch() {
    for (;;) {
      try {
        var since = state.table ? '?since=' + state.table.epoch : '';
        if (!state.table && state.openedAtEpoch === undefined) {
          // First connection: replay the last epochs' events so the timeline starts with recent history (the
          // coordinator sends a snapshot instead when they are no longer in its history).
          state.openedAtEpoch = 0;
          var h = await fetch('/healthz', { headers: headers() });
          if (h.ok) {
            var epoch = (await h.json()).epoch;
            state.openedAtEpoch = epoch;
            if (epoch > 0) since = '?since=' + Math.max(0, epoch - REPLAY_EPOCHS);
          }
        }
        var res = await fetch('/v1/watch' + since, { headers: headers() });
        if (res.status === 401 || res.status === 403) { await needToken('The coordinator asks for a token (' + res.status + ').'); continue; }
        if (res.status === 409 || res.status === 400) { state.table = null; continue; } // our epoch is unknown (a new coordinator state): start over
        if (!res.ok || !res.body) throw new Error('watch answered ' + res.status);
        setConn('live', 'live');
        var reader = res.body.getReader(), dec = new TextDecoder(), buf = '';
        for (;;) {
          var r = await reader.read();
          if (r.done) break;
          buf += dec.decode(r.value, { stream: true }).replace(/\\r\\n/g, '\\n');
          var i;
          while ((i = buf.indexOf('\\n\\n')) >= 0) { frame(buf.slice(0, i)); buf = buf.slice(i + 2); }
        }
      } catch (e) { /* reconnect below */ }
      setConn('reconnecting\\u2026', 'down');
      await sleep(1000);
    }
  }

  async function pollStats() {
    for (;;) {
      try {
        var res = await fetch('/v1/stats', { headers: headers() });
        if (res.status === 404) return; // an older coordinator: no statistics
        if (res.ok) {
          var body = await res.json(), next = {};
          body.members.forEach(function (s) { next[s.id] = s; });
          state.stats = next;
          renderMembers();
        }
      } catch (e) { /* next round */ }
      await sleep(2000);
    }
  }

  $('locate-form').addEventListener('submit', async function (e) {
    e.preventDefault();
    var key = $('key').value, out = $('locate-result');
    if (!key) return;
    out.textContent = 'locating\\u2026';
    try {
      var res = await fetch('/v1/locate/' + encodeURIComponent(key), { headers: headers() });
      var body = await res.json();
      if (!res.ok) { out.textContent = (body.error && body.error.message) || ('error ' + res.status); return; }
      var dl = el('dl');
      function row(k, v) { dl.appendChild(el('dt', null, k)); dl.appendChild(el('dd', null, v)); }
      var ref = function (m) { return m.name + ' (' + m.address + ')'; };
      row('Key', body.key);
      row('Slot', body.slot);
      row('Partition', body.partition);
      row('Primary', body.primary ? ref(body.primary) : 'nobody');
      row('Backups', body.backups.length ? body.backups.map(ref).join(', ') : 'none');
      var t = state.table;
      if (t && t.epoch === body.epoch) {
        var learners = copies(t, body.partition).filter(function (x) { return x.state === 'learner'; }).map(function (x) { var m = memberById(t, x.id); return m ? m.name : x.id; });
        if (learners.length) row('Syncing to', learners.join(', '));
      }
      row('Epoch', body.epoch);
      out.textContent = ''; out.appendChild(dl);
      state.located = body.partition; renderMap();
    } catch (err) { out.textContent = 'the coordinator did not answer'; }
  });

  $('token-form').addEventListener('submit', function (e) {
    e.preventDefault();
    state.token = $('token').value.trim();
    sessionStorage.setItem('ringleader-token', state.token);
    $('auth').hidden = true;
    if (state.tokenWaiter) { var w = state.tokenWaiter; state.tokenWaiter = null; w(); }
  });

  watch();
  pollStats();
})();
`;

const BODY = `<header>
  <h1>Ringleader</h1>
  <p id="summary"><span id="conn" class="conn" role="status">connecting\u2026</span> \u00b7 epoch <b id="epoch">\u2013</b> \u00b7 <b id="member-count">0</b> members \u00b7 <b id="partition-count">0</b> partitions \u00d7 <b id="replicas">0</b> copies</p>
</header>
<main>
  <section id="auth" hidden aria-labelledby="auth-h">
    <h2 id="auth-h">Token</h2>
    <p id="auth-message"></p>
    <form id="token-form"><label for="token">Control-plane token</label><input id="token" type="password" autocomplete="off"><button type="submit">Use token</button></form>
  </section>
  <section id="members-section" aria-labelledby="members-h">
    <h2 id="members-h">Members</h2>
    <div class="scroll">
      <table id="members">
        <caption class="visually-hidden">Members with their state, zone, address, partition counts, applied epoch, memory and operations per second</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Zone</th><th scope="col">Address</th><th scope="col" class="num">Primaries</th><th scope="col" class="num">Backups</th><th scope="col" class="num">Syncing</th><th scope="col" class="num">Applied epoch</th><th scope="col" class="num">Memory</th><th scope="col" class="num">Ops/s</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
  <section id="locate-section" aria-labelledby="locate-h">
    <h2 id="locate-h">Key locator</h2>
    <form id="locate-form" role="search"><label for="key">Key</label><input id="key" name="key" maxlength="4096" autocomplete="off" spellcheck="false" placeholder="e.g. customer:1232"><button type="submit">Locate</button></form>
    <output id="locate-result" for="key" aria-live="polite"></output>
  </section>
  <section id="balance-section" aria-labelledby="balance-h">
    <h2 id="balance-h">Primaries per member <span class="muted">(ideal <span id="ideal">\u2013</span>)</span></h2>
    <ul id="balance"></ul>
  </section>
  <section id="map-section" aria-labelledby="map-h">
    <h2 id="map-h">Partition map</h2>
    <p class="muted" id="map-note"></p>
    <ul class="legend" id="legend" aria-label="Colours: primary member"></ul>
    <div id="map" role="img" aria-label="One cell per partition, coloured by its primary; dashed outline: a copy is syncing; solid outline: a hand-over is running"></div>
  </section>
  <section id="events-section" aria-labelledby="events-h">
    <h2 id="events-h">Events</h2>
    <ol id="events" aria-live="polite"></ol>
  </section>
</main>`;

let cached: string | null = null;

/** The dashboard page (built once per process). */
export function dashboardPage(): string {
  cached ??= `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ringleader cluster</title>
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;
  return cached;
}
