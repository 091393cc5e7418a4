// Helper process of bench/coordinator.ts: opens N watch streams (`/v1/watch?delta=1`, one socket each, like TableWatch)
// and reports over IPC, for each epoch, when the first and the last stream held its complete table event (absolute
// times: performance.timeOrigin + performance.now(), comparable across processes). Runs apart from the process that
// simulates the members so that reading 1000 streams and sending 2000 heartbeats/s do not delay each other.
import { get } from 'node:http';
import { connect } from 'node:net';

const url = new URL(process.env['WATCH_URL']!);
const count = Number(process.env['WATCH_COUNT']);
const now = () => performance.timeOrigin + performance.now();
const byEpoch = new Map<number, { n: number; first: number; last: number }>();

function complete(epoch: number, at: number): void {
  let e = byEpoch.get(epoch);
  if (!e) byEpoch.set(epoch, (e = { n: 0, first: at, last: at }));
  e.n++;
  e.first = Math.min(e.first, at);
  e.last = Math.max(e.last, at);
  if (e.n === count) {
    process.send!({ epoch, first: e.first, last: e.last });
    byEpoch.delete(epoch);
  }
}

/** Scans a stream's text for `id: E` and then the blank line that ends that event, without parsing the JSON. */
function scanner(): (chunk: string, at: number) => void {
  let carry = '';
  let pending: number | null = null;
  return (chunk, at) => {
    let text = carry + chunk;
    let pos = 0;
    for (;;) {
      if (pending === null) {
        const k = text.startsWith('id: ', pos) ? pos - 1 : text.indexOf('\nid: ', pos);
        if (k < -1 || (k === -1 && !text.startsWith('id: ', pos))) break;
        const start = k + 5;
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        pending = Number(text.slice(start, nl));
        pos = nl;
      } else {
        const end = text.indexOf('\n\n', pos);
        if (end < 0) break;
        complete(pending, at);
        pending = null;
        pos = end + 1;
      }
    }
    text = text.slice(pos);
    carry = text.length > 16 ? text.slice(-16) : text; // enough to hold a marker split across chunks
  };
}

// WATCH_RAW=1: a plain TCP socket sending the GET itself and scanning the bytes as they arrive (the HTTP chunk
// framing between events does not hide the markers: each event is one chunk). It measures receipt at the socket and
// costs the shared CPU a fraction of an HTTP client's parsing, which competes with the coordinator being measured.
const raw = process.env['WATCH_RAW'] === '1';
for (let i = 0; i < count; i++) {
  const scan = scanner();
  if (raw) {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(`GET /v1/watch?delta=1 HTTP/1.1\r\nhost: ${url.host}\r\naccept: text/event-stream\r\n\r\n`);
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => scan(chunk, now()));
    socket.on('error', () => {});
    continue;
  }
  const req = get({ host: url.hostname, port: url.port, path: '/v1/watch?delta=1', agent: false }, (res) => {
    res.setEncoding('latin1');
    res.on('data', (chunk: string) => scan(chunk, now()));
  });
  req.on('error', () => {});
}
process.on('disconnect', () => process.exit(0));
