import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseEvent } from './sse.js';

const stream = ': hello\n\nid: 3\nevent: table\ndata: {"a":1}\n\nevent: member-joined\ndata: x\ndata: y\n\r\ndata: plain\n\n';
const expected: SseEvent[] = [
  { event: 'table', data: '{"a":1}', id: '3' },
  { event: 'member-joined', data: 'x\ny', id: null },
  { event: 'message', data: 'plain', id: null },
];

function parse(chunks: string[]): SseEvent[] {
  const out: SseEvent[] = [];
  const p = new SseParser((e) => out.push(e));
  for (const c of chunks) p.push(c);
  return out;
}

test('parses a stream given as one chunk', () => {
  assert.deepEqual(parse([stream]), expected);
});

test('parses the same stream fed one character at a time', () => {
  assert.deepEqual(parse([...stream]), expected);
});

test('parses the stream split at every boundary', () => {
  for (let i = 0; i <= stream.length; i++) assert.deepEqual(parse([stream.slice(0, i), stream.slice(i)]), expected, `split at ${i}`);
});

test('refuses a line longer than the limit instead of buffering forever', () => {
  const p = new SseParser(() => {}, 10);
  assert.throws(() => p.push('data: 0123456789abcdef'), RangeError);
});
