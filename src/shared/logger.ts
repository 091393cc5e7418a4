import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** pino level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'. */
  level?: string;
  /** Component name, shown as `name` in every line. */
  name?: string;
  /** Human-readable lines instead of JSON lines; default: when stdout is a terminal. */
  pretty?: boolean;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/**
 * Formats one pino JSON line for people: `12:00:01.234 INFO  coordinator: message key=value ...`. Lines that are not
 * JSON objects pass through unchanged. Pure (exported for tests).
 */
export function prettyLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (rec === null || typeof rec !== 'object') return line;
  const t = typeof rec['time'] === 'number' ? new Date(rec['time']).toISOString().slice(11, 23) : '';
  const level = (LEVEL_NAMES[rec['level'] as number] ?? String(rec['level'])).padEnd(5);
  const name = typeof rec['name'] === 'string' ? `${rec['name']}: ` : '';
  const extra = Object.entries(rec)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${level} ${name}${typeof rec['msg'] === 'string' ? rec['msg'] : ''}${extra ? `  ${extra}` : ''}`;
}

/** A stream that turns pino's JSON lines into prettyLine() lines on stdout (no worker thread, no extra dependency). */
function prettyStream(): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      if (lines.length > 0) process.stdout.write(lines.map(prettyLine).join('\n') + '\n');
      done();
    },
  });
}

/** A pino logger writing JSON lines to stdout, or readable lines on a terminal. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['RINGLEADER_LOG_LEVEL'] ?? 'info';
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) return pino({ level, name: options.name }, prettyStream());
  return pino({ level, name: options.name });
}

/** A logger that drops everything: the default for library code and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
