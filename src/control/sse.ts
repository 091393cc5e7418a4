/**
 * An incremental Server-Sent-Events parser (the subset of the WHATWG format the coordinator emits, parsed fully):
 * feed it text chunks split anywhere, it calls `onEvent` once per complete event. Comment lines (`:`) are ignored but
 * count as activity for idle detection by the caller.
 */
export interface SseEvent {
  /** `event:` field; 'message' when absent. */
  event: string;
  /** `data:` lines joined with '\n'. */
  data: string;
  /** `id:` field of this event, or null when it had none. */
  id: string | null;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | null = null;

  /**
   * @param onEvent called for each dispatched event; must not throw.
   * @param maxLineBytes a line longer than this is a protocol error (protects against a stream that never ends a line).
   */
  constructor(
    private readonly onEvent: (e: SseEvent) => void,
    private readonly maxLineBytes = 64 * 1024 * 1024,
  ) {}

  /** Feeds one decoded text chunk. Throws RangeError when a single line exceeds maxLineBytes. */
  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl < 0) break;
      let line = this.buffer.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      start = nl + 1;
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxLineBytes) throw new RangeError(`SSE line longer than ${this.maxLineBytes} bytes`);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.onEvent({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
      this.event = '';
      this.data = [];
      this.id = null;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id') this.id = value;
  }
}
