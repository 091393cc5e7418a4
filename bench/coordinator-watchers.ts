// Helper process of bench/coordinator.ts: opens N watch streams (`/v1/watch?delta=1`, one socket each, like TableWatch)
// and reports over IPC, for each epoch, when the first and the last stream held its complete table event (absolute
// times: performance.timeOrigin + performance.now(), comparable across processes). Runs apart from the process that
// simulates the members so that reading 1000 streams and sending 2000 heartbeats/s do not delay each other.
import { get } from 'node:http';

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

for (let i = 0; i < count; i++) {
  let carry = '';
  let pending: number | null = null;
  const req = get({ host: url.hostname, port: url.port, path: '/v1/watch?delta=1', agent: false }, (res) => {
    res.setEncoding('latin1');
    res.on('data', (chunk: string) => {
      const at = now();
      // Detect `id: E` then the blank line that ends that event's data, without parsing the JSON.
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
    });
  });
  req.on('error', () => {});
}
process.on('disconnect', () => process.exit(0));
